"""Run the dbt project in ``sql/`` in-process (dbt-duckdb) against one warehouse file.

dbt is driven through its Python entry point (``dbtRunner``), so no ``dbt`` executable is
needed. Everything dbt writes for a warehouse (the generated ``profiles.yml``, ``target/``
with the manifest and partial-parse cache, ``logs/``) lives in ``.<file name>.dbt/`` beside
that warehouse: two warehouses in two directories never share a target, and nothing lands in
the repository's ``sql/``.

The runner decides between an incremental build and a full refresh. It keeps a one-row state
table (``main._evenergy_model_build``) in the warehouse: the parameters of the last build,
whether it finished, the newest ``_dlt_load_id`` it had seen and its ``data_through``. A build
is incremental only when the previous one succeeded with the same parameters; otherwise (first
build, a failed or interrupted build, changed parameters, ``full_refresh=True``) every model is
rebuilt from scratch, so a failure never leaves half-built models for the next run to extend.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lake import Lake, Warehouse, connect_warehouse

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent / "sql"
PROFILE = "evenergy"
SCHEMA = "analytics"
STATE_TABLE = "main._evenergy_model_build"
RAW_TABLES = (
    "evses",
    "status_logs",
    "evse_command_logs",
    "charging_sub_sessions",
    "dispatcher_logs",
)

# One row: the current (or last) build. The models read since_load_id,
# previous_data_through and data_through from it (sql/macros/incremental.sql).
_STATE_DDL = f"""
create table if not exists {STATE_TABLE} (
    status varchar not null,  -- building | built
    parameters varchar not null,  -- JSON of the dbt vars that change results
    load_id varchar,  -- newest _dlt_load_id in the raw tables when the build started
    data_through timestamptz,  -- newest sampled_at when the build started
    since_load_id varchar,  -- the previous build's load_id; null: a full refresh
    previous_data_through timestamptz,  -- the previous build's data_through
    started_at timestamptz not null,
    ended_at timestamptz
)
"""


class DbtFailed(Exception):
    """dbt itself could not run (project, profile or adapter error)."""


@dataclass(frozen=True)
class NodeResult:
    """One model or test of a dbt invocation.

    Attributes:
        name: the node's name (model name, or test name).
        resource_type: ``model``, ``test``, ...
        status: dbt's status: success, error, pass, fail, warn, skipped.
        message: dbt's message (the database error of a failed model).
        failures: rows a failed test returned.
    """

    name: str
    resource_type: str
    status: str
    message: str
    failures: int


@dataclass(frozen=True)
class DbtRun:
    """What one ``dbt build`` did.

    Attributes:
        nodes: every node dbt ran or skipped, in the order it reported them.
        full_refresh: whether every model was rebuilt from scratch.
        seconds: wall time of the invocation.
    """

    nodes: list[NodeResult]
    full_refresh: bool
    seconds: float


def work_dir(database: Warehouse) -> Path:
    """Where dbt's profile, target and logs for the warehouse ``database`` live.

    Args:
        database: the warehouse file.

    Returns:
        ``.<file name>.dbt`` beside it (git-ignored); for a lake, beside its file catalog.
    """
    if isinstance(database, Lake):
        return database.dbt_dir()
    return database.resolve().parent / f".{database.name}.dbt"


def models_memory_limit() -> str:
    """`[destination.duckdb] models_memory_limit`: DuckDB's cap while dbt builds (a full
    refresh over 20M status logs peaked at 7.3 GB uncapped; capped, it spills instead)."""
    from pipelines.config import DuckDbSettings, load

    return load(DuckDbSettings).models_memory_limit


def dbt_args(database: Warehouse, *command: str) -> list[str]:
    """The dbt arguments that run ``command`` on ``database``, writing its profile first.

    Args:
        database: the warehouse file.
        command: the dbt subcommand and its own options.

    Returns:
        The argument list for ``dbtRunner.invoke``.
    """
    work = work_dir(database)
    work.mkdir(parents=True, exist_ok=True)
    # generated, not committed: the path is the one variable, and a generated file needs no
    # env_var() indirection or a DBT_PROFILES_DIR set by every caller
    output: dict[str, Any]
    if isinstance(database, Lake):  # the lake's build schemas (pipelines.lake_models)
        from pipelines.lake_models import dbt_output

        output = dbt_output(database, {"memory_limit": models_memory_limit()})
    else:
        output = {
            "type": "duckdb",
            "path": str(database.resolve()),
            "schema": SCHEMA,
            # DuckDB parallelizes each query itself; one dbt thread keeps one writer
            "threads": 1,
            "settings": {"memory_limit": models_memory_limit()},
        }
    profile = {PROFILE: {"target": "warehouse", "outputs": {"warehouse": output}}}
    profile_file = work / "profiles.yml"
    profile_file.touch(mode=0o600)  # a Postgres catalog's password is in it
    profile_file.chmod(0o600)  # also when an older run wrote it
    profile_file.write_text(json.dumps(profile, indent=2), encoding="utf-8")
    return [
        *command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(work),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--log-level",
        "none",
        "--log-level-file",
        "info",
    ]


def invoke(database: Warehouse, *command: str) -> Any:
    """Run one dbt command in-process on ``database``.

    Args:
        database: the warehouse file.
        command: the dbt subcommand and its options.

    Returns:
        dbt's ``dbtRunnerResult``.

    Raises:
        DbtFailed: when dbt raised instead of reporting node results.
    """
    from dbt.cli.main import dbtRunner

    # dbt reads these at start-up; no usage statistics leave the machine
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    started = time.perf_counter()
    try:
        result = dbtRunner().invoke(dbt_args(database, *command))
    finally:
        _release(database)
    logger.debug("dbt %s: %.2f s", command[0], time.perf_counter() - started)
    if result.exception is not None:
        raise DbtFailed(f"dbt {command[0]} failed: {_one_line(result.exception)}")
    return result


def _release(database: Warehouse) -> None:
    """Close the DuckDB instance dbt-duckdb keeps open for the process after a command.

    Left open, the build's last writes stay in the WAL (a file copy of the warehouse would
    miss them), the file stays locked against other processes (an analyst, the next step),
    and a later `duckdb.connect` with other settings fails in this process.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        try:
            environment.close()
        except Exception as error:  # closing must not hide the command's own outcome
            logger.warning("closing dbt's connection to %s: %s", database, error)


def build(
    database: Warehouse,
    variables: Mapping[str, float],
    *,
    full_refresh: bool = False,
    select: str | None = None,
    exclude: str | None = None,
) -> DbtRun:
    """``dbt build`` (models and tests) on ``database``, incremental when it safely can be.

    Args:
        database: the warehouse file; its raw tables must exist.
        variables: the parameters (dbt vars) that change results.
        full_refresh: rebuild every model from scratch.
        select: an optional dbt selection (tests use it).
        exclude: an optional dbt exclusion.

    Returns:
        Every node's result.

    Raises:
        DbtFailed: when dbt could not run at all.
    """
    parameters = json.dumps(dict(sorted(variables.items())), sort_keys=True)
    with connect_warehouse(database) as conn:
        previous = _previous_build(conn)
        load_id, data_through = _watermarks(conn, previous[2] if previous else None)
        why = _full_refresh_reason(previous, parameters, full_refresh)
        if why:
            logger.debug("full refresh of the models (%s)", why)  # cron: one line per phase
        since = (None, None) if why or previous is None else (previous[2], previous[3])
        conn.execute(f"delete from {STATE_TABLE}")
        conn.execute(
            f"insert into {STATE_TABLE} values ('building', ?, ?, ?, ?, ?, now(), null)",
            [parameters, load_id, data_through, *since],
        )
    refresh = why is not None
    # only the parameters go in as vars: they rarely change, and changed vars make dbt
    # parse the whole project again
    command = ["build", "--vars", json.dumps({**variables, "build_state": True})]
    if refresh:
        command.append("--full-refresh")
    if select:
        command += ["--select", select]
    if exclude:
        command += ["--exclude", exclude]
    started = time.perf_counter()
    result = invoke(database, *command)
    seconds = time.perf_counter() - started
    nodes = [
        NodeResult(
            name=str(r.node.name),
            resource_type=str(r.node.resource_type),
            status=str(r.status),
            message=_one_line(r.message or ""),
            failures=int(r.failures or 0),
        )
        for r in result.result.results
    ]
    if result.success:
        with connect_warehouse(database) as conn:
            conn.execute(f"update {STATE_TABLE} set status = 'built', ended_at = now()")
    return DbtRun(nodes=nodes, full_refresh=refresh, seconds=seconds)


def _previous_build(conn: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    conn.execute(_STATE_DDL)
    rows = conn.execute(
        f"select status, parameters, load_id, data_through from {STATE_TABLE}"
    ).fetchall()
    return tuple(rows[0]) if rows else None


def _full_refresh_reason(
    previous: tuple[Any, ...] | None, parameters: str, requested: bool
) -> str | None:
    """Why this build must start from scratch, or None when it can be incremental."""
    if requested:
        return "requested"
    if previous is None:
        return "first build"
    if previous[0] != "built":
        return "the previous build did not finish"
    if previous[1] != parameters:
        return "parameters changed"
    return None


def _watermarks(conn: duckdb.DuckDBPyConnection, since: str | None) -> tuple[str | None, Any]:
    """The newest load id of any raw table and the newest sampled_at, before the build.

    With the previous build's load id, only the loads after it are read: a comparison with a
    literal lets DuckDB skip every older row group by its zone map, where a plain max() read
    every load id of the history (0.15 s of strings at 60 days of status logs).
    """
    # a literal, not a parameter: the scan's filter is planned with its value
    newer = "" if since is None else " where _dlt_load_id > '{}'".format(since.replace("'", "''"))
    newest = " union all ".join(
        f"select max(_dlt_load_id) as load_id from evenergy.{table}{newer}" for table in RAW_TABLES
    )
    load_id = conn.execute(f"select max(load_id) from ({newest})").fetchall()[0][0]
    data_through = conn.execute("select max(sampled_at) from evenergy.status_logs").fetchall()
    return load_id or since, data_through[0][0]


def _one_line(value: object) -> str:
    lines = [line.strip() for line in str(value).splitlines() if line.strip()]
    return " ".join(lines)
