"""A reader of the lake's published models in a thread of its own (its own DuckDB instance
and connection): what it saw, query by query, while something else ran."""

from __future__ import annotations

import threading
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
    """Fingerprint `schema` in a loop until the block ends; yields a function returning the
    fingerprints seen (an error of the reader's is one of them, as its text)."""
    seen: list[Any] = []
    stop = threading.Event()

    def loop() -> None:
        with lake.connect(the_lake, read_only=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(fingerprint(conn, schema))
                except Exception as error:  # the test asserts there is none
                    seen.append(f"reader failed: {error}")
                stop.wait(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield lambda: seen
    finally:
        stop.set()
        thread.join(timeout=60)
