"""Link-header pagination (RFC 8288) as the ev.energy API writes it.

dlt's stock `HeaderLinkPaginator` follows any non-empty `rel="next"`, so it would fetch
`about:blank`, which this API writes for a missing side (NOTES.md, "Pagination").
"""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from pipelines.evenergy.settings import BLANK_LINK


def next_page_url(response: requests.Response) -> str | None:
    """The absolute URL of the next page, or None on the last page.

    No Link header, no `rel="next"`, an empty link and `about:blank` all mean "last
    page"; a relative link is resolved against the URL of the page that carried it.
    """
    header = response.headers.get("Link")
    if not header:
        return None
    for link in requests.utils.parse_header_links(header):
        if "next" not in str(link.get("rel", "")).split():
            continue
        target = str(link.get("url", "")).strip()
        if not target or target == BLANK_LINK:
            return None
        return urljoin(response.url, target)
    return None
