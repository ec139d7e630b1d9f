"""Empty is normal (issue 9): every raw table exists with its declared columns from the first
load, and the models build on an empty or partly loaded warehouse."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from pipelines import exit_codes
from pipelines.evenergy.tables import RAW_TABLES
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import START, simulator_config


def _tables(database: Path) -> dict[str, dict[str, int]]:
    """Rows per table, by schema."""
    with duckdb.connect(str(database), read_only=True) as conn:
        found = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('evenergy', 'analytics')"
        ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for schema, table in found:
            (rows,) = conn.execute(f'select count(*) from {schema}."{table}"').fetchone() or (0,)
            counts.setdefault(schema, {})[table] = rows
        return counts


def _declared_columns_exist(database: Path) -> None:
    with duckdb.connect(str(database), read_only=True) as conn:
        for spec in RAW_TABLES:
            columns = {
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'evenergy' and table_name = ?",
                    [spec.name],
                ).fetchall()
            }
            assert {c.name for c in spec.columns} <= columns, spec.name


def test_a_run_where_resources_yield_nothing_builds_the_models(tmp_path):
    """Ten minutes into the fleet's life: a few status logs, no command log, no dispatch."""
    workdir = project_workdir(tmp_path)
    config = simulator_config(n_evses=2, now=START + timedelta(minutes=10))
    with SimulatorServer(config) as simulator:
        result = run_cli(["run"], simulator_env(simulator, workdir), workdir)
    assert result.returncode == exit_codes.OK, result.stderr
    counts = _tables(workdir / "warehouse.duckdb")
    assert counts["evenergy"]["evse_command_logs"] == 0
    assert counts["evenergy"]["dispatcher_logs"] == 0
    assert counts["evenergy"]["status_logs"] > 0
    assert counts["analytics"]["dispatch_effectiveness"] == 0
    _declared_columns_exist(workdir / "warehouse.duckdb")


def test_a_first_backfill_stopped_by_the_budget_exits_3_and_builds_the_models(tmp_path):
    """A rate limit far below what the first night needs, and a deadline too short to wait
    for the window: the run loads what it fetched, exits 3, and the models exist."""
    workdir = project_workdir(tmp_path)
    config = simulator_config(n_evses=12, rate_limit=15)
    with SimulatorServer(config) as simulator:
        env = simulator_env(simulator, workdir)
        result = run_cli(["run", "--max-duration", "20s"], env, workdir)
    assert result.returncode == exit_codes.PARTIAL, result.stderr
    counts = _tables(workdir / "warehouse.duckdb")
    assert set(counts["evenergy"]) >= {spec.name for spec in RAW_TABLES}
    assert "dispatch_effectiveness" in counts["analytics"]
    assert "daily_dispatch_effectiveness" in counts["analytics"]
    _declared_columns_exist(workdir / "warehouse.duckdb")
