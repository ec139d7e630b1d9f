"""Malformed list pages, for the ``malformed_rate`` fault."""

from __future__ import annotations

import orjson

from pipelines.simulator.http.answer import Answer


def applicable_kinds(answer: Answer) -> frozenset[str]:
    """The malformations that make sense for a list answer.

    Args:
        answer: The list answer.

    Returns:
        ``not_json`` and ``not_list`` always; ``missing_key`` / ``bad_timestamp`` when the page
        has rows with such a field.
    """
    kinds = {"not_json", "not_list"}
    if answer.body and answer.key_field:
        kinds.add("missing_key")
    if answer.body and answer.time_field:
        kinds.add("bad_timestamp")
    return frozenset(kinds)


def malform(answer: Answer, kind: str) -> bytes:
    """Serialize a list answer, broken in the requested way.

    Args:
        answer: The list answer (not modified).
        kind: ``not_json`` (the body is cut in half), ``not_list`` (an object wrapping the
            rows), ``missing_key`` (the middle row lacks its key field) or ``bad_timestamp``
            (the middle row's timestamp is ``"not-a-date"``).

    Returns:
        The response body.
    """
    rows = list(answer.body)
    if kind == "not_json":
        data = orjson.dumps(rows)
        return data[: max(1, len(data) // 2)]
    if kind == "not_list":
        return orjson.dumps({"results": rows, "count": len(rows)})
    middle = len(rows) // 2
    victim = dict(rows[middle])
    if kind == "missing_key" and answer.key_field:
        victim.pop(answer.key_field, None)
    elif answer.time_field:
        victim[answer.time_field] = "not-a-date"
    rows[middle] = victim
    return orjson.dumps(rows)
