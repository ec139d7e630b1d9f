"""`evenergy-etl` end to end, as cron runs it: exit codes, one-line errors, the run lock,
and no secret or token in anything it prints."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import requests

from pipelines import exit_codes
from pipelines.evenergy.parsing import parse_timestamp
from pipelines.lock import AlreadyRunning, RunLock
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import PROJECT, project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config

COMMANDS = ["run", "models", "export", "status", "sql", "report", "simulate", "demo"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(command, tmp_path):
    args = ["--help"] if command is None else [command, "--help"]
    result = run_cli(args, {"PATH": "/usr/bin:/bin"}, project_workdir(tmp_path))
    assert result.returncode == 0
    assert "usage: evenergy-etl" in result.stdout
    if command is None:
        assert "exit codes" in result.stdout
        listing = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]
                   if line.startswith("    ") and line.split()}  # fmt: skip
        assert all(listing.get(name) for name in COMMANDS), result.stdout  # each has a line
    else:
        description = result.stdout.split("\n\n")[1]
        assert not description.startswith(("options:", "positional")), result.stdout


def test_missing_credentials_is_one_line_naming_the_setting(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=2)) as simulator:
        env = simulator_env(simulator, workdir)
        del env["SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET"]
        result = run_cli(["run"], env, workdir)
    assert result.returncode == exit_codes.USAGE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "sources.evenergy.credentials.client_secret" in lines[0]
    assert "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET" in lines[0]


def test_plain_http_outside_loopback_is_refused(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=2)) as simulator:
        env = simulator_env(simulator, workdir)
        env["SOURCES__EVENERGY__BASE_URL"] = "http://api.example.com/v2"
        result = run_cli(["run"], env, workdir)
    assert result.returncode == exit_codes.USAGE
    assert result.stderr.count("\n") == 1
    assert "sources.evenergy.base_url must be https://" in result.stderr


def test_run_then_status(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=3)) as simulator:
        env = simulator_env(simulator, workdir)
        run = run_cli(["run", "--no-models"], env, workdir)
        status = run_cli(["status"], env, workdir)
    assert run.returncode == exit_codes.OK, run.stderr
    for phase in ("extract:", "normalize:", "load:", "complete:"):
        assert sum(phase in line for line in run.stderr.splitlines()) == 1, run.stderr
    assert status.returncode == 0
    assert "evenergy.status_logs" in status.stdout
    assert "status_logs: 3 EVSEs" in status.stdout


def test_second_run_exits_at_once_while_the_first_holds_the_lock(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=2)) as simulator:
        env = simulator_env(simulator, workdir)
        with RunLock(workdir / "warehouse.duckdb.lock"):
            result = run_cli(["run"], env, workdir)
        assert simulator.request_count == 0
    assert result.returncode == exit_codes.LOCKED
    assert "another run" in result.stderr


def test_the_lock_dies_with_a_killed_holder(tmp_path):
    lock_path = tmp_path / "warehouse.duckdb.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pipelines.lock import RunLock\n"
            f"with RunLock(Path({str(lock_path)!r})):\n print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(AlreadyRunning, match=f"pid {holder.pid}"):  # a lock that holds
        RunLock(lock_path).__enter__()
    holder.kill()
    holder.wait()
    with RunLock(lock_path):
        pass


def test_no_secret_or_token_in_logs_or_errors(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=3)) as simulator:
        issued: list[str] = []
        issue = simulator.tokens.issue

        def recording_issue(*args, **kwargs):
            answer = issue(*args, **kwargs)
            if "access_token" in answer.body:
                issued.append(answer.body["access_token"])
            return answer

        simulator.tokens.issue = recording_issue
        # errors of every kind, so that messages and retries get logged
        simulator.faults.configure(
            token_lifetime_seconds=1.0,
            error_5xx_rate=0.2,
            malformed_rate=0.2,
            slow_rate=0.2,
            slow_seconds=0.3,
            fault_seed=3,
        )
        env = simulator_env(simulator, workdir)
        outputs = [run_cli(["-v", "run", "--no-models"], env, workdir)]
        wrong = dict(env, SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET="wrong-secret-7f3a9c")
        outputs.append(run_cli(["-v", "run", "--no-models"], wrong, workdir))
    secret = simulator.world.config.client_secret
    assert issued, "the run should have fetched tokens"
    assert outputs[1].returncode == exit_codes.USAGE  # wrong credentials are configuration
    assert "invalid_client" in outputs[1].stderr
    for output in outputs:
        text = output.stdout + output.stderr
        assert secret not in text
        assert "wrong-secret-7f3a9c" not in text
        for token in issued:
            assert token not in text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _banner(process: subprocess.Popen[str]) -> list[str]:
    """What `simulate` prints before it serves, up to its last line."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C"):
            return lines
    raise AssertionError(f"simulate ended without serving: {lines}")


def test_simulate_is_a_drop_in_api_whose_history_ends_now(tmp_path):
    """The README's instructions for the real API, with only the lines `simulate` prints."""
    workdir = project_workdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env["PYTHONPATH"] = str(PROJECT)
    args = ["-m", "pipelines", "simulate", "--port", str(_free_port()), "--evses", "3"]
    simulator = subprocess.Popen(
        [sys.executable, *args, "--days", "2"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        banner = _banner(simulator)
        pasted = dict(
            line.split("export ", 1)[1].split("=", 1) for line in banner if "export " in line
        )
        secret = pasted["SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET"]
        assert any(
            line.split() == ["client", "secret", secret, *line.split()[3:]] for line in banner
        )
        token = requests.post(
            pasted["SOURCES__EVENERGY__TOKEN_URL"],
            data={"grant_type": "client_credentials"},
            auth=(pasted["SOURCES__EVENERGY__CREDENTIALS__CLIENT_ID"], secret),
            timeout=10,
        ).json()["access_token"]
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        base = pasted["SOURCES__EVENERGY__BASE_URL"]
        evses = api.get(f"{base}/evses", timeout=10).json()
        newest = max(
            parse_timestamp(api.get(f"{base}/evses/{e['id']}/status_logs", timeout=10).json()[0]
                            ["sampled_at"])
            for e in evses
        )  # fmt: skip
        now = datetime.now(UTC)
        assert now - timedelta(minutes=30) < newest <= now
        admin = base.removesuffix("/v2") + "/_sim/state"
        before = parse_timestamp(requests.get(admin, timeout=10).json()["now"])
        time.sleep(1.1)  # the admin state shows whole seconds
        after = parse_timestamp(requests.get(admin, timeout=10).json()["now"])
        assert before < after <= datetime.now(UTC)  # it runs with the wall clock
        loaded = run_cli(
            ["run", "--no-models"],
            {
                **env,
                **pasted,
                "DESTINATION__DUCKDB__CREDENTIALS": str(workdir / "warehouse.duckdb"),
                "DLT_DATA_DIR": str(workdir / "dlt-data"),
            },
            workdir,
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert loaded.returncode == exit_codes.OK, loaded.stderr
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as conn:
        (days,) = conn.execute(
            "select count(distinct sampled_at::date) from evenergy.status_logs"
        ).fetchone()
    assert days >= 2  # initial_start = 7d from the wall clock reached the whole history


def test_cron_run_logs_one_line_per_phase_and_sparse_progress(tmp_path):
    """No terminal: each phase one line, progress at most once per `progress_interval`."""
    workdir = project_workdir(tmp_path)
    interval = 0.5
    with SimulatorServer(simulator_config(n_evses=4)) as simulator:
        # every answer slowed, one request at a time: an extraction of a few seconds
        simulator.faults.configure(slow_rate=1.0, slow_seconds=0.1, fault_seed=1)
        env = simulator_env(simulator, workdir)
        env["LOGGING__PROGRESS_INTERVAL"] = f"{interval}s"
        env["SOURCES__EVENERGY__CONCURRENCY"] = "1"
        result = run_cli(["run"], env, workdir)
    assert result.returncode == exit_codes.OK, result.stderr
    lines = result.stderr.splitlines()
    phases = ("extract:", "normalize:", "load:", "complete:", "models:", "publish:")
    for phase in phases:
        assert sum(f": {phase}" in line for line in lines) == 1, result.stderr
    progress = [line for line in lines if "pipelines.progress" in line]
    extract = next(line for line in lines if ": extract:" in line)
    seconds = float(re.search(r" in ([0-9.]+) s;", extract).group(1))
    assert seconds > 3 * interval, "the extraction should be long enough to need progress"
    assert 1 <= len(progress) <= seconds / interval
    assert len(lines) == len(phases) + len(progress), result.stderr
