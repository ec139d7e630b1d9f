"""Cursor pagination over a listing, independent of HTTP.

A listing is a run of positions ``[start, end)`` in listing order (newest first for logs and
sub-sessions, id order for EVSEs) and a predicate telling which positions are visible and
match the filters. ``page_after`` keeps positions after a cursor, ``page_before`` the ones
before it (the page nearest to the cursor). Both sides report whether more rows exist, so the
caller can write ``about:blank`` exactly when a side is empty.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PageSlice:
    """Positions of one page, in listing order, and whether rows exist on either side."""

    positions: list[int]
    has_previous: bool
    has_next: bool


def _any_forward(a: int, b: int, ok: Callable[[int], bool]) -> bool:
    """Whether a position in [a, b) satisfies ok (scanning forward)."""
    return any(ok(p) for p in range(a, b))


def _any_backward(a: int, b: int, ok: Callable[[int], bool]) -> bool:
    """Whether a position in [a, b) satisfies ok (scanning backward from b - 1)."""
    return any(ok(p) for p in range(b - 1, a - 1, -1))


def select_page(
    start: int,
    end: int,
    ok: Callable[[int], bool],
    size: int,
    after_pos: int | None = None,
    before_pos: int | None = None,
) -> PageSlice:
    """Select one page of a listing.

    Args:
        start: First candidate position.
        end: One past the last candidate position.
        ok: Whether a position is visible and matches the filters.
        size: Page size.
        after_pos: Keep only positions strictly after this one (``page_after``).
        before_pos: Keep only positions strictly before this one (``page_before``); the page
            is then the ``size`` matching positions nearest to it.

    Returns:
        The page. A first page (no cursor) never has a previous side.
    """
    if before_pos is None:
        return _forward(start, end, ok, size, after_pos)
    return _backward(start, min(end, before_pos), end, ok, size)


def _forward(
    start: int, end: int, ok: Callable[[int], bool], size: int, after_pos: int | None
) -> PageSlice:
    """A first page, or the page after a cursor."""
    rows: list[int] = []
    p = start if after_pos is None else max(start, after_pos + 1)
    while p < end and len(rows) < size:
        if ok(p):
            rows.append(p)
        p += 1
    has_next = _any_forward(p, end, ok)
    has_previous = after_pos is not None and bool(rows) and _any_backward(start, rows[0], ok)
    return PageSlice(rows, has_previous, has_next)


def _backward(start: int, hi: int, end: int, ok: Callable[[int], bool], size: int) -> PageSlice:
    """The page just before a cursor (positions < hi), nearest rows first kept."""
    rows: list[int] = []
    p = hi - 1
    while p >= start and len(rows) < size:
        if ok(p):
            rows.append(p)
        p -= 1
    rows.reverse()
    has_previous = _any_backward(start, p + 1, ok)
    has_next = bool(rows) and _any_forward(rows[-1] + 1, end, ok)
    return PageSlice(rows, has_previous, has_next)


def descending_bounds(
    keys: Sequence[int],
    low: int | None,
    high: int,
    after: int | None,
    before: int | None,
) -> tuple[int, int, int | None, int | None]:
    """Map a newest-first listing over ascending ``keys`` to positions.

    Position ``p`` is array index ``top - 1 - p`` where ``top`` is the number of keys <= high.

    Args:
        keys: Sorted ascending keys (timestamps).
        low: Keep keys >= low (None: no bound).
        high: Keep keys <= high.
        after: ``page_after`` key: keep keys strictly smaller.
        before: ``page_before`` key: keep keys strictly greater.

    Returns:
        ``(top, end, after_pos, before_pos)`` where the candidate positions are [0, end).
    """
    top = bisect.bisect_right(keys, high)
    bottom = 0 if low is None else bisect.bisect_left(keys, low, 0, top)
    end = max(0, top - bottom)
    after_pos = None if after is None else top - bisect.bisect_left(keys, after, 0, top) - 1
    before_pos = None if before is None else top - bisect.bisect_right(keys, before, 0, top)
    return top, end, after_pos, before_pos
