"""Kill the nightly run with SIGKILL during extract, normalize and load; the next run must
leave the warehouse equal, row for row, to a clean run's."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from pipelines.simulator import SimulatorServer
from tests.cli_helpers import LiveProcess, project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config
from tests.pipelines.warehouse import differences

RUN = ["run", "--no-models"]


def _after_requests(count: int):
    return lambda live, simulator: simulator.request_count >= count


def _after_log(text: str):
    return lambda live, simulator: any(text in line for line in live.lines)


KILL_POINTS = {
    "mid-extract": _after_requests(25),
    "after extract, before normalize": _after_log("extract:"),
    "during load": _after_log("normalize: done"),
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_run_is_completed_by_the_next(point: str, clean_warehouse: Path, tmp_path: Path):
    trigger = KILL_POINTS[point]
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config()) as simulator:
        # slow answers stretch the extraction so a kill can land inside it
        simulator.faults.configure(slow_rate=1.0, slow_seconds=0.01)
        env = simulator_env(simulator, workdir)
        live = LiveProcess.start(RUN, env, workdir)
        fired = live.wait_for(lambda: trigger(live, simulator))
        live.process.send_signal(signal.SIGKILL)
        live.process.wait(timeout=30)
        assert fired, f"never reached {point}: {''.join(live.lines)[-2000:]}"
        assert live.process.returncode == -signal.SIGKILL

        simulator.faults.clear()
        rerun = run_cli(RUN, env, workdir)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert differences(workdir / "warehouse.duckdb", clean_warehouse) == {}
