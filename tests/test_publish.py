"""The published copy: what it holds, personal data reduced, a copy that cannot be replaced;
then with real processes: sessions open on it across two nightly runs, a failing check that
publishes nothing, the nightly run's build and exports, the registry's `duckdb` CLI running the
README's queries on it, file modes, and the wait for a held working warehouse."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.errors import RunFailed
from pipelines.models import SQL_DIR
from pipelines.publish import publish, published_path
from pipelines.simulator import SimulatorServer
from pipelines.sql_session import find_cli
from tests.built_fixture import LATITUDE, LONGITUDE
from tests.cli_helpers import LiveProcess, project_workdir, run_cli, simulator_env
from tests.pipelines.conftest import START, simulator_config


def _relations(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    rows = conn.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema in ('evenergy', 'analytics')"
    ).fetchall()
    return {(schema, name): kind for schema, name, kind in rows}


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    return int(conn.execute(f"select count(*) from {relation}").fetchall()[0][0])


def _columns(conn: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [row[0] for row in conn.execute(f"describe {relation}").fetchall()]


# what the copy holds


def test_the_copy_holds_every_table_and_model_with_views_materialized(database):
    published = publish(database, include_personal=True)
    assert (
        published.path
        == published_path(database)
        == database.with_name("warehouse_published.duckdb")
    )
    with (
        duckdb.connect(str(database), read_only=True) as working,
        duckdb.connect(str(published.path), read_only=True) as copy,
    ):
        source, copied = _relations(working), _relations(copy)
        assert "VIEW" in source.values()  # the staging models
        assert set(copied) == set(source)
        assert set(copied.values()) == {"BASE TABLE"}
        for schema, name in source:
            relation = f'"{schema}"."{name}"'
            assert _count(copy, relation) == _count(working, relation), relation
            assert _columns(copy, relation) == _columns(working, relation), relation
    assert published.tables == len(source)
    assert [p.name for p in database.parent.iterdir() if ".incoming-" in p.name] == []


def test_the_copy_carries_rounded_locations_and_no_personal_columns(database):
    publish(database)  # [export] include_personal_data is unset: false
    with (
        duckdb.connect(str(database), read_only=True) as working,
        duckdb.connect(str(published_path(database)), read_only=True) as copy,
    ):
        assert "user_id" in _columns(working, "evenergy.evses")  # the warehouse keeps it
        assert "user_id" not in _columns(copy, "evenergy.evses")
        assert "user_id" not in _columns(copy, "analytics.stg_evses")
        for column in ("location__address_1", "location__postal_code", "location__name"):
            assert column not in _columns(copy, "evenergy.charging_sub_sessions")
        places = copy.execute(
            "select distinct location__latitude, location__longitude from evenergy.evses"
        ).fetchall()
        assert places == [(round(LATITUDE, 2), round(LONGITUDE, 2))]
        degrees = copy.execute(
            "select distinct latitude_degrees, longitude_degrees from analytics.stg_evses"
        ).fetchall()
        assert degrees == [(round(LATITUDE, 2), round(LONGITUDE, 2))]


def test_a_copy_that_cannot_be_replaced_is_one_line_and_leaves_it_alone(database):
    blocker = published_path(database)
    blocker.mkdir()  # not a file the job may replace
    (blocker / "notes.txt").write_text("mine")
    with pytest.raises(RunFailed) as failure:
        publish(database)
    message = str(failure.value)
    assert "\n" not in message
    assert f"cannot replace the published copy {blocker}" in message
    assert (blocker / "notes.txt").read_text() == "mine"
    assert [p.name for p in database.parent.iterdir() if ".incoming-" in p.name] == []


# real processes: the CLI against the simulator


class Night:
    """A simulator, a working directory and the CLI's environment pointed at both; what each
    command run on them gave, in order (`results`)."""

    def __init__(self, simulator: SimulatorServer, workdir: Path) -> None:
        self.simulator, self.workdir = simulator, workdir
        self.env = simulator_env(simulator, workdir)
        self.database = workdir / "warehouse.duckdb"
        self.published = published_path(self.database)
        self.results: list[subprocess.CompletedProcess[str]] = []

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        self.results.append(run_cli(list(args), {**self.env, **env}, self.workdir))
        return self.results[-1]

    def next_night(self) -> None:
        self.simulator.clock.advance(timedelta(hours=6))


@pytest.fixture
def night(tmp_path):
    with SimulatorServer(simulator_config(n_evses=3)) as simulator:
        yield Night(simulator, project_workdir(tmp_path))


_SESSION = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
def counts():
    return conn.execute(
        "select (select count(*) from evenergy.status_logs), "
        "(select count(*) from evenergy._evenergy_runs)"
    ).fetchall()[0]
print(*counts(), flush=True)
sys.stdin.readline()
# every value of the table, read from the file now (the counts above came from metadata)
print(*counts(), *conn.execute(CHECKSUM).fetchall()[0], flush=True)
""".replace("CHECKSUM", repr("select sum(hash(s)) from evenergy.status_logs as s"))


def _new_session(path: Path) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", _SESSION, str(path)],
        input="\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [int(value) for value in out]


def test_a_session_on_the_published_copy_survives_two_runs(loaded, tmp_path):
    night, _ = _after_the_first_night(loaded, tmp_path)
    snapshot = shutil.copyfile(night.published, tmp_path / "first_build.duckdb")
    session = subprocess.Popen(
        [sys.executable, "-c", _SESSION, str(night.published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert session.stdin is not None and session.stdout is not None
    before = [int(value) for value in session.stdout.readline().split()]
    assert before[1] == 1
    for _ in range(2):
        night.next_night()
        result = night.run("run")
        assert result.returncode == exit_codes.OK, result.stderr[-2000:]
    session.stdin.write("again\n")
    session.stdin.flush()
    after = [int(value) for value in session.stdout.readline().split()]
    assert session.wait(timeout=30) == 0
    # the old session still reads its own build, every value of it
    assert after == [*before, _new_session(snapshot)[-1]]
    status_logs, runs = _new_session(night.published)[:2]
    assert runs == 3 and status_logs > before[0]  # a new session sees the newest build


_BAD_DISPATCH = """
insert into evenergy.dispatcher_logs
    (charging_sub_session_id, internal_command_id, logged_at, device_type, _dlt_load_id, _dlt_id)
values ('css-x', 'cmd-x', now(), 'TOASTER', '1700000000.1', 'bad-row')
"""


def test_a_failing_check_publishes_and_exports_nothing(loaded, tmp_path):
    night, exports = _after_the_first_night(loaded, tmp_path)
    published, inode = night.published.read_bytes(), night.published.stat().st_ino
    current = os.readlink(exports / "current")
    with duckdb.connect(str(night.database)) as conn:  # a raw row no check accepts
        conn.execute(_BAD_DISPATCH)
    night.next_night()
    second = night.run("run", "--export", str(exports))
    assert second.returncode == exit_codes.CHECKS_FAILED, second.stderr[-2000:]
    assert "data checks failed" in second.stderr
    assert night.published.stat().st_ino == inode
    assert night.published.read_bytes() == published
    assert os.readlink(exports / "current") == current
    with duckdb.connect(str(night.database), read_only=True) as conn:
        runs = conn.execute(
            "select exit_code, outcome from evenergy._evenergy_runs order by started_at"
        ).fetchall()
    assert runs == [(0, "complete"), (4, "checks_failed")]


def test_the_warehouse_held_by_another_process_is_waited_for_then_one_line(night):
    duckdb.connect(str(night.database)).close()  # a warehouse file, held below
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb\n"
            f"conn = duckdb.connect({str(night.database)!r}, read_only=True)\n"
            "print('holding', flush=True); time.sleep(float(sys.argv[1]))",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        result = night.run("-q", "run", WAREHOUSE__HELD_WAIT_SECONDS="1.5")
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == exit_codes.FAILED
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"held by process {holder.pid}" in lines[0]
    assert "held_wait_seconds" in lines[0] and "evenergy-etl sql" in lines[0]
    assert waited >= 1.5
    assert night.simulator.request_count == 0  # checked before the load


def test_a_holder_that_leaves_during_the_wait_lets_the_run_go_on(night):
    duckdb.connect(str(night.database)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb\n"
            f"conn = duckdb.connect({str(night.database)!r}, read_only=True)\n"
            "print('holding', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    env = {**night.env, "WAREHOUSE__HELD_WAIT_SECONDS": "60"}
    run = LiveProcess.start(["run", "--no-models"], env, night.workdir)
    waiting = f"warehouse held by process {holder.pid}"
    try:
        assert run.wait_for(lambda: any(waiting in line for line in run.lines))
        assert night.simulator.request_count == 0  # still waiting, before the load
    finally:
        holder.communicate("\n", timeout=30)  # the analyst closes the session
    assert run.process.wait(timeout=120) == exit_codes.OK, "".join(run.lines)[-2000:]
    assert night.simulator.request_count > 0


# one nightly run, shared by the tests that only read what it wrote, and the first night of
# the tests of the nights after it (each on a copy of its own)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """`run --export`, then `export --raw`, on a simulator kept for the module."""
    tmp_path = tmp_path_factory.mktemp("loaded")
    with SimulatorServer(simulator_config(n_evses=3)) as simulator:
        night = Night(simulator, project_workdir(tmp_path))
        exports = tmp_path / "exports"
        previous = os.umask(0o022)  # a permissive umask: the CLI must set its own
        try:
            result = night.run("run", "--export", str(exports))
            assert result.returncode == exit_codes.OK, result.stderr[-2000:]
            raw = night.run("export", "--to", str(exports), "--raw")
            assert raw.returncode == exit_codes.OK, raw.stderr[-2000:]
        finally:
            os.umask(previous)
        yield night, exports


def _after_the_first_night(loaded, tmp_path: Path) -> tuple[Night, Path]:
    """A copy of the shared first night (working directory, dlt's state, published copy,
    exports), whose next nights run against the same simulator: a nightly run with models
    costs seconds, and the copy is the test's own to change."""
    night, exports = loaded
    workdir = shutil.copytree(night.workdir, tmp_path / "work", symlinks=True)
    copied = shutil.copytree(exports, tmp_path / "exports", symlinks=True)
    return Night(night.simulator, workdir), copied


def test_nightly_run_builds_checks_and_exports(loaded):
    night, exports = loaded
    result, again = night.results[:2]  # `run --export`, then `export --raw`
    assert result.returncode == exit_codes.OK, result.stderr[-2000:]
    assert "data checks" not in result.stderr
    assert any("models:" in line and "built" in line for line in result.stderr.splitlines())
    assert list((exports / "dispatch_effectiveness").glob("date=*/*.parquet"))
    assert again.returncode == 0
    assert "raw/status_logs" in again.stdout
    assert (exports / "raw" / "status_logs" / "data.parquet").is_file()


def test_no_file_the_job_writes_is_world_accessible(loaded):
    night, exports = loaded
    written = [night.database, night.published, night.workdir / "warehouse.duckdb.lock"]
    for root, dirs, files in os.walk(exports):
        written += [Path(root) / name for name in dirs + files]
    assert len(written) > 10
    for path in written:
        if not path.is_symlink():
            assert path.stat().st_mode & 0o007 == 0, f"{path}: {oct(path.stat().st_mode)}"


def test_the_published_copy_and_parquet_carry_rounded_locations_and_no_user_id(loaded):
    night, exports = loaded
    query = "select id, location__latitude, location__longitude from evenergy.evses order by id"
    with duckdb.connect(str(night.database), read_only=True) as working:
        exact = working.execute(query).fetchall()
    rounded = [(i, round(lat, 2), round(lon, 2)) for i, lat, lon in exact]
    assert rounded != exact  # the simulator's locations have more than two decimals
    with duckdb.connect(str(night.published), read_only=True) as copy:
        assert copy.execute(query).fetchall() == rounded
        assert "user_id" not in _columns(copy, "evenergy.evses")
    with duckdb.connect() as reader:
        parquet = f"read_parquet('{exports}/raw/evses/*.parquet')"
        assert reader.execute(query.replace("evenergy.evses", parquet)).fetchall() == rounded
        assert "user_id" not in _columns(reader, f"select * from {parquet}")


_PARQUET = re.compile(r"read_parquet\('(\w+)/[^']*'(?:,\s*hive_partitioning\s*=\s*true)?\)")


def _readme_queries() -> list[str]:
    """sql/README.md's examples, on the published copy: `analytics.<model>` for the Parquet."""
    queries = re.findall(r"```sql\n(.*?)```", (SQL_DIR / "README.md").read_text(), re.DOTALL)
    simulated_day = (START + timedelta(days=3)).date().isoformat()  # the simulator's "today"
    return [
        _PARQUET.sub(r"analytics.\1", q).replace("current_date", f"date '{simulated_day}'")
        for q in queries
    ]


@pytest.mark.parametrize("number", range(len(_readme_queries())))
def test_the_duckdb_cli_runs_the_readme_queries_on_the_published_copy(loaded, number):
    night, _ = loaded
    shell = find_cli()
    assert shell is not None, "the dev dependency duckdb-cli provides the `duckdb` shell"
    query = _readme_queries()[number]
    with duckdb.connect(str(night.published), read_only=True) as conn:
        reads = "analytics.dispatch_effectiveness" in query
        if reads and "date" not in _columns(conn, "analytics.dispatch_effectiveness"):
            pytest.skip("analytics.dispatch_effectiveness has no `date` column yet (issue 10)")
    result = subprocess.run(
        [shell, "-readonly", "-csv", str(night.published), "-c", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    with duckdb.connect(str(night.published), read_only=True) as conn:
        expected = conn.execute(query)
        names = [d[0] for d in expected.description or []]
        expected_rows = expected.fetchall()
    assert header == names
    assert len(rows) == len(expected_rows)
    assert rows or number != 0  # the last week of the simulated fleet has dispatches


def test_a_publish_out_of_memory_names_its_setting_and_keeps_the_copy(tmp_path, monkeypatch):
    """Running out of DuckDB's cap while writing the copy says which setting to raise."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema evenergy")
        conn.execute(
            "create table evenergy.status_logs as select i, md5(i::varchar) as text "
            "from range(2000000) t(i)"
        )
    monkeypatch.setenv("DESTINATION__DUCKDB__MEMORY_LIMIT", "2MB")
    with pytest.raises(RunFailed, match=r"memory_limit, now 2MB"):
        publish(database)
    assert not published_path(database).exists()
