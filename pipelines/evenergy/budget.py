"""The run's request budget: the API's rolling rate limit and the run's deadline.

Request count, not CPU, bounds a nightly run (1000 requests per rolling hour, shared by
every client of the same credentials). The budget reads `X-RateLimit-Remaining`, keeps a
reserve for the other clients, waits out a 429's `Retry-After` when the deadline allows,
and otherwise stops the extraction cleanly so that what was fetched is still loaded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping

from pipelines.evenergy.errors import DeadlineReached, RateLimitBudgetExhausted

log = logging.getLogger(__name__)


class RequestBudget:
    """Shared by every request of a run. Thread-safe."""

    def __init__(
        self,
        reserve: int = 0,
        max_duration_seconds: float | None = None,
        window_seconds: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reserve = reserve
        self._window = window_seconds
        self._sent: deque[float] = deque()  # when this run's requests in the window went out
        self._clock = clock
        self._deadline = None if not max_duration_seconds else clock() + max_duration_seconds
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._stop_reason: Exception | None = None
        self.limit: int | None = None
        self.remaining: int | None = None
        self.requests_made = 0
        self._in_flight = 0
        self._peak_in_flight = 0
        self.requests_by_label: Counter[str] = Counter()
        self.rate_limited = 0  # 429 answers
        self.reserve_waits = 0  # waits at the reserve, which spare the 429s
        self._announced_at: float | None = None  # the last "at the reserve" line (one a window)

    @property
    def stop_reason(self) -> Exception | None:
        """Why the extraction stopped early, or None while it may go on."""
        return self._stop_reason

    def acquire(self, label: str = "") -> None:
        """Account for one request about to be sent.

        At the reserve, waits until the window frees a request (its own oldest request
        leaves the rolling window) when the deadline allows; otherwise stops the run.

        Raises:
            ExtractionStopped: the run must stop (deadline, or no request free before it).
        """
        while True:
            with self._lock:
                now = self._check_deadline()
                if self.remaining is None or self.remaining > self.reserve:
                    self._take(label, now)
                    return
                wake = self._window_frees_at(now)
                if self._deadline is not None and wake > self._deadline:
                    self._stop(
                        RateLimitBudgetExhausted(
                            f"{self.remaining} requests left in the rate-limit window, reserve is "
                            f"{self.reserve}, none free up before the deadline"
                        )
                    )
            self.reserve_waits += 1
            self._announce_wait(now, wake)
            if self._stopped.wait(max(wake - now, 0.0)) and self._stop_reason is not None:
                raise self._stop_reason
            with self._lock:
                self._free_expired(self._clock())

    def _announce_wait(self, now: float, wake: float) -> None:
        """One line a window, not one per waiting worker and request (cron reads these)."""
        if self._announced_at is not None and now - self._announced_at < self._window:
            log.debug("at the rate-limit reserve: waiting %.1f s", wake - now)
            return
        self._announced_at = now
        log.info(
            "at the rate-limit reserve (%s left, reserve %d): waiting for the window to free "
            "requests, first in %.0f s",
            self.remaining, self.reserve, max(wake - now, 0.0),
        )  # fmt: skip

    def _check_deadline(self) -> float:
        if self._stop_reason is not None:
            raise self._stop_reason
        now = self._clock()
        if self._deadline is not None and now >= self._deadline:
            self._stop(DeadlineReached("the run's max_duration has passed"))
        return now

    def _take(self, label: str, now: float) -> None:
        if self.remaining is not None:
            self.remaining -= 1  # optimistic: other threads see it before the answer
        self._in_flight += 1
        self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        self.requests_made += 1
        self.requests_by_label[label] += 1
        self._sent.append(now)
        while self._sent and self._sent[0] <= now - self._window:
            self._sent.popleft()

    def _window_frees_at(self, now: float) -> float:
        """When the oldest request of this run leaves the rolling window; if the window is
        full of other clients' requests, a fair share of it."""
        self._free_expired(now)
        if self._sent:
            return self._sent[0] + self._window
        return now + self._window / max(self.limit or 1000, 1)

    def _free_expired(self, now: float) -> None:
        freed = 0
        while self._sent and self._sent[0] <= now - self._window:
            self._sent.popleft()
            freed += 1
        if freed and self.remaining is not None:
            self.remaining += freed
        elif not self._sent:
            self.remaining = None  # nothing of ours to count on: the next answer tells

    def release(self) -> None:
        """The request `acquire` accounted for has been answered (or has failed)."""
        with self._lock:
            self._in_flight -= 1

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the rate-limit headers of an answer (after `release`).

        The answer's count does not include the requests still in flight, which `acquire`
        has already taken off: they are taken off again here.
        """
        with self._lock:
            limit, remaining = (
                headers.get("X-RateLimit-Limit"),
                headers.get("X-RateLimit-Remaining"),
            )
            if limit is not None and limit.strip().isdigit():
                self.limit = int(limit)
            if remaining is not None and remaining.strip().lstrip("-").isdigit():
                self.remaining = self._estimate(int(remaining) - self._in_flight)

    def _estimate(self, observed: int) -> int:
        """Answers processed out of order carry stale counts, too high by at most the peak
        number of requests in flight; a larger rise is the rolling window freeing requests."""
        if self.remaining is None or observed <= self.remaining:
            return observed
        if observed > self.remaining + self._peak_in_flight:
            return observed
        return self.remaining

    def wait_out_rate_limit(self, retry_after_seconds: float) -> None:
        """After a 429: sleep until the window frees up, unless the deadline comes first."""
        with self._lock:
            self.rate_limited += 1
            if self._deadline is not None and self._clock() + retry_after_seconds > self._deadline:
                self._stop(
                    DeadlineReached(
                        f"rate limited for {retry_after_seconds:.0f} s, beyond the run's deadline"
                    )
                )
            self.remaining = None  # unknown until the next answer
        log.warning("rate limited: waiting %.0f s as Retry-After asks", retry_after_seconds)
        if self._stopped.wait(retry_after_seconds) and self._stop_reason is not None:
            raise self._stop_reason

    def stop(self, reason: Exception) -> None:
        """Stop every further request of the run (e.g. on SIGTERM)."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
                self._stopped.set()

    def _stop(self, reason: Exception) -> None:
        if self._stop_reason is None:
            log.warning("stopping extraction: %s", reason)
            self._stop_reason = reason
            self._stopped.set()
        raise self._stop_reason
