"""The nightly job does not depend on the directory it is started from (issue 9): cron
starts it in `$HOME` or `/`, an operator from the checkout. Settings that shape the
warehouse are in code, `.dlt/` is the project's own, and a relative warehouse path is
relative to the project folder."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb

from pipelines import exit_codes
from pipelines.evenergy_pipeline import warehouse_path
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import PROJECT, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config
from tests.pipelines.expected import assert_warehouse_matches, expected_rows


def _lineage_nulls(database: Path) -> int:
    """Rows of any raw table without the lineage columns the staging models order by."""
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = "
                "'evenergy' and table_name not like '\\_%' escape '\\'"
            ).fetchall()
        ]
        return sum(
            (
                conn.execute(
                    f"select count(*) from evenergy.{t} where _dlt_load_id is null or _dlt_id is null"
                ).fetchone()
                or (0,)
            )[0]
            for t in tables
        )


def test_runs_from_root_a_temporary_directory_and_the_project_load_the_same_way(tmp_path):
    """Alternating working directories, each run exits 0, every row has its lineage columns,
    and the warehouse ends equal to the simulator's rows."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = simulator_config(n_evses=4)
    with SimulatorServer(config) as simulator:
        env = simulator_env(simulator, tmp_path)
        env.pop("DLT_PROJECT_DIR", None)
        database = Path(env["DESTINATION__DUCKDB__CREDENTIALS"])
        for step, cwd in enumerate((Path("/"), PROJECT, elsewhere, Path("/"))):
            if step:
                simulator.clock.advance(timedelta(hours=6))
            last = step == 3  # the models once, at the end: the load is what a directory broke
            result = run_cli(["run"] if last else ["run", "--no-models"], env, cwd)
            assert result.returncode == exit_codes.OK, (cwd, result.stderr)
            assert _lineage_nulls(database) == 0, cwd
        assert_warehouse_matches(database, expected_rows(simulator, config.start))
    assert not (elsewhere / "warehouse.duckdb").exists()
    assert not Path("/warehouse.duckdb").exists()


def test_a_relative_warehouse_path_is_relative_to_the_project_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path / "project"))
    monkeypatch.chdir("/")
    assert warehouse_path("data/warehouse.duckdb") == tmp_path / "project/data/warehouse.duckdb"
    assert warehouse_path("/srv/w.duckdb") == Path("/srv/w.duckdb")


def test_the_projects_settings_are_read_from_any_working_directory(tmp_path):
    """From `/`, `.dlt/config.toml` of the checkout is read (it sets no key: its defaults are
    commented out), and `DLT_PROJECT_DIR` chooses another folder's `.dlt/`."""
    script = (
        "import dlt, sys; from pipelines.project import use_project_settings; "
        "use_project_settings(); print(dlt.config.get('sources.evenergy.lookback'), "
        "*(p for c in dlt.config.config_providers for p in getattr(c, 'present_locations', [])))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT)}
    checkout = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd="/", capture_output=True, text=True
    )
    assert checkout.stdout.split() == ["None", str(PROJECT / ".dlt" / "config.toml")], (
        checkout.stderr
    )
    other = tmp_path / "other"
    (other / ".dlt").mkdir(parents=True)
    (other / ".dlt" / "config.toml").write_text('[sources.evenergy]\nlookback = "2h"\n')
    chosen = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DLT_PROJECT_DIR": str(other)},
        cwd="/",
        capture_output=True,
        text=True,
    )
    assert chosen.stdout.split() == ["2h", str(other / ".dlt" / "config.toml")], chosen.stderr
