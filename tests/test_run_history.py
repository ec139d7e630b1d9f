"""pipelines.run_history: one row per `evenergy-etl run` in `evenergy._evenergy_runs`, also
for runs that fail after loading (a copy that cannot be published) or while loading."""

from __future__ import annotations

import json
from dataclasses import fields

import duckdb

from pipelines import exit_codes
from pipelines.publish import published_path
from pipelines.run_history import RunRecord, last_runs, record_failure, record_run
from pipelines.simulator import SimulatorServer
from pipelines.warehouse import RUNS_COLUMNS
from tests.cli_helpers import project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config


def test_the_record_has_the_tables_columns_in_order():
    assert [f.name for f in fields(RunRecord)] == [name for name, _ in RUNS_COLUMNS]


def test_a_recorded_run_reads_back_newest_first(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    first = RunRecord(requests=3, rows_loaded=5, rows_by_table={"evses": 2, "status_logs": 3})
    record_run(database, first.ended(exit_codes.OK, "complete"))
    second = RunRecord(load_ids=["1.1", "1.2"]).ended(exit_codes.PARTIAL, "partial", "budget")
    record_run(database, second)
    with duckdb.connect(str(database), read_only=True) as conn:
        newest, oldest = last_runs(conn, limit=5)
    assert (newest["run_id"], newest["exit_code"], newest["stop_reason"]) == (
        second.run_id,
        3,
        "budget",
    )
    assert newest["load_ids"] == "1.1,1.2"
    assert json.loads(oldest["rows_by_table"]) == {"evses": 2, "status_logs": 3}
    assert oldest["started_at"] == first.started_at and oldest["ended_at"] == first.ended_at


def test_a_failure_without_a_warehouse_records_nothing(tmp_path):
    record_failure(tmp_path / "warehouse.duckdb", RunRecord().ended(1, "failed"))
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_failed_runs_are_recorded_with_the_exit_code_they_gave(tmp_path):
    workdir = project_workdir(tmp_path)
    database = workdir / "warehouse.duckdb"
    with SimulatorServer(simulator_config(n_evses=2)) as simulator:
        env = simulator_env(simulator, workdir)
        # the first run only loads: what it records is the point, not its models
        codes = [run_cli(["run", "--no-models"], env, workdir).returncode]
        published_path(database).mkdir()  # a directory where the copy goes: no publish replaces it
        blocked = run_cli(["run"], env, workdir)
        codes.append(blocked.returncode)
        wrong = {**env, "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET": "not-the-secret"}
        codes.append(run_cli(["run"], wrong, workdir).returncode)
    assert codes[0] == exit_codes.OK and codes[1] == exit_codes.FAILED and codes[2] != 0
    assert "cannot replace the published copy" in blocked.stderr
    with duckdb.connect(str(database), read_only=True) as conn:
        runs = conn.execute(
            "select exit_code, outcome, stop_reason, requests, models_seconds is not null "
            "from evenergy._evenergy_runs order by started_at"
        ).fetchall()
    assert [r[0] for r in runs] == codes
    assert [r[1] for r in runs] == ["complete", "failed", "failed"]
    assert "cannot replace the published copy" in runs[1][2]
    assert runs[1][3] is not None and runs[1][4]  # it loaded and built before publishing
    assert runs[2][3] is None and not runs[2][4]  # the load itself failed
