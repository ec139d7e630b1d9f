"""The simulator's configuration: one frozen dataclass, everything else derives from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that shapes a simulated ev.energy API.

    The world (fleet, history, physics) depends only on ``seed``, ``n_evses``, ``start``,
    ``days``, ``sample_interval_seconds`` and ``offline_evses``; the rest configures the
    server.

    Attributes:
        seed: Seed of the whole world; same seed, same data.
        n_evses: Number of chargers in the fleet (about 10% join mid-period).
        start: Beginning of the simulated history (UTC).
        days: Length of the history; ``start + days`` is the horizon the clock may not pass.
        now: Initial simulated clock; defaults to one day before the horizon.
        client_id: OAuth client id accepted by the token endpoint.
        client_secret: OAuth client secret accepted by the token endpoint.
        token_lifetime_seconds: Access-token lifetime, in wall-clock seconds.
        rate_limit: Requests allowed per rolling window (wall clock); None means unlimited.
        rate_window_seconds: Length of the rolling rate-limit window, in seconds.
        max_retry_after_seconds: Upper bound of the ``Retry-After`` header.
        sample_interval_seconds: Status-log cadence (each sample jitters by up to 15 s).
        offline_evses: How many chargers (drawn from the seed) send no status log for one
            whole UTC day (drawn too): after their first day, before the history's last.
        warm_up: Generate every charger's history in a background thread once the server
            starts (otherwise histories are generated lazily on first access).
        follow_wall_clock: The clock runs with the wall clock from ``now`` (up to the
            horizon), as for a stand-in of the real API; otherwise it moves only when told.
    """

    seed: int = 42
    n_evses: int = 20
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    days: float = 3.0
    now: datetime | None = None
    client_id: str = "sim-client"
    client_secret: str = "sim-secret"
    token_lifetime_seconds: float = 36000
    rate_limit: int | None = 1000
    rate_window_seconds: float = 3600
    max_retry_after_seconds: float = 3600
    sample_interval_seconds: int = 300
    offline_evses: int = 0
    warm_up: bool = True
    follow_wall_clock: bool = False

    def __post_init__(self) -> None:
        """Validate the configuration.

        Raises:
            ValueError: If a value is out of range.
        """
        if self.n_evses < 1:
            raise ValueError("n_evses must be at least 1")
        if self.days <= 0:
            raise ValueError("days must be positive")
        if self.offline_evses < 0:
            raise ValueError("offline_evses must be at least 0")
        if self.sample_interval_seconds < 60:
            raise ValueError("sample_interval_seconds must be at least 60")
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if self.now is not None and not self.start <= self.now <= self.horizon:
            raise ValueError("now must lie between start and start + days")

    @property
    def horizon(self) -> datetime:
        """The end of the generated history; the clock may not pass it."""
        return self.start + timedelta(days=self.days)

    @property
    def initial_now(self) -> datetime:
        """The clock's initial value: ``now``, else one day before the horizon (or ``start``)."""
        if self.now is not None:
            return self.now
        return max(self.start, self.horizon - timedelta(days=1))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (no secrets), for the admin state endpoint.

        Returns:
            The world and server settings, timestamps as ISO strings.
        """
        return {
            "seed": self.seed,
            "n_evses": self.n_evses,
            "start": self.start.isoformat(),
            "days": self.days,
            "horizon": self.horizon.isoformat(),
            "client_id": self.client_id,
            "token_lifetime_seconds": self.token_lifetime_seconds,
            "rate_limit": self.rate_limit,
            "rate_window_seconds": self.rate_window_seconds,
            "sample_interval_seconds": self.sample_interval_seconds,
            "offline_evses": self.offline_evses,
        }
