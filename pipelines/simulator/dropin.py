"""The simulator as a stand-in for the real API (`evenergy-etl simulate`).

By default its history ends at the current time, so settings that count back from the wall
clock (`initial_start = "7d"`) find data; from there its clock runs with the wall clock (for
up to `RUNS_ON` more), so a later run finds new rows, as it would against the real API. It
prints everything a user needs to point the pipeline at it: the URLs, the client id and the
simulator's own (fake) secret, and the environment lines to paste. `SimulatorConfig` keeps
its fixed default dates and still clock: tests and benchmarks rely on a world that is the
same every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipelines.simulator.config import SimulatorConfig
from pipelines.simulator.http.server import SimulatorServer

# How long the clock may run on past `--now`: the world is generated that far ahead, but a
# row only shows once the clock has passed its `logged_at`.
RUNS_ON = timedelta(days=1)


@dataclass(frozen=True)
class HistoryWindow:
    """When the simulated history starts and ends, and where its clock stands."""

    start: datetime
    days: float
    now: datetime


def history_window(
    start: datetime | None, days: float, now: datetime | None, wall_clock: datetime | None = None
) -> HistoryWindow:
    """Resolve `--start`, `--days` and `--now` the way the command line documents them.

    - neither `--start` nor `--now`: the history is the `days` before the wall clock, which
      is also the simulator's now (the newest data is "just in");
    - `--now` alone: the `days` before it;
    - `--start` alone: `days` from it, the clock at its end;
    - both: `days` from `start`, the clock at `now` (which must lie within).

    Raises:
        ValueError: a timestamp without a time zone, `days` not positive, or `now` outside.
    """
    for name, value in (("--start", start), ("--now", now)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z")
    if days <= 0:
        raise ValueError(f"--days must be positive, got {days:g}")
    length = timedelta(days=days)
    if start is None:
        end = now or (wall_clock or datetime.now(UTC)).replace(microsecond=0)
        return HistoryWindow(end - length, days, end)
    clock = now or start + length
    if not start <= clock <= start + length:
        raise ValueError(f"--now {clock.isoformat()} lies outside the history from --start")
    return HistoryWindow(start, days, clock)


def dropin_config(
    window: HistoryWindow, seed: int, n_evses: int, rate_limit: int | None
) -> SimulatorConfig:
    """The simulator's configuration for a history window, its clock running from `now`."""
    horizon = window.now + RUNS_ON
    return SimulatorConfig(
        seed=seed,
        n_evses=n_evses,
        start=window.start,
        days=(horizon - window.start) / timedelta(days=1),
        now=window.now,
        rate_limit=rate_limit,
        follow_wall_clock=True,
    )


def banner(server: SimulatorServer) -> list[str]:
    """What `simulate` prints once it serves: where, as whom, and the lines to paste."""
    config = server.config
    settings = {
        "SOURCES__EVENERGY__BASE_URL": server.base_url,
        "SOURCES__EVENERGY__TOKEN_URL": server.token_url,
        "SOURCES__EVENERGY__CREDENTIALS__CLIENT_ID": config.client_id,
        "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET": config.client_secret,
    }
    limit = f"{config.rate_limit} requests/hour" if config.rate_limit else "no rate limit"
    return [
        f"ev.energy API simulator: {config.n_evses} EVSEs, {limit}, history from "
        f"{_z(config.start)}; its clock is at {_z(server.clock.now())} and runs with the wall "
        f"clock until {_z(config.horizon)}",
        f"  base URL       {server.base_url}",
        f"  token URL      {server.token_url}",
        f"  client id      {config.client_id}",
        f"  client secret  {config.client_secret}  (the simulator's own; not a real credential)",
        f"  admin          {server.admin_url}/state  (clock and fault switches: see "
        "pipelines/simulator/README.md)",
        "point evenergy-etl at it (paste into the shell that runs it):",
        *(f"  export {name}={value}" for name, value in settings.items()),
        "Ctrl-C stops it.",
    ]


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
