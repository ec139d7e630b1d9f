"""`evenergy-etl models` exits 4 when a data check fails, as cron and monitoring read it.

The warehouse is real: raw rows written into the tables the load declares, one of them
breaking an invariant a check guards, then the CLI in a subprocess builds and checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.publish import published_path
from pipelines.warehouse import ensure_tables
from tests.cli_helpers import PROJECT, project_workdir, run_cli

CHECK = "accepted_values_stg_dispatcher_logs_device_type__EVSE__VEHICLE"  # the dbt test


def _warehouse_with_a_dispatcher_log(workdir: Path, device_type: str) -> Path:
    database = workdir / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        ensure_tables(conn)
        conn.execute(
            "insert into evenergy.dispatcher_logs (charging_sub_session_id, internal_command_id,"
            " logged_at, device_type, _dlt_load_id, _dlt_id)"
            " values ('csub1', 'cmd1', '2026-11-01 17:00:00+00', ?, '1790000000.1', 'row1')",
            [device_type],
        )
    return database


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        {
            "DESTINATION__DUCKDB__CREDENTIALS": str(workdir / "warehouse.duckdb"),
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            "PYTHONPATH": str(PROJECT),
        }
    )
    return env


@pytest.mark.parametrize(
    ("device_type", "expected"),
    [("EVSE", exit_codes.OK), ("TOASTER", exit_codes.CHECKS_FAILED)],
)
def test_models_exit_4_and_export_nothing_when_a_data_check_fails(
    tmp_path: Path, device_type: str, expected: int
) -> None:
    """The same warehouse with a valid device type is the control: only the broken
    invariant turns the exit code to 4."""
    workdir = project_workdir(tmp_path)
    database = _warehouse_with_a_dispatcher_log(workdir, device_type)
    exports = tmp_path / "exports"

    result = run_cli(["models", "--export", str(exports)], _env(workdir), workdir)

    assert result.returncode == expected, result.stderr[-3000:]
    failed = expected == exit_codes.CHECKS_FAILED
    assert ("data checks failed" in result.stderr) is failed, result.stderr[-3000:]
    assert (CHECK in result.stderr) is failed
    assert exports.exists() is not failed  # export only after the checks pass
    # analysts read the published copy: a build whose checks fail never becomes one
    assert published_path(database).exists() is not failed
