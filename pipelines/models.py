"""The SQL models' entry point: build and test the dbt project in ``sql/`` on a warehouse file.

``sql/`` is a dbt project (staging views, intermediate and mart tables, incremental where the
history is large; YAML and singular tests); :mod:`pipelines.transform` runs it in-process.
This module keeps the interface the nightly job and the CLI use: the parameters, the result,
and the two failures (a model that does not build, a data test that fails).
``sql/README.md`` documents every model and measure.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
from dlt.common.configuration import configspec

from pipelines import transform
from pipelines.config import ModelSettings
from pipelines.errors import raise_setting
from pipelines.lake import Lake, Warehouse, connect_warehouse
from pipelines.lake_models import BUILD_SCHEMA

logger = logging.getLogger(__name__)

SQL_DIR = transform.PROJECT_DIR
SCHEMA = transform.SCHEMA
DEFAULT_LOOKBACK = timedelta(hours=6)


@configspec
class ModelParams(ModelSettings):
    """The thresholds of the dispatch measures: the fields, defaults and meanings of
    `[models]` are `pipelines.config.ModelSettings`; this adds their check and the dbt vars.

    Raises:
        ValueError: on construction (and after `pipelines.config.load`) when a value is not
            finite, or is negative (zero for W and voltage).
    """

    def __post_init__(self) -> None:
        """Reject values the SQL cannot use."""
        for name in ModelSettings.get_resolvable_fields():
            value = float(getattr(self, name))
            positive = name in ("response_window_minutes", "nominal_voltage_volts")
            if not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ValueError(f"{name} must be a finite, valid number: {value}")

    def on_resolved(self) -> None:
        """dlt sets the fields after construction: check them again."""
        self.__post_init__()

    def variables(self) -> dict[str, float]:
        """The dbt vars the SQL reads with ``var()``, in SQL units.

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
class BuildResult:
    """What a build did.

    Attributes:
        models: the models built, in dbt's order.
        seconds: wall time of ``dbt build`` (models and tests).
        row_counts: rows per table (views are not counted: counting would run them).
    """

    models: list[str]
    seconds: float
    row_counts: dict[str, int]


class ModelBuildError(Exception):
    """A model could not be built (or dbt could not run); the next build is a full refresh."""


@dataclass(frozen=True)
class CheckResult:
    """One failed data test.

    Attributes:
        name: the dbt test's name (``unique_dispatch_effectiveness_...`` or a singular test's
            file name).
        failing_rows: how many offending rows it returned (0 when the test could not run).
    """

    name: str
    failing_rows: int


class DataCheckError(Exception):
    """A data test returned offending rows, or could not run."""

    def __init__(self, message: str, failed: list[CheckResult] | None = None) -> None:
        """Keep the failed tests next to the message.

        Args:
            message: what failed.
            failed: the tests that failed.
        """
        super().__init__(message)
        self.failed = failed or []


def build_database(
    database: Warehouse, params: ModelParams = DEFAULT_PARAMS, *, full_refresh: bool = False
) -> BuildResult:
    """Build and test every model of the warehouse file ``database`` (``dbt build``).

    What the nightly job and ``evenergy-etl models`` call. Creates the raw tables no row has
    reached yet first, so an empty or partly loaded warehouse builds. Incremental unless
    ``full_refresh``, the parameters changed, or the previous build did not finish.

    Args:
        database: the warehouse file.
        params: the measures' thresholds.
        full_refresh: rebuild every model from scratch.

    Returns:
        The models built, the time taken and each table's row count.

    Raises:
        ModelBuildError: when a model fails to build.
        DataCheckError: when a data test fails (the models stay built, for inspection; the
            next build rebuilds them from scratch).
    """
    from pipelines.warehouse import ensure_tables

    with connect_warehouse(database) as conn:
        ensure_tables(conn)
    variables = {**params.variables(), "lookback_seconds": lookback().total_seconds()}
    try:
        run = transform.build(database, variables, full_refresh=full_refresh)
    except transform.DbtFailed as err:  # out of memory before any model (seen under load)
        raise ModelBuildError(_with_memory_hint(str(err))) from err
    models = [n for n in run.nodes if n.resource_type == "model"]
    broken = [n for n in models if n.status == "error"]
    if broken:
        lines = "; ".join(f"{n.name}: {n.message}" for n in broken)
        raise ModelBuildError(f"{len(broken)} model(s) failed to build: {_with_memory_hint(lines)}")
    tests = [n for n in run.nodes if n.resource_type == "test"]
    failed = [n for n in tests if n.status in ("fail", "error")]
    if failed:
        results = [CheckResult(n.name, n.failures) for n in failed]
        lines = "\n".join(
            f"  {n.name}: {n.failures} offending rows"
            if n.status == "fail"
            else f"  {n.name}: could not run: {n.message}"
            for n in failed
        )
        raise DataCheckError(f"{len(failed)} data test(s) failed:\n{lines}", results)
    built = [n.name for n in models if n.status == "success"]
    schema = BUILD_SCHEMA if isinstance(database, Lake) else SCHEMA  # lake: pipelines.lake_models
    with connect_warehouse(database) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE'",
                [schema],
            ).fetchall()
        }
        row_counts = {
            name: int(conn.execute(f"select count(*) from {schema}.{name}").fetchall()[0][0])
            for name in built
            if name in tables
        }
    logger.info(
        "models: %s build of %d models and %d tests in %.1f s",
        "full" if run.full_refresh else "incremental",
        len(built),
        len(tests),
        run.seconds,
    )
    return BuildResult(models=built, seconds=run.seconds, row_counts=row_counts)


def _with_memory_hint(message: str) -> str:
    """`message`, naming the setting to raise when DuckDB ran out of its memory limit."""
    if "Out of Memory" not in message:
        return message
    return message + raise_setting("models_memory_limit", transform.models_memory_limit())


def lookback() -> timedelta:
    """``[sources.evenergy] lookback``: how late a status log may still arrive.

    Returns:
        The configured duration, 6 h when unset.
    """
    import dlt

    from pipelines.evenergy.parsing import parse_duration

    value: str | float | None = dlt.config.get("sources.evenergy.lookback")
    return DEFAULT_LOOKBACK if value is None else parse_duration(value)


def build_models(
    conn: duckdb.DuckDBPyConnection,
    params: ModelParams = DEFAULT_PARAMS,
    *,
    full_refresh: bool = False,
) -> BuildResult:
    """``build_database`` on the warehouse file ``conn`` has open (the connection stays usable).

    Args:
        conn: a connection to a warehouse file (not an in-memory database).
        params: the measures' thresholds.
        full_refresh: rebuild every model from scratch.

    Returns:
        The build's result.

    Raises:
        ModelBuildError: when a model fails to build, or ``conn`` holds no file.
        DataCheckError: when a data test fails.
    """
    rows = conn.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    if not rows or not rows[0][0]:
        raise ModelBuildError("the models are built in a warehouse file, not in memory")
    conn.execute("checkpoint")
    return build_database(Path(rows[0][0]), params, full_refresh=full_refresh)
