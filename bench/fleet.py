"""A simulated fleet to measure runs against: the simulator process, the same world rebuilt
in this process as ground truth, and a working directory for the runs' warehouses."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.process import PROJECT_ROOT, run_child
from bench.records import run_record
from bench.simulator_process import SimulatorProcess
from bench.sizes import SIMULATOR_START
from bench.truth import GroundTruth, RunWindow
from pipelines.evenergy.parsing import format_timestamp, parse_duration, parse_timestamp
from pipelines.simulator import SimulatorConfig

DEFAULT_LOOKBACK = "6h"


@dataclass
class Fleet:
    """A running simulator, its ground truth, and where the runs keep their files."""

    simulator: SimulatorProcess
    truth: GroundTruth
    workdir: Path
    lookback: str

    @classmethod
    @contextmanager
    def started(cls, evses: int, days: float, seed: int, workdir: Path) -> Iterator[Fleet]:
        """Start a simulator of `evses` chargers over `days` days; stop it on exit.

        The clock starts one day before the end of the history, so a backfill reads
        `days - 1` days and one incremental run can follow.
        """
        workdir.mkdir(parents=True, exist_ok=True)
        simulator = SimulatorProcess(evses, days, seed, workdir / "simulator.log")
        config = SimulatorConfig(
            seed=seed, n_evses=evses, days=days, start=SIMULATOR_START, rate_limit=None
        )
        truth = GroundTruth(config, simulator.base_url)
        with simulator:
            yield cls(simulator, truth, workdir, configured_lookback())

    def now(self) -> datetime:
        """The simulator's clock."""
        return parse_timestamp(self.simulator.state()["now"])

    def target(self, name: str) -> dict[str, str]:
        """A dlt working directory and DuckDB file of their own for runs named `name`."""
        return {
            "pipelines_dir": str(self.workdir / name / "dlt"),
            "database": str(self.workdir / name / "warehouse.duckdb"),
        }

    def source_args(self) -> dict[str, Any]:
        """Explicit source settings: the simulator, its start, no reserve (the rest, e.g. the
        lookback, comes from `.dlt/config.toml` as for the nightly job)."""
        return self.simulator.source_args(format_timestamp(SIMULATOR_START))

    def measure(
        self,
        label: str,
        kind: str,
        target: dict[str, str],
        window: RunWindow,
        resources: tuple[str, ...] = (),
        isolated: bool = False,
    ) -> dict[str, Any]:
        """Run one measured pipeline run in a child process and compare with the minimum.

        Args:
            label: the table row's label.
            kind: `ours` or `baseline_dlt`.
            target: from `target`: the run's dlt directory and warehouse.
            window: the run's clock and the previous run's, for the minimum.
            resources: restrict the run (and the minimum) to these tables; all when empty.
            isolated: run outside the project root, so none of its `.dlt/` settings apply
                (dlt's defaults, for the baseline).
        """
        minimum = self.truth.minimum(window, tables=resources)
        lookback = parse_duration(self.lookback)
        with_lookback = self.truth.minimum(window, lookback, tables=resources)
        payload = {**target, "source_args": self.source_args(), "resources": list(resources)}
        self.simulator.reset_counters()
        cpu_before = self.simulator.cpu_seconds()
        cwd = Path(target["pipelines_dir"]).parent if isolated else None
        if cwd is not None:
            cwd.mkdir(parents=True, exist_ok=True)
        child = run_child(kind, payload, cwd)
        cpu_after = self.simulator.cpu_seconds()
        record = run_record(label, child, self.simulator.state(), minimum, with_lookback)
        if cpu_before is not None and cpu_after is not None:
            record["simulator_cpu_seconds"] = round(cpu_after - cpu_before, 2)
        return record


def configured_lookback() -> str:
    """`sources.evenergy.lookback` as the runs see it (environment, then `.dlt/config.toml`;
    they run from the project root): the widest re-read, for the minimum-with-lookback."""
    from_env = os.environ.get("SOURCES__EVENERGY__LOOKBACK")
    if from_env:
        return from_env
    try:
        config = tomllib.loads((PROJECT_ROOT / ".dlt" / "config.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_LOOKBACK
    return str(config.get("sources", {}).get("evenergy", {}).get("lookback", DEFAULT_LOOKBACK))
