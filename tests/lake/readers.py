"""A reader of the lake's published models in a process of its own (as an analyst's session
on another machine would be): what it saw, query by query, while something else ran."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pipelines import lake

Fingerprint = tuple[tuple[str, int, Any], ...]


def fingerprint(conn: Any, schema: str = "analytics") -> Fingerprint:
    """Per table or view of `schema`: its name, row count and a hash of all its rows, read in
    one transaction (one snapshot of the lake: a commit between two queries would otherwise
    look like a mix)."""
    conn.execute("begin")
    try:
        return _fingerprint(conn, schema)
    finally:
        conn.execute("rollback")


def _fingerprint(conn: Any, schema: str) -> Fingerprint:
    names = [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = ? order by 1",
            [schema],
        ).fetchall()
    ]
    prints = []
    for name in names:
        row = conn.execute(
            f'select count(*), sum(hash(t::varchar)) from "{schema}"."{name}" as t'
        ).fetchone()
        assert row is not None
        prints.append((name, int(row[0]), row[1]))
    return tuple(prints)


@contextmanager
def reading(the_lake: lake.Lake, schema: str = "analytics") -> Iterator[Callable[[], list[Any]]]:
    """Fingerprint `schema` in a loop, in another process, from before the block starts until
    it ends; yields a function returning the fingerprints seen (an error of the reader's is
    one of them, as its text)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, no inherited DuckDB
    stop = context.Event()
    results: Any = context.Queue()
    attach = (the_lake.attach_sql(read_only=True), the_lake.name)  # a Lake does not pickle
    reader = context.Process(target=_read_until, args=(attach, schema, stop, results))
    reader.start()
    assert results.get(timeout=120) == READY, "the reader did not start"
    seen: list[Any] = []
    try:
        yield lambda: seen
    finally:
        stop.set()
        while (item := results.get(timeout=120)) != DONE:
            seen.append(item)
        reader.join(timeout=60)


READY, DONE = "reader ready", "reader done"


def _read_until(attach: tuple[str, str], schema: str, stop: Any, results: Any) -> None:
    with lake.attached(*attach) as conn:
        results.put(READY)
        while not stop.is_set():
            try:
                results.put(fingerprint(conn, schema))
            except Exception as error:  # the test asserts there is none
                results.put(f"reader failed: {error}")
            stop.wait(0.05)
    results.put(DONE)
