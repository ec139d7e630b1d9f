"""A reader in another process than the loader queries the lake in a loop during a load:
no query fails, and each table's row count is only ever its count before the load or
after it (a merge never shows its deletes without its inserts, nor rows twice)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from pipelines.simulator import SimulatorServer
from tests.cli_helpers import LiveProcess, project_workdir, simulator_env
from tests.lake.conftest import LakeHarness
from tests.pipelines.warehouse import RAW_TABLES

RUN = ["run", "--no-models"]
COUNTS = "select " + ", ".join(f"(select count(*) from evenergy.{t})" for t in RAW_TABLES)


@pytest.mark.slow
def test_a_reader_sees_only_committed_states_during_a_load(
    simulator: SimulatorServer, tmp_path: Path
):
    workdir = project_workdir(tmp_path)
    lake_side = LakeHarness(simulator, workdir / "lake", f"sqlite:///{workdir}/lake/catalog.sqlite")
    start = simulator.clock.now()
    simulator.clock.set(start - timedelta(hours=12))
    env = {**simulator_env(simulator, workdir), **lake_side.settings}
    assert not lake_side.run().report.partial
    with lake_side.connect() as conn:
        before = conn.execute(COUNTS).fetchone()
        simulator.clock.set(start)
        loader = LiveProcess.start(RUN, env, workdir)
        seen = []
        while loader.process.poll() is None:
            seen.append(conn.execute(COUNTS).fetchone())
            time.sleep(0.01)
        assert loader.process.returncode == 0, "".join(loader.lines)[-3000:]
        after = conn.execute(COUNTS).fetchone()
    assert before is not None and after is not None
    assert after[1] > before[1], "the load should bring new status logs"
    assert len(seen) > 20, f"only {len(seen)} reads during the load"
    for index, table in enumerate(RAW_TABLES):
        counts = [row[index] for row in seen]
        assert set(counts) <= {before[index], after[index]}, f"{table}: saw {sorted(set(counts))}"
        # once the new state is visible, the old one never comes back
        first_new = counts.index(after[index]) if after[index] in counts else len(counts)
        assert set(counts[first_new:]) <= {after[index]}, f"{table}: went back"
