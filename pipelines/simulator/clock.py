"""The controllable simulated clock: what "now" is for the API's visibility rules."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from pipelines.simulator.times import from_us, to_us


class Clock:
    """A thread-safe simulated clock bounded by the world's history.

    It only moves when told to (``set`` / ``advance``); it may go back in time but never
    before the start of the history nor past its horizon.
    """

    def __init__(self, now: datetime, start: datetime, horizon: datetime) -> None:
        """Create the clock.

        Args:
            now: Initial value.
            start: Earliest allowed value.
            horizon: Latest allowed value.
        """
        self._start_us, self._horizon_us = to_us(start), to_us(horizon)
        self._lock = threading.Lock()
        self._now_us = self._check(to_us(now))

    def _check(self, us: int) -> int:
        """Validate a new value.

        Args:
            us: Candidate value in microseconds.

        Returns:
            The value.

        Raises:
            ValueError: If it lies outside [start, horizon].
        """
        if not self._start_us <= us <= self._horizon_us:
            raise ValueError(
                f"clock must stay within [{from_us(self._start_us).isoformat()}, "
                f"{from_us(self._horizon_us).isoformat()}]"
            )
        return us

    def now(self) -> datetime:
        """The simulated now (aware, UTC)."""
        return from_us(self._now_us)

    def now_us(self) -> int:
        """The simulated now in microseconds since the epoch."""
        return self._now_us

    @property
    def horizon(self) -> datetime:
        """The latest value the clock may take."""
        return from_us(self._horizon_us)

    def set(self, moment: datetime) -> datetime:
        """Set the clock.

        Args:
            moment: The new now (naive values are taken as UTC).

        Returns:
            The new now.

        Raises:
            ValueError: If it lies outside the history.
        """
        with self._lock:
            self._now_us = self._check(to_us(moment))
            return from_us(self._now_us)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward (or back, with a negative delta).

        Args:
            delta: How far.

        Returns:
            The new now.

        Raises:
            ValueError: If the result lies outside the history.
        """
        with self._lock:
            step = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
            self._now_us = self._check(self._now_us + step)
            return from_us(self._now_us)
