"""The run lock between real processes, as overlapping cron runs meet it: while one
`evenergy-etl run` holds the lock another exits 75 at once; once the holder is SIGKILLed,
the kernel has released its lock and the next run gets it."""

from __future__ import annotations

import signal
from pathlib import Path

from pipelines import exit_codes
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import LiveProcess, project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config

RUN = ["run", "--no-models"]


def test_a_run_exits_75_while_another_holds_the_lock_and_runs_once_the_holder_is_killed(
    tmp_path: Path,
) -> None:
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=2)) as simulator:
        env = simulator_env(simulator, workdir)
        # slow answers keep the holder inside its run (and its lock) until it is killed
        simulator.faults.configure(slow_rate=1.0, slow_seconds=3.0)
        holder = LiveProcess.start(RUN, env, workdir)
        try:
            # the holder requests only once it holds the lock
            assert holder.wait_for(lambda: simulator.request_count > 0), "".join(holder.lines)
            # "at once": a second run that waits for the lock, or runs, times out here
            locked = run_cli(RUN, env, workdir, timeout=30)
            holder_alive = holder.process.poll() is None
        finally:
            holder.process.send_signal(signal.SIGKILL)
            holder.process.wait(timeout=30)
        assert holder_alive, "the holder ended before the second run did"
        assert locked.returncode == exit_codes.LOCKED, locked.stderr[-2000:]
        assert f"another run (pid {holder.process.pid}) holds" in locked.stderr
        assert holder.process.returncode == -signal.SIGKILL

        simulator.faults.clear()
        after_kill = run_cli(RUN, env, workdir)

    assert after_kill.returncode == exit_codes.OK, after_kill.stderr[-3000:]
    assert "complete:" in after_kill.stderr
