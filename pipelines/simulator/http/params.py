"""Query-string parameters: parsing and validation into problem documents on error."""

from __future__ import annotations

from pipelines.simulator.http.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from pipelines.simulator.http.problems import bad_pagination, bad_parameter
from pipelines.simulator.world.times import parse_timestamp

Query = dict[str, list[str]]
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def single(query: Query, name: str) -> str | None:
    """The last value of a parameter, or None when absent.

    Args:
        query: Parsed query string.
        name: Parameter name.

    Returns:
        The value, or None.
    """
    values = query.get(name)
    return values[-1] if values else None


def page_size(query: Query) -> int:
    """The ``page_size`` parameter (default 25, 1..100).

    Args:
        query: Parsed query string.

    Returns:
        The page size.

    Raises:
        ApiError: 400 when not an integer in range.
    """
    text = single(query, "page_size")
    if text is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise bad_pagination("page_size") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_pagination("page_size")
    return size


def cursors(query: Query) -> tuple[str | None, str | None]:
    """The ``page_after`` and ``page_before`` cursors (at most one of them).

    Args:
        query: Parsed query string.

    Returns:
        ``(page_after, page_before)``.

    Raises:
        ApiError: 400 when both are given or one is empty.
    """
    after, before = single(query, "page_after"), single(query, "page_before")
    if after is not None and before is not None:
        raise bad_pagination("page_before")
    if after == "" or before == "":
        raise bad_pagination("page_after" if after == "" else "page_before")
    return after, before


def timestamp_cursor(value: str | None, name: str) -> int | None:
    """Parse a timestamp cursor.

    Args:
        value: The cursor text, or None.
        name: Parameter name (for the error).

    Returns:
        Microseconds since the epoch, or None.

    Raises:
        ApiError: 400 when not a timestamp.
    """
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise bad_pagination(name) from None


def timestamp(query: Query, name: str) -> int | None:
    """A timestamp filter parameter.

    Args:
        query: Parsed query string.
        name: Parameter name, e.g. ``sampled_at__gte``.

    Returns:
        Microseconds since the epoch, or None when absent.

    Raises:
        ApiError: 400 when not an ISO 8601 timestamp.
    """
    text = single(query, name)
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise bad_parameter(name, text) from None


def boolean(query: Query, name: str) -> bool | None:
    """A boolean filter parameter (``true``/``false``, also ``1``/``0``).

    Args:
        query: Parsed query string.
        name: Parameter name.

    Returns:
        The value, or None when absent.

    Raises:
        ApiError: 400 for anything else.
    """
    text = single(query, name)
    if text is None:
        return None
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise bad_parameter(name, text)


def expand(query: Query) -> frozenset[str]:
    """The ``expand`` values (repeated or comma-separated).

    Args:
        query: Parsed query string.

    Returns:
        The set of requested expansions.
    """
    return frozenset(
        v.strip() for raw in query.get("expand", []) for v in raw.split(",") if v.strip()
    )
