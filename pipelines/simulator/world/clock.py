"""The controllable simulated clock: what "now" is for the API's visibility rules."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from pipelines.simulator.world.times import from_us, to_us


class Clock:
    """A thread-safe simulated clock bounded by the world's history.

    By default it only moves when told to (``set`` / ``advance``). With
    ``follow_wall_clock`` it also runs with the wall clock from wherever it was last set,
    like the real API's, and stops at the horizon. It may go back in time but never before
    the start of the history nor past its horizon.
    """

    def __init__(
        self,
        now: datetime,
        start: datetime,
        horizon: datetime,
        follow_wall_clock: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the clock.

        Args:
            now: Initial value.
            start: Earliest allowed value.
            horizon: Latest allowed value.
            follow_wall_clock: Run with the wall clock between ``set``/``advance`` calls.
            wall_clock: Seconds since the epoch (for tests).
        """
        self._start_us, self._horizon_us = to_us(start), to_us(horizon)
        self._lock = threading.Lock()
        self._follow, self._wall_clock = follow_wall_clock, wall_clock
        self._set_us = self._check(to_us(now))
        self._set_at = wall_clock()

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
        return from_us(self.now_us())

    def now_us(self) -> int:
        """The simulated now in microseconds since the epoch."""
        if not self._follow:
            return self._set_us
        elapsed_us = int((self._wall_clock() - self._set_at) * 1_000_000)
        return min(self._set_us + max(elapsed_us, 0), self._horizon_us)

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
            return self._set(to_us(moment))

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
            return self._set(self.now_us() + step)

    def _set(self, us: int) -> datetime:
        self._set_us, self._set_at = self._check(us), self._wall_clock()
        return from_us(self._set_us)
