"""What a benchmark run is configured with: the sizes it uses (the full run behind
`make bench`, and `--quick`) and the start of the simulated world."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

SIMULATOR_START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BenchSizes:
    """How big each scenario is.

    Attributes:
        evses: fleet of the backfill, incremental and no-op runs (and of the baselines).
        days: days of history the backfill reads; the incremental run then reads one more.
        long_history_days: days of history of the padded copy the same night also merges into.
        scaling_evses: the small and the large fleet of the memory-scaling scenario.
        scaling_days: days of history each memory-scaling backfill reads.
        models_status_logs: synthetic status logs of the large models benchmark.
        models_dispatches: synthetic dispatch attempts of the large models benchmark.
        nightly_evses: the fleet of the nightly (incremental) models benchmark.
        nightly_history_days: the short and the long history that benchmark builds one new
            day on top of (goal: the long one's nightly build takes at most 1.5x the short).
        models_reference_fraction: size of the reference models benchmark relative to the
            large one (the linearity check compares the two: 5M vs 20M by default).
        seed: seed of the simulated world.
        quick: a smoke-sized run (reported as such).
    """

    evses: int = 500
    days: float = 7
    long_history_days: float = 90
    scaling_evses: tuple[int, int] = (100, 1_000)
    scaling_days: float = 2
    models_status_logs: int = 20_000_000
    models_dispatches: int = 1_000_000
    models_reference_fraction: float = 0.25
    nightly_evses: int = 500
    nightly_history_days: tuple[int, int] = (7, 365)
    seed: int = 42
    quick: bool = False

    @property
    def reference_status_logs(self) -> int:
        """Status logs of the reference (smaller) models benchmark."""
        return max(int(self.models_status_logs * self.models_reference_fraction), 1)

    @property
    def reference_dispatches(self) -> int:
        """Dispatch attempts of the reference (smaller) models benchmark."""
        return max(int(self.models_dispatches * self.models_reference_fraction), 1)

    def with_overrides(self, **overrides: Any) -> BenchSizes:
        """A copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the derived reference sizes."""
        return {
            **asdict(self),
            "scaling_evses": list(self.scaling_evses),
            "nightly_history_days": list(self.nightly_history_days),
            "reference_status_logs": self.reference_status_logs,
            "reference_dispatches": self.reference_dispatches,
            "simulator_start": SIMULATOR_START.isoformat(),
        }


FULL = BenchSizes()
QUICK = BenchSizes(
    evses=50,
    days=2,
    long_history_days=14,
    scaling_evses=(20, 200),
    scaling_days=1,
    models_status_logs=2_000_000,
    models_dispatches=100_000,
    nightly_evses=10,
    nightly_history_days=(2, 7),
    quick=True,
)
