"""Rolling-window rate limiting on the wall clock, as the real API counts requests."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

UNLIMITED_HEADER_VALUE = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request against the limit.

    Attributes:
        allowed: Whether the request may proceed (it then used one unit of budget).
        limit: Value of ``X-RateLimit-Limit``.
        remaining: Value of ``X-RateLimit-Remaining`` after this request.
        retry_after: Seconds until a request would be allowed (only when refused).
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: int = 0


class RateLimiter:
    """Counts requests in a rolling window; a refused request does not consume budget."""

    def __init__(self, max_retry_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Create the limiter.

        Args:
            max_retry_after: Upper bound of the ``Retry-After`` answer, in seconds.
            clock: Wall-clock source (monotonic seconds).
        """
        self._max_retry_after = max_retry_after
        self._clock = clock
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, limit: int | None, window: float) -> Decision:
        """Count one request.

        Args:
            limit: Requests allowed per window (None: unlimited, nothing is recorded).
            window: Window length in seconds.

        Returns:
            Whether it is allowed, with the header values.
        """
        if limit is None:
            return Decision(True, UNLIMITED_HEADER_VALUE, UNLIMITED_HEADER_VALUE)
        now = self._clock()
        with self._lock:
            hits = self._hits
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                oldest = hits[-limit] if limit > 0 else now
                wait = min(self._max_retry_after, oldest + window - now)
                return Decision(False, limit, 0, max(1, math.ceil(wait)))
            hits.append(now)
            return Decision(True, limit, limit - len(hits))

    def reset(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._hits.clear()
