"""`evenergy-etl run` on a lake as cron runs it: a second run exits 75 while the first holds
the lock beside the catalog; the first killed with SIGKILL during its load, a clean rerun
leaves the lake equal, row for row, to an uninterrupted run's warehouse."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from pipelines import exit_codes
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import LiveProcess, project_workdir, run_cli, simulator_env
from tests.lake.conftest import LakeHarness
from tests.lake.rows import file_rows, raw_rows
from tests.pipelines.conftest import Harness, simulator_config

RUN = ["run", "--no-models"]


@pytest.mark.slow
def test_overlapping_run_exits_75_and_a_killed_load_is_completed_by_the_next(tmp_path: Path):
    with SimulatorServer(simulator_config()) as simulator:
        clean = Harness(simulator, tmp_path / "clean")
        assert not clean.run().report.partial
        want = file_rows(clean.database)

    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config()) as simulator:
        lake_side = LakeHarness(
            simulator, workdir / "lake", f"sqlite:///{workdir}/lake/catalog.sqlite"
        )
        env = {**simulator_env(simulator, workdir), **lake_side.settings}
        # slow answers keep the holder inside its run (and its lock) while the second starts
        simulator.faults.configure(slow_rate=1.0, slow_seconds=0.01)
        holder = LiveProcess.start(RUN, env, workdir)
        assert holder.wait_for(lambda: simulator.request_count >= 5), "".join(holder.lines)
        locked = run_cli(RUN, env, workdir, timeout=60)
        assert locked.returncode == exit_codes.LOCKED, locked.stderr[-2000:]
        assert (workdir / "lake" / "catalog.sqlite.lock").exists()

        simulator.faults.clear()
        fired = holder.wait_for(lambda: any("normalize: done" in line for line in holder.lines))
        holder.process.send_signal(signal.SIGKILL)
        holder.process.wait(timeout=30)
        assert fired, "".join(holder.lines)[-2000:]
        assert holder.process.returncode == -signal.SIGKILL

        rerun = run_cli(RUN, env, workdir)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        with lake_side.connect() as conn:
            got = raw_rows(conn)
    assert all(want.values())
    for table in want:
        assert got[table] == want[table], (
            f"{table}: lake {len(got[table])} rows, file {len(want[table])}"
        )
