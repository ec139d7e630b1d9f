"""The fewest API requests a run could make, counted from the simulator's ground truth.

The bench parent builds the same `World` as the simulator process (same seed, fleet, start
and days give the same histories) and counts, per partition, what is new between the
previous run's clock and this run's. `MINIMUM_DEFINITION` states the rule; the table prints
it as a footnote.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines.evenergy.settings import MANAGED_MODES
from pipelines.simulator import SimulatorConfig, World
from pipelines.simulator.world.records import StatusTable
from pipelines.simulator.world.times import to_us

PAGE = 100
TABLES = ("evses", "status_logs", "evse_command_logs", "charging_sub_sessions", "dispatcher_logs")
MINIMUM_DEFINITION = (
    "minimum requests = listing pages + partition pages. Listing pages: evses ceil(n/100) "
    "over the EVSEs visible now; charging_sub_sessions = pages of the ongoing listing "
    "(start <= now < end) + pages of the ended listing (previous run < end <= now; all ended "
    "ones on a backfill), each at least 1. Partition pages, per visible EVSE: status_logs "
    "max(1, ceil(new/100)) where new = rows visible now (sampled_at <= now, logged_at <= now) "
    "with sampled_at >= the EVSE's newest sampled_at visible at the previous run (all rows on "
    "a backfill); evse_command_logs likewise on logged_at. dispatcher_logs: one request per "
    "managed sub-session (SMART, BOOST, MANAGED_OTG) ongoing now or ended since the previous "
    "run. A run at the previous run's clock needs none: nothing can be new. "
    "'min+lookback' re-reads each status partition from (previous newest - lookback): "
    "the widest re-read the `lookback` setting allows (with `min_lookback` and no open gap "
    "the pipeline re-reads less)."
)


@dataclass(frozen=True)
class RunWindow:
    """The clocks that bound one run: what was visible before it and what is visible now."""

    now: datetime
    previous: datetime | None = None  # None: a backfill from the simulator's start


class GroundTruth:
    """The simulated world, rebuilt in this process, and request counts derived from it."""

    def __init__(self, config: SimulatorConfig, base_url: str) -> None:
        """Build and fully generate the world (a few seconds for 500 EVSEs x 8 days).

        Args:
            config: the simulator process's configuration.
            base_url: the simulator's API root, used in rendered URLs.
        """
        self.world = World(config, base_url)
        self.world.generate_all()

    def minimum(
        self, window: RunWindow, lookback: timedelta | None = None, tables: Iterable[str] = ()
    ) -> dict[str, int]:
        """Fewest requests per table for a run over `window`.

        Args:
            window: the run's clock and the previous run's.
            lookback: re-read each status partition this far behind its previous newest row
                (None: the strict minimum).
            tables: keep only these tables (all five when empty).

        Returns:
            Requests per table label, as the pipeline's budget labels them.
        """
        now_us = to_us(window.now)
        previous_us = None if window.previous is None else to_us(window.previous)
        if previous_us == now_us:  # the API's clock has not moved: nothing to ask about
            return dict.fromkeys(tables or TABLES, 0)
        back_us = 0 if lookback is None else int(lookback.total_seconds() * 1_000_000)
        specs = [s for s in self.world.specs if s.joined_us <= now_us]
        status = commands = 0
        for spec in specs:
            history = self.world.history(spec)
            new = _new_status_rows(history.status, previous_us, now_us, back_us)
            status += _pages(new)
            commands += _pages(_new_in_sorted(history.command_logged, previous_us, now_us))
        listings, dispatch = self._sub_sessions(previous_us, now_us)
        counts = {  # in `TABLES` order
            "evses": _pages(len(specs)),
            "status_logs": status,
            "evse_command_logs": commands,
            "charging_sub_sessions": listings,
            "dispatcher_logs": dispatch,
        }
        wanted = set(tables)
        return {k: v for k, v in counts.items() if not wanted or k in wanted}

    def visible_rows(self, now: datetime) -> dict[str, int]:
        """Status and command logs the API shows at `now`, all EVSEs: what a warehouse that
        has caught up holds (its tables are unique on their keys)."""
        now_us = to_us(now)
        histories = [self.world.history(s) for s in self.world.specs if s.joined_us <= now_us]
        return {
            "status_logs": sum(_new_status_rows(h.status, None, now_us, 0) for h in histories),
            "evse_command_logs": sum(
                _new_in_sorted(h.command_logged, None, now_us) for h in histories
            ),
        }

    def _sub_sessions(self, previous_us: int | None, now_us: int) -> tuple[int, int]:
        """Pages of the two sub-session listings, and the dispatcher-log partitions."""
        ongoing = ended = dispatch = 0
        for record in self.world.sessions():
            if record.start_us > now_us:
                continue
            is_ongoing = record.end_us > now_us
            just_ended = not is_ongoing and (previous_us is None or record.end_us > previous_us)
            ongoing += is_ongoing
            ended += just_ended
            dispatch += (is_ongoing or just_ended) and record.mode in MANAGED_MODES
        return _pages(ongoing) + _pages(ended), dispatch


def _pages(rows: int) -> int:
    """Requests to read `rows` rows of one listing: at least one, to learn there are none."""
    return max(1, math.ceil(rows / PAGE))


def _new_status_rows(
    table: StatusTable, previous_us: int | None, now_us: int, lookback_us: int
) -> int:
    """Status rows visible now with sampled_at >= (newest visible at `previous_us` - lookback)."""
    since = None
    if previous_us is not None:
        newest = _newest_visible(table, previous_us)
        since = None if newest is None else newest - lookback_us
    low = 0 if since is None else bisect.bisect_left(table.sampled, since)
    high = bisect.bisect_right(table.sampled, now_us)
    logged = table.logged
    return sum(1 for i in range(low, high) if logged[i] <= now_us)


def _newest_visible(table: StatusTable, at_us: int) -> int | None:
    """The newest sampled_at among rows visible at `at_us` (sampled and logged by then)."""
    i = bisect.bisect_right(table.sampled, at_us) - 1
    while i >= 0 and table.logged[i] > at_us:
        i -= 1
    return table.sampled[i] if i >= 0 else None


def _new_in_sorted(values: list[int], previous_us: int | None, now_us: int) -> int:
    """Values <= now and >= the newest value <= previous (all values <= now on a backfill)."""
    high = bisect.bisect_right(values, now_us)
    if previous_us is None:
        return high
    last = bisect.bisect_right(values, previous_us) - 1
    return high - (last if last >= 0 else 0)
