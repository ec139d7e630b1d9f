"""RFC 8288 ``Link`` headers of list pages: both sides always present, ``about:blank`` when a
side has no rows; URLs are absolute and keep every original query parameter."""

from __future__ import annotations

from urllib.parse import quote, urlencode

BLANK = "about:blank"
_CURSORS = frozenset({"page_after", "page_before"})


def page_url(origin: str, path: str, pairs: list[tuple[str, str]], cursor: tuple[str, str]) -> str:
    """Build the URL of a neighbouring page.

    Args:
        origin: ``http://host:port`` as the client addressed the server.
        path: The request path (e.g. ``/v2/evses``).
        pairs: The request's query parameters, in order.
        cursor: ``("page_after" | "page_before", value)``.

    Returns:
        The absolute URL, without the request's own cursor and with the new one.
    """
    kept = [(k, v) for k, v in pairs if k not in _CURSORS]
    kept.append(cursor)
    return f"{origin}{path}?{urlencode(kept, quote_via=quote, safe=':')}"


def link_header(previous: str | None, next_: str | None) -> str:
    """Format the ``Link`` header.

    Args:
        previous: URL of the previous page, or None.
        next_: URL of the next page, or None.

    Returns:
        ``<prev>; rel="previous", <next>; rel="next"`` with ``about:blank`` for a missing side.
    """
    return f'<{previous or BLANK}>; rel="previous", <{next_ or BLANK}>; rel="next"'
