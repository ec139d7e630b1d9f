"""Every bad input ends as exactly one line on stderr and its exit code, never a traceback:
run through the real command line in a subprocess, as cron runs it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import PROJECT, project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import simulator_config

WAREHOUSE_COMMANDS = ["run", "models", "export", "status"]
WAREHOUSE_ENV = "DESTINATION__DUCKDB__CREDENTIALS"


def offline_env(workdir: Path, **overrides: str) -> dict[str, str]:
    """Settings for commands that fail before any request (nothing listens on port 9)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        {
            "SOURCES__EVENERGY__BASE_URL": "http://127.0.0.1:9/v2",
            "SOURCES__EVENERGY__TOKEN_URL": "http://127.0.0.1:9/o/token/",
            "SOURCES__EVENERGY__CREDENTIALS__CLIENT_ID": "id",
            "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET": "secret-0123",
            WAREHOUSE_ENV: str(workdir / "warehouse.duckdb"),
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            "PYTHONPATH": str(PROJECT),
        }
    )
    env.update(overrides)
    return env


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only non-empty line on stderr (and no traceback anywhere)."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", WAREHOUSE_COMMANDS)
def test_a_warehouse_path_that_is_a_directory(command, tmp_path):
    workdir = project_workdir(tmp_path)
    directory = tmp_path / "warehouse.duckdb"
    directory.mkdir()
    result = run_cli([command], offline_env(workdir, **{WAREHOUSE_ENV: str(directory)}), workdir)
    line = one_line(result)
    assert result.returncode == exit_codes.USAGE
    assert f"{directory} is a directory" in line and WAREHOUSE_ENV in line


def _damaged_copy(path: Path, how: str) -> None:
    """A file that is not a DuckDB database, or a real warehouse with a damaged block."""
    if how == "not a database":
        path.write_bytes(b"this is a spreadsheet, not a warehouse\n" * 1000)
        return
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema evenergy")
        conn.execute("create table evenergy.t as select range as i from range(100000)")
    with path.open("r+b") as file:
        file.seek(4096)  # the first block after the headers: DuckDB verifies its checksum
        file.write(b"\xff" * 4096)


@pytest.mark.parametrize(
    ("how", "command"),
    [
        *(("not a database", command) for command in WAREHOUSE_COMMANDS),
        ("damaged block", "run"),
        ("damaged block", "status"),
    ],
)
def test_a_damaged_warehouse(how, command, tmp_path):
    workdir = project_workdir(tmp_path)
    warehouse = workdir / "warehouse.duckdb"
    _damaged_copy(warehouse, how)
    result = run_cli([command], offline_env(workdir), workdir)
    line = one_line(result)
    assert result.returncode == exit_codes.FAILED
    assert f"the warehouse {warehouse} cannot be read" in line
    assert "move it away" in line


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can enter (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="evenergy-shared-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _as_nobody() -> list[str]:
    """Root may write anywhere: run as `nobody` (setpriv keeps root's right to read and
    search directories, so the interpreter under /root still loads, but not to write)."""
    if os.getuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot run as another user")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.parametrize("command", ["run", "models"])
def test_an_unwritable_warehouse_directory(command, shared_dir):
    """As root (who may write anywhere) the command runs as `nobody`, as a cron user would."""
    workdir = project_workdir(shared_dir)
    for path in (shared_dir, workdir, workdir / ".dlt"):
        path.chmod(0o755)
    data = workdir / "dlt-data"
    data.mkdir(mode=0o777)
    data.chmod(0o777)
    locked = shared_dir / "readonly"
    locked.mkdir(mode=0o555)
    warehouse = locked / "warehouse.duckdb"
    if command == "models":  # models needs an existing warehouse: one it may read only
        locked.chmod(0o755)
        duckdb.connect(str(warehouse)).close()
        warehouse.chmod(0o444)
        locked.chmod(0o555)
    env = offline_env(workdir, **{WAREHOUSE_ENV: str(warehouse), "DLT_DATA_DIR": str(data)})
    result = run_cli([command], env, workdir, prefix=_as_nobody())
    line = one_line(result)
    assert result.returncode == exit_codes.USAGE
    assert "cannot write the warehouse" in line and WAREHOUSE_ENV in line


def test_a_refused_client_secret_is_configuration(tmp_path):
    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=2)) as simulator:
        env = simulator_env(simulator, workdir)
        env["SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET"] = "not-the-secret"
        result = run_cli(["run"], env, workdir)
        assert simulator.request_count == 0
    line = one_line(result)
    assert result.returncode == exit_codes.USAGE
    assert "refused the client credentials" in line
    assert "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET" in line


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SOURCES__EVENERGY__PAGE_SIZE", "lots", "sources.evenergy.page_size"),
        ("SOURCES__EVENERGY__LOOKBACK", "six hours", "sources.evenergy.lookback"),
        ("MODELS__STALENESS_MINUTES", "fifteen", "models.staleness_minutes"),
        ("LOGGING__PROGRESS_INTERVAL", "often", "logging.progress_interval"),
        ("DESTINATION__DUCKDB__MEMORY_LIMIT", "plenty", "memory_limit"),
    ],
)
def test_an_invalid_setting_is_named(variable, value, named, tmp_path):
    workdir = project_workdir(tmp_path)
    result = run_cli(["run"], offline_env(workdir, **{variable: value}), workdir)
    line = one_line(result)
    assert result.returncode == exit_codes.USAGE
    assert named in line


def test_simulate_on_a_port_in_use(tmp_path):
    workdir = project_workdir(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli(["simulate", "--port", str(port)], offline_env(workdir), workdir)
    line = one_line(result)
    assert result.returncode == exit_codes.USAGE
    assert f"127.0.0.1:{port}" in line and "--port" in line


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (root only): a real full disk, not a simulated one."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_disk_that_fills_while_loading(tmp_path, tiny_filesystem):
    workdir = project_workdir(tmp_path)
    warehouse = tiny_filesystem / "warehouse.duckdb"
    with SimulatorServer(simulator_config(n_evses=12)) as simulator:
        env = simulator_env(simulator, workdir)
        env[WAREHOUSE_ENV] = str(warehouse)
        env["LOAD__RAISE_ON_MAX_RETRIES"] = "1"  # dlt retries a failed job; once is enough here
        result = run_cli(["-q", "run"], env, workdir)
    line = one_line(result)
    assert result.returncode == exit_codes.FAILED
    assert "disk full" in line and str(tiny_filesystem) in line


def test_an_unexpected_error_is_one_line_and_v_shows_the_traceback(tmp_path):
    """dlt's working directory is a symlink loop: nothing foresees that, the last resort
    tells it in one line."""
    workdir = project_workdir(tmp_path)
    loop = tmp_path / "dlt-data"
    loop.symlink_to(loop)
    env = offline_env(workdir, DLT_DATA_DIR=str(loop))
    quiet = run_cli(["status"], env, workdir)
    verbose = run_cli(["-v", "status"], env, workdir)
    line = one_line(quiet)
    assert quiet.returncode == exit_codes.FAILED
    assert "unexpected error" in line and "run with -v for the traceback" in line
    assert verbose.returncode == exit_codes.FAILED
    assert "Traceback (most recent call last)" in verbose.stderr


def test_a_file_in_the_way_of_a_directory(tmp_path):
    workdir = project_workdir(tmp_path)
    with duckdb.connect(str(workdir / "warehouse.duckdb")) as conn:
        conn.execute("create schema analytics")
        conn.execute("create table analytics.daily as select 1 as attempts")
    in_the_way = tmp_path / "exports"
    in_the_way.write_text("not a directory")
    result = run_cli(["export", "--to", str(in_the_way)], offline_env(workdir), workdir)
    line = one_line(result)
    assert result.returncode == exit_codes.USAGE
    assert f"a file is in the way of {in_the_way}" in line


def test_a_warehouse_in_use_by_another_process(tmp_path):
    """A writer holds DuckDB's own lock on the file: `status` says who, in one line."""
    workdir = project_workdir(tmp_path)
    warehouse = workdir / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run_cli(["status"], offline_env(workdir), workdir)
    finally:
        holder.kill()
        holder.wait()
    line = one_line(result)
    assert result.returncode == exit_codes.FAILED
    assert f"in use by process {holder.pid}" in line
