"""HTTP client of the ev.energy v2 API: auth, versioning, paging, errors and retries.

The retry policy is this module's own: dlt's stock one caps `Retry-After` at 300 s and
gives up after 5 attempts, which fails against this API's hour-long `Retry-After`.
- connection errors, timeouts, 5xx and unreadable bodies (not JSON, or not the documented
  array): exponential backoff with full jitter, a bounded number of attempts, then
  `ApiUnavailable` / `MalformedPage`;
- 401: one token refresh, then `ApiProblem`;
- 429: `RequestBudget.wait_out_rate_limit` (waits or stops the run);
- any other 4xx: `ApiProblem` with the problem's title and detail, not retried.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from pipelines.evenergy.auth import TokenSource
from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.errors import (
    ApiProblem,
    ApiUnavailable,
    MalformedPage,
    PaginationLoop,
)
from pipelines.evenergy.paging import next_page_url
from pipelines.evenergy.parsing import http_date
from pipelines.evenergy.settings import API_VERSION, VERSION_HEADER

log = logging.getLogger(__name__)

_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried."""

    max_attempts: int = 6
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 60.0

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff before retry number `attempt` (1-based)."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


class EvEnergyClient:
    """Thread-safe GET client for the API's JSON endpoints."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        budget: RequestBudget,
        retry: RetryPolicy = RetryPolicy(),
        timeout_seconds: float = 30,
        max_in_flight: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._tokens, self.budget, self._retry = tokens, budget, retry
        self._timeout, self._sleep = timeout_seconds, sleep
        self._session = requests.Session()
        # Several resources read partitions at once: this caps the requests in flight for the
        # whole run, and the pool keeps one connection per slot alive.
        self._slots = threading.BoundedSemaphore(max_in_flight)
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max_in_flight)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({VERSION_HEADER: API_VERSION, "Accept": "application/json"})
        self._answered_at: datetime | None = None  # the `Date` of the API's newest answer

    def api_time(self) -> datetime | None:
        """The API's clock: the `Date` header of its newest answer, the token endpoint's
        before any other (fetching a token if none was yet); None if it sends no `Date`."""
        if self._answered_at is None and self._tokens.answered_at is None:
            self._tokens.token()
        return self._answered_at or self._tokens.answered_at

    def pages(self, path: str, params: dict[str, Any], label: str) -> Iterator[list[Any]]:
        """Yield each page of a list endpoint, following `rel="next"` until the last page.

        Raises:
            PaginationLoop: a next link repeats a page already read.
            MalformedPage: a body is not a JSON array, even after retries.
        """
        for body, _ in self.linked_pages(path, params, label):
            yield body

    def linked_pages(
        self, path: str, params: dict[str, Any], label: str
    ) -> Iterator[tuple[list[Any], bool]]:
        """As `pages`, each page with whether a next page exists (a reader that stops after
        a page knows whether it stopped short)."""
        url: str | None = self.base_url + path
        query: dict[str, Any] | None = params
        seen: set[str] = set()
        while url is not None:
            response, body = self._get_json(url, query, label, expect_list=True)
            seen.add(response.url)
            following = next_page_url(response)
            yield body, following is not None
            url, query = following, None
            if url is not None and url in seen:
                raise PaginationLoop(f"next link repeats a page already read ({_path(url)})")

    def get_object(self, path: str, label: str, params: dict[str, Any] | None = None) -> Any:
        """GET one resource and return its decoded JSON body."""
        return self._get_json(self.base_url + path, params, label)[1]

    def _get_json(
        self, url: str, params: dict[str, Any] | None, label: str, expect_list: bool = False
    ) -> tuple[requests.Response, Any]:
        refreshed = False
        failures = 0
        while True:
            token = self._tokens.token()
            try:
                response = self._send(url, params, token, label)
            except _TRANSIENT as error:
                failures = self._back_off(failures, ApiUnavailable, f"{type(error).__name__}", url)
                continue
            self.budget.observe(response.headers)
            self._answered_at = http_date(response.headers.get("Date")) or self._answered_at
            status = response.status_code
            if status == 401 and not refreshed:
                self._tokens.refresh(token)
                refreshed = True
                continue
            if status == 429:
                self.budget.wait_out_rate_limit(_retry_after(response))
                continue
            if status >= 500:
                failures = self._back_off(failures, ApiUnavailable, f"HTTP {status}", url)
                continue
            if status >= 400:
                raise ApiProblem.from_body(status, _decode(response), _path(url))
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                failures = self._back_off(failures, MalformedPage, "body is not JSON", url)
                continue
            if expect_list and not isinstance(body, list):
                what = f"expected a JSON array, got {type(body).__name__}"
                failures = self._back_off(failures, MalformedPage, what, url)
                continue
            return response, body

    def _send(
        self, url: str, params: dict[str, Any] | None, token: str, label: str
    ) -> requests.Response:
        """One HTTP request, accounted for in the budget and holding one in-flight slot."""
        self.budget.acquire(label)
        try:
            with self._slots:
                return self._session.get(
                    url,
                    params=params,
                    timeout=self._timeout,
                    headers={"Authorization": f"Bearer {token}"},
                )
        finally:
            self.budget.release()

    def _back_off(self, failures: int, error: type[Exception], what: str, url: str) -> int:
        failures += 1
        if failures >= self._retry.max_attempts:
            raise error(f"{what} after {failures} attempts ({_path(url)})")
        delay = self._retry.delay(failures)
        log.info("%s on %s: retry %d in %.1f s", what, _path(url), failures, delay)
        self._sleep(delay)
        return failures

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(1.0, float(value))
    except ValueError:
        return 60.0  # an HTTP-date or garbage: wait a minute rather than hammer the API


def _decode(response: requests.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _path(url: str) -> str:
    """The URL without scheme and host, for log lines and error messages."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
