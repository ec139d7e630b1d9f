"""Build the SQL models in ``sql/`` inside DuckDB and run their data checks.

Staging models (``sql/staging/*.sql``) become views and marts (``sql/marts/*.sql``) tables in
the ``analytics`` schema. Each file holds one SELECT; this runner wraps it in
``create or replace view|table``, orders the files by the ``analytics.<model>`` names they
read and applies them all in one transaction, so a failing model leaves the previous version
of every model in place. Checks (``sql/checks/<model>__<rule>.sql``) are SELECTs returning
offending rows: empty means pass. ``sql/README.md`` documents every model and measure.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
SCHEMA = "analytics"
RAW_SCHEMA = "evenergy"

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_REFERENCE = re.compile(rf'\b{SCHEMA}\s*\.\s*"?([A-Za-z_][A-Za-z0-9_]*)', re.IGNORECASE)
_RAW_REFERENCE = re.compile(rf"\b{RAW_SCHEMA}\s*\.", re.IGNORECASE)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_LAYERS = (("staging", "view"), ("marts", "table"))


@dataclass(frozen=True)
class ModelParams:
    """The thresholds of the dispatch measures (sql/README.md explains each one).

    Attributes:
        response_window_minutes: W, how long after a dispatch a reaction still counts.
        staleness_minutes: S, how old the state before a dispatch may be.
        rate_change_watts: R, the smallest charge-rate change that counts, and the tolerance
            around a target rate.
        current_tolerance_milliamps: T, how far the charger's current limit may sit from the
            commanded one and still count as obeyed.
        nominal_voltage_volts: the voltage assumed when the charger reports none.
    """

    response_window_minutes: float = 15
    staleness_minutes: float = 15
    rate_change_watts: float = 500
    current_tolerance_milliamps: float = 1000
    nominal_voltage_volts: float = 230

    def __post_init__(self) -> None:
        """Reject values the SQL cannot use.

        Raises:
            ValueError: when a value is not finite, or is negative (zero for W and voltage).
        """
        for name, value in self.variables().items():
            positive = name in ("response_window_seconds", "nominal_voltage_volts")
            if not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ValueError(f"model parameter {name} must be a finite, valid number: {value}")

    def variables(self) -> dict[str, float]:
        """The DuckDB variables the SQL reads with ``getvariable``, in SQL units.

        Returns:
            Variable name to value (windows in seconds).
        """
        return {
            "response_window_seconds": float(self.response_window_minutes) * 60,
            "staleness_seconds": float(self.staleness_minutes) * 60,
            "rate_change_watts": float(self.rate_change_watts),
            "current_tolerance_milliamps": float(self.current_tolerance_milliamps),
            "nominal_voltage_volts": float(self.nominal_voltage_volts),
        }


DEFAULT_PARAMS = ModelParams()


@dataclass(frozen=True)
class Model:
    """One SQL model file.

    Attributes:
        name: the model (and relation) name, the file's stem.
        path: the SQL file.
        materialization: ``view`` (staging) or ``table`` (marts).
        select: the file's SELECT, without a trailing semicolon.
        depends_on: the ``analytics`` models it reads.
    """

    name: str
    path: Path
    materialization: str
    select: str
    depends_on: frozenset[str]


@dataclass(frozen=True)
class BuildResult:
    """What a build applied.

    Attributes:
        models: model names in the order they were applied.
        seconds: wall time of the build.
        row_counts: rows per mart (table).
    """

    models: list[str]
    seconds: float
    row_counts: dict[str, int]


@dataclass(frozen=True)
class CheckResult:
    """One data check.

    Attributes:
        name: the check file's stem, ``<model>__<rule>``.
        failing_rows: how many offending rows its query returned (0 = pass).
    """

    name: str
    failing_rows: int


class ModelBuildError(Exception):
    """A model file could not be read, ordered or applied; nothing was changed."""


class DataCheckError(Exception):
    """A data check returned offending rows, or could not run."""

    def __init__(self, message: str, failed: list[CheckResult] | None = None) -> None:
        """Keep the failed checks next to the message.

        Args:
            message: what failed.
            failed: the checks that returned rows.
        """
        super().__init__(message)
        self.failed = failed or []


def discover_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Read the staging and mart files and order them so each follows what it reads.

    Args:
        sql_dir: the folder holding ``staging/`` and ``marts/``.

    Returns:
        The models in dependency order (staging first, then by name, among equals).

    Raises:
        ModelBuildError: on a duplicate name, an unknown reference, a cycle, or a mart that
            reads a raw table.
    """
    models: dict[str, Model] = {}
    for layer, materialization in _LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            model = _read_model(path, materialization)
            if model.name in models:
                raise ModelBuildError(f"{path}: model {model.name} is defined twice")
            models[model.name] = model
    for model in models.values():
        unknown = sorted(model.depends_on - models.keys())
        if unknown:
            raise ModelBuildError(f"{model.path}: reads unknown model(s) {', '.join(unknown)}")
    return _in_dependency_order(models)


def build_models(
    conn: duckdb.DuckDBPyConnection,
    params: ModelParams = DEFAULT_PARAMS,
    sql_dir: Path = SQL_DIR,
) -> BuildResult:
    """Apply every model in one transaction: staging as views, marts as tables.

    Args:
        conn: a connection to the warehouse holding the raw ``evenergy`` tables.
        params: the measures' thresholds.
        sql_dir: the folder holding ``staging/`` and ``marts/``.

    Returns:
        The models applied, the time taken and each mart's row count.

    Raises:
        ModelBuildError: when a model fails; the transaction is rolled back, so every model
            keeps its previous version.
    """
    return _build(conn, params, sql_dir, with_checks=False)


def run_checks(conn: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[CheckResult]:
    """Run every ``checks/*.sql`` query and count the rows each returns.

    Args:
        conn: a connection to the built warehouse.
        sql_dir: the folder holding ``checks/``.

    Returns:
        One result per check file, by name.

    Raises:
        DataCheckError: when a check query itself fails.
    """
    results = []
    for path in sorted((sql_dir / "checks").glob("*.sql")):
        select = _statement(path.read_text(encoding="utf-8"))
        started = time.perf_counter()
        try:
            failing_rows = _count(conn, f"(\n{select}\n) as offending_rows")
        except duckdb.Error as err:
            raise DataCheckError(f"check {path.name} could not run: {err}") from err
        result = CheckResult(path.stem, failing_rows)
        logger.debug(
            "check %s: %d offending rows (%.2f s)",
            result.name,
            result.failing_rows,
            time.perf_counter() - started,
        )
        results.append(result)
    logger.info("ran %d checks, %d failed", len(results), sum(r.failing_rows > 0 for r in results))
    return results


def build_and_check(
    conn: duckdb.DuckDBPyConnection,
    params: ModelParams = DEFAULT_PARAMS,
    sql_dir: Path = SQL_DIR,
) -> BuildResult:
    """Build the models and run the checks before committing.

    A build whose checks fail is rolled back, so the warehouse keeps the last version that
    passed (run ``build_models`` alone to inspect the offending rows).

    Args:
        conn: a connection to the warehouse holding the raw ``evenergy`` tables.
        params: the measures' thresholds.
        sql_dir: the folder holding ``staging/``, ``marts/`` and ``checks/``.

    Returns:
        The build's result.

    Raises:
        ModelBuildError: when a model fails to build.
        DataCheckError: when a check returns rows (its message lists each one) or fails.
    """
    return _build(conn, params, sql_dir, with_checks=True)


def build_database(database: Path, params: ModelParams = DEFAULT_PARAMS) -> BuildResult:
    """Build and check the models of the warehouse file `database` (what the nightly job
    and `evenergy-etl models` call). Creates the raw tables no row has reached yet first,
    so an empty or partly loaded warehouse builds.

    Raises:
        ModelBuildError: when a model fails to build.
        DataCheckError: when a check fails.
    """
    from pipelines.warehouse import ensure_tables

    with duckdb.connect(str(database)) as conn:
        ensure_tables(conn)
        return build_and_check(conn, params)


def _build(
    conn: duckdb.DuckDBPyConnection, params: ModelParams, sql_dir: Path, *, with_checks: bool
) -> BuildResult:
    models = discover_models(sql_dir)
    started = time.perf_counter()
    for name, value in params.variables().items():
        conn.execute(f"set variable {name} = {value!r}")
    conn.execute("begin transaction")
    try:
        conn.execute(f"create schema if not exists {SCHEMA}")
        row_counts = {m.name: _apply(conn, m) for m in models}
        if with_checks:
            _raise_on_failures(run_checks(conn, sql_dir))
        conn.execute("commit")
    except BaseException:
        _rollback(conn)
        raise
    seconds = time.perf_counter() - started
    logger.info("built %d models in %.2f s", len(models), seconds)
    return BuildResult(
        models=[m.name for m in models],
        seconds=seconds,
        row_counts={name: n for name, n in row_counts.items() if n is not None},
    )


def _apply(conn: duckdb.DuckDBPyConnection, model: Model) -> int | None:
    started = time.perf_counter()
    relation = f"{SCHEMA}.{model.name}"
    try:
        conn.execute(f"create or replace {model.materialization} {relation} as\n{model.select}\n")
        # counting a view would run it
        rows = _count(conn, relation) if model.materialization == "table" else None
    except duckdb.Error as err:
        raise ModelBuildError(f"model {model.path}: {err}") from err
    logger.info(
        "%s %s in %.2f s%s",
        model.materialization,
        relation,
        time.perf_counter() - started,
        f" ({rows} rows)" if rows is not None else "",
    )
    return rows


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    # fetchall: DuckDB refuses new work on a connection while a result is left unfetched
    rows = conn.execute(f"select count(*) from {relation}").fetchall()
    return int(rows[0][0])


def _raise_on_failures(results: list[CheckResult]) -> None:
    failed = [r for r in results if r.failing_rows > 0]
    if failed:
        lines = "\n".join(f"  {r.name}: {r.failing_rows} offending rows" for r in failed)
        raise DataCheckError(f"{len(failed)} data check(s) failed:\n{lines}", failed)


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.execute("rollback")
    except duckdb.Error:  # the failed statement may already have ended the transaction
        logger.debug("no transaction left to roll back")


def _read_model(path: Path, materialization: str) -> Model:
    name = path.stem
    if not _NAME.match(name):
        raise ModelBuildError(f"{path}: model file names must be lowercase identifiers")
    text = path.read_text(encoding="utf-8")
    code = _COMMENT.sub(" ", text)
    if materialization == "table" and _RAW_REFERENCE.search(code):
        raise ModelBuildError(f"{path}: marts read staging models, never raw {RAW_SCHEMA} tables")
    select = _statement(text)
    if not _statement(code):
        raise ModelBuildError(f"{path}: the file holds no SELECT")
    depends_on = frozenset(ref.lower() for ref in _REFERENCE.findall(code))
    return Model(name, path, materialization, select, depends_on)


def _statement(text: str) -> str:
    return text.strip().rstrip(";").strip()


def _in_dependency_order(models: dict[str, Model]) -> list[Model]:
    sorter = TopologicalSorter({name: m.depends_on for name, m in models.items()})
    try:
        sorter.prepare()
    except CycleError as err:
        cycle = " -> ".join(err.args[1])
        raise ModelBuildError(f"dependency cycle between models: {cycle}") from err
    ordered: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda n: (models[n].materialization != "view", n))
        ordered.extend(models[name] for name in ready)
        sorter.done(*ready)
    return ordered
