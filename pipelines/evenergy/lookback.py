"""How far behind its cursor a partition is re-read, so that rows uploaded late are not lost.

A row uploaded late, that an earlier read missed although that read went past the row's
timestamp, must lie in a gap of the sequence that read saw: the samples around it were
there, it was not. So a gap-aware lookback re-reads from the start of the oldest gap still
open (`hold`), or only `minimum` behind the cursor when the data has no gap; never further
back than `maximum` (the longest upload delay the integrations document). A charger whose
sequence has no gap costs no extra request; one that came back from an offline spell is
re-read from where its samples stopped until its backlog arrives or `maximum` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from pipelines.evenergy.state import Partition

# A step between two samples longer than this many sampling intervals is a gap.
GAP_FACTOR = 1.5
# Fewer steps than this do not tell the sampling interval.
MIN_STEPS = 4


@dataclass(frozen=True)
class Lookback:
    """A partition's re-read window, stored beside its cursor in the partition state."""

    maximum: timedelta
    minimum: timedelta = timedelta(0)
    gap_aware: bool = False

    def since(self, state: Partition | None, floor: datetime) -> datetime:
        """Where the partition's next read starts."""
        if state is None or state.cursor is None:
            return floor
        newest = state.cursor
        start = newest - self.maximum
        if self.gap_aware and state.gaps_known:
            start = newest - self.minimum
            if state.hold is not None:
                start = min(start, state.hold)
            start = max(start, newest - self.maximum)
        return max(start, floor)

    def remember(self, state: Partition, read: list[datetime], cursor: datetime) -> None:
        """Record the oldest open gap among the timestamps just read (gap-aware only)."""
        if not self.gap_aware:
            return
        times = sorted(set(read))
        steps = [(b - a).total_seconds() for a, b in pairwise(times)]
        interval = median(steps) if len(steps) >= MIN_STEPS else state.interval_seconds
        if not interval:
            state.gaps_known, state.hold = False, None  # cannot tell gaps yet: full lookback
            return
        state.interval_seconds = interval
        horizon = cursor - self.maximum
        gaps = [a for a, b in pairwise(times) if (b - a).total_seconds() > GAP_FACTOR * interval]
        open_gaps = [start for start in gaps if start >= horizon]
        state.gaps_known, state.hold = True, min(open_gaps) if open_gaps else None
