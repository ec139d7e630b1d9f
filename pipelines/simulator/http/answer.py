"""What an endpoint answers, before it becomes an HTTP response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Answer:
    """A list page (with its cursors) or a single resource.

    Attributes:
        body: The JSON-ready body (a list of rows for a list endpoint).
        paginated: Whether the answer carries a ``Link`` header.
        has_previous: Whether rows exist before the page.
        has_next: Whether rows exist after the page.
        first_cursor: Cursor value of the first row (for ``page_before``).
        last_cursor: Cursor value of the last row (for ``page_after``).
        key_field: The row field a ``missing_key`` fault removes.
        time_field: The row field a ``bad_timestamp`` fault corrupts (None: no timestamp).
    """

    body: Any
    paginated: bool = False
    has_previous: bool = False
    has_next: bool = False
    first_cursor: str | None = None
    last_cursor: str | None = None
    key_field: str | None = None
    time_field: str | None = None


def page_answer(
    rows: list[dict[str, Any]],
    has_previous: bool,
    has_next: bool,
    cursor_field: str,
    key_field: str,
    time_field: str | None,
) -> Answer:
    """Wrap a rendered page.

    Args:
        rows: The rendered rows, in listing order.
        has_previous: Whether rows exist before the page.
        has_next: Whether rows exist after the page.
        cursor_field: The row field whose value is the cursor.
        key_field: The row's key field.
        time_field: The row's main timestamp field, if any.

    Returns:
        The answer.
    """
    return Answer(
        body=rows,
        paginated=True,
        has_previous=has_previous,
        has_next=has_next,
        first_cursor=rows[0][cursor_field] if rows else None,
        last_cursor=rows[-1][cursor_field] if rows else None,
        key_field=key_field,
        time_field=time_field,
    )
