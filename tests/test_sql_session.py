"""`evenergy-etl sql`: a read-only session on the published copy, in the registry's `duckdb`
shell or the built-in one; one query with `-c`; one line when there is no copy yet."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.publish import publish
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import PROJECT, project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config

COUNT = "select count(*) as n from evenergy.status_logs"
CLI_VERSION = "v1.5.6"  # the duckdb-cli dev dependency


@pytest.fixture(scope="module")
def loaded(template, tmp_path_factory):
    """A published copy of the built fixture warehouse, as a good run leaves it (the session
    only reads the copy: a nightly run to make one would cost seconds and add nothing)."""
    workdir = project_workdir(tmp_path_factory.mktemp("sql"))
    database = Path(shutil.copyfile(template, workdir / "warehouse.duckdb"))
    published = publish(database).path
    with duckdb.connect(str(published), read_only=True) as conn:
        rows = int(conn.execute(COUNT).fetchall()[0][0])
    assert rows > 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        {
            "DESTINATION__DUCKDB__CREDENTIALS": str(database),
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            "PYTHONPATH": str(PROJECT),
        }
    )
    return workdir, env, published, rows


def test_one_query_in_the_duckdb_shell(loaded):
    workdir, env, _, rows = loaded
    result = run_cli(["sql", "-c", f"select version() as v, ({COUNT}) as n"], env, workdir)
    assert result.returncode == 0, result.stderr
    assert CLI_VERSION in result.stdout  # the registry's shell, not the Python module (1.5.5)
    assert re.search(rf"\b{rows}\b", result.stdout)


def test_the_built_in_shell_reads_statements_until_quit(loaded):
    workdir, env, _, rows = loaded
    script = f"{COUNT}\n;\nselect version(), 41 +\n 1 as answer;\n.quit\nselect 'never run';\n"
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "sql", "--python"],
        input=script,
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(rf"\b{rows}\b", result.stdout)
    assert re.search(r"\b42\b", result.stdout) and duckdb.__version__ in result.stdout
    assert "never run" not in result.stdout


def test_the_session_is_read_only(loaded):
    workdir, env, published, _ = loaded
    before = published.read_bytes()
    for shell in ([], ["--python"]):
        result = run_cli(["sql", *shell, "-c", "create table evenergy.mine (a int)"], env, workdir)
        assert result.returncode != 0, shell
        assert "read-only" in (result.stdout + result.stderr).lower(), shell
    assert published.read_bytes() == before


def test_no_published_copy_is_one_line(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=1)) as simulator:
        result = run_cli(["sql", "-c", "select 1"], simulator_env(simulator, workdir), workdir)
    assert result.returncode == exit_codes.FAILED
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no published copy" in lines[0], result.stderr
