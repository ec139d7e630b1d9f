"""`evenergy-etl status` from the warehouse, as cron and monitoring call it: unchanged when
dlt's working directory is deleted, `--json` fields against the warehouse and the runs' own
summary lines, and the published copy read while a run holds the warehouse."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.evenergy.tables import RAW_TABLES
from pipelines.publish import published_path
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config

N_EVSES = 3
# the run's summary line ends with its request count: "complete: 9 rows loaded, 12 requests"
_SUMMARY = re.compile(r"nightly: (complete|partial): .*\b(\d+) requests\)?$", re.MULTILINE)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Two runs: a complete one, then one stopped by the rate limit (exit 3). The second only
    loads (`--no-models`): status reads what the runs recorded, and its model build would add
    seconds and nothing status reads (the published copy is the first run's)."""
    tmp_path = tmp_path_factory.mktemp("status")
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=N_EVSES)) as simulator:
        env = simulator_env(simulator, workdir)
        first = run_cli(["run"], env, workdir)
        assert first.returncode == exit_codes.OK, first.stderr[-2000:]
        first_json = json.loads(run_cli(["status", "--json"], env, workdir).stdout)
        simulator.clock.advance(timedelta(hours=6))
        simulator.reset_rate_limit()
        simulator.faults.configure(rate_limit=4, rate_window_seconds=3600)
        second = run_cli(
            ["run", "--no-models"], {**env, "SOURCES__EVENERGY__MAX_DURATION": "5s"}, workdir
        )
        assert second.returncode == exit_codes.PARTIAL, second.stderr[-2000:]
    return workdir, env, (first, first_json), second


def _status(env, workdir, *args):
    result = run_cli(["status", *args], env, workdir)
    assert result.returncode == exit_codes.OK, result.stderr
    return result.stdout


def _requests(run: subprocess.CompletedProcess[str]) -> int:
    found = _SUMMARY.search(run.stderr)
    assert found, run.stderr[-2000:]
    return int(found[2])


def test_status_is_unchanged_when_dlts_working_directory_is_deleted(nights):
    workdir, env, _, _ = nights
    before_json, before_text = _status(env, workdir, "--json"), _status(env, workdir)
    assert f"status_logs: {N_EVSES} EVSEs" in before_text
    shutil.rmtree(workdir / "dlt-data")  # DLT_DATA_DIR: dlt's working directory, state too
    assert json.loads(_status(env, workdir, "--json")) == json.loads(before_json)
    assert _status(env, workdir) == before_text


def test_status_json_gives_monitoring_what_it_needs(nights):
    workdir, env, (first, first_json), second = nights
    report = json.loads(_status(env, workdir, "--json"))
    database = workdir / "warehouse.duckdb"
    assert report["warehouse"] == str(database)
    assert report["published"]["path"] == str(published_path(database))
    assert report["published"]["exists"] is True
    with duckdb.connect(str(database), read_only=True) as conn:
        for spec in RAW_TABLES:
            table = report["tables"][spec.name]
            assert (
                table["rows"]
                == conn.execute(f"select count(*) from evenergy.{spec.name}").fetchall()[0][0]
            )
            if spec.name in ("status_logs", "evse_command_logs", "dispatcher_logs"):
                column = {"status_logs": "sampled_at"}.get(spec.name, "logged_at")
                assert table["freshness_column"] == column
                newest = conn.execute(f"select max({column}) from evenergy.{spec.name}")
                assert datetime.fromisoformat(table["newest_at"]) == newest.fetchall()[0][0]
    assert report["watermarks"]["status_logs"]["partitions"] == N_EVSES
    assert report["sub_sessions"]["queued"] >= 0

    ran = first_json["last_run"]
    assert (ran["exit_code"], ran["outcome"], ran["stop_reason"]) == (0, "complete", None)
    assert ran["requests"] == _requests(first)
    assert ran["rows_loaded"] == sum(ran["rows_by_table"].values()) > 0
    assert datetime.fromisoformat(ran["started_at"]) < datetime.fromisoformat(ran["ended_at"])

    last = report["last_run"]
    assert last["run_id"] != ran["run_id"]
    assert (last["exit_code"], last["outcome"]) == (exit_codes.PARTIAL, "partial")
    assert last["stop_reason"] and last["stop_reason"] in second.stderr
    assert last["requests"] == _requests(second)
    assert datetime.fromisoformat(last["started_at"]) > datetime.fromisoformat(ran["ended_at"])


def test_while_a_run_holds_the_warehouse_status_reads_the_published_copy(nights):
    workdir, env, _, _ = nights
    database = workdir / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys, duckdb\nconn = duckdb.connect({str(database)!r})\n"
            "print('holding', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        report = json.loads(_status(env, workdir, "--json"))
        text = _status(env, workdir)
    finally:
        holder.communicate("\n", timeout=30)
    assert report["read_from"] == str(published_path(database))
    assert report["tables"]["status_logs"]["rows"] > 0
    assert "figures below are from the published copy" in text
