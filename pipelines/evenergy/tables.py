"""Contracts of the raw `evenergy` tables, and the conversion of API pages into Arrow.

Each documented field gets a declared type, so a column exists with its type even while
every value so far is null (dlt leaves an all-null column out of a table otherwise).
Pages become Arrow tables straight away: dlt loads them without row-by-row normalizing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.compute
from dlt.common.schema.typing import TColumnSchema, TDataType

from pipelines.evenergy.parsing import parse_timestamp, ref_id, ref_url

Kind = Literal["text", "bool", "bigint", "double", "timestamp", "json"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "bool": pa.bool_(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}
# json fields (lists of labels, grid feeds) are kept as JSON text: one column, any shape.
_DLT_TYPES: dict[str, TDataType] = {
    "text": "text",
    "bool": "bool",
    "bigint": "bigint",
    "double": "double",
    "timestamp": "timestamp",
    "json": "text",
}


@dataclass(frozen=True)
class Column:
    """One column of a raw table and where its value comes from in the API object."""

    name: str
    kind: Kind
    path: tuple[str, ...] = ()
    convert: Callable[[Any], Any] | None = None

    def source_key(self) -> str:
        """The top-level API field this column reads."""
        return (self.path or tuple(self.name.split("__")))[0]


@dataclass(frozen=True)
class TableSpec:
    """The declared shape of one raw table."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    injected: tuple[str, ...] = ()  # columns filled from the partition, not from the row
    dropped: frozenset[str] = field(default_factory=frozenset)  # API fields replaced by a column

    def dlt_columns(self) -> dict[str, TColumnSchema]:
        """Column hints for `@dlt.resource(columns=...)`."""
        return {
            c.name: {"data_type": _DLT_TYPES[c.kind], "nullable": c.name not in self.primary_key}
            for c in self.columns
        }

    def known_keys(self) -> frozenset[str]:
        """API fields that this spec consumes (everything else is kept as an extra column)."""
        read = {c.source_key() for c in self.columns if c.name not in self.injected}
        return frozenset(read) | self.dropped


def _col(name: str, kind: Kind, *path: str, convert: Callable[[Any], Any] | None = None) -> Column:
    return Column(name, kind, tuple(path), convert)


def _plain(kind: Kind, *names: str) -> tuple[Column, ...]:
    return tuple(_col(name, kind) for name in names)


EVSES = TableSpec(
    name="evses",
    primary_key=("id",),
    columns=(
        *_plain("text", "id", "url", "cpid"),
        _col("model_id", "text", "model", convert=ref_id),
        _col("model_name", "text", "model", "name"),
        _col("make_id", "text", "model", "make", convert=ref_id),
        _col("make_name", "text", "model", "make", "name"),
        _col("user_id", "text", "user", convert=ref_id),
        *_plain("text", "lock_mode", "lifecycle_state"),
        *_plain("double", "location__latitude", "location__longitude"),
        _col("ct_clamp", "text", convert=ref_url),
        _col("latest_status_log", "text", convert=ref_url),
    ),
    dropped=frozenset({"charging_sub_sessions"}),  # a pre-built URL, derivable from the id
)

STATUS_LOGS = TableSpec(
    name="status_logs",
    primary_key=("evse_id", "sampled_at"),
    injected=("evse_id",),
    dropped=frozenset({"evse"}),
    columns=(
        _col("evse_id", "text"),
        *_plain("timestamp", "sampled_at", "logged_at"),
        _col("url", "text"),
        *_plain("bool", "is_plugged_in", "is_charging"),
        *_plain("bigint", "charge_rate_watts", "export_power_watts"),
        _col("control_pilot_status", "text"),
        _col("meter_reading_watt_hours", "bigint"),
        _col("is_enabled", "bool"),
        *_plain(
            "bigint",
            "max_current_rating_milliamps",
            "cable_current_rating_milliamps",
            "signal_strength_rssi_dbm",
            "inlet_power_watts",
            "voltage_millivolts",
            "state_of_charge_percentage",
        ),
        _col("mode", "text"),
    ),
)

SUB_SESSIONS = TableSpec(
    name="charging_sub_sessions",
    primary_key=("id",),
    columns=(
        *_plain("text", "id", "url"),
        *_plain("timestamp", "start", "end"),
        _col("mode", "text"),
        _col("evse_id", "text", "evse", convert=ref_id),
        _col("vehicle_id", "text", "vehicle", convert=ref_id),
        *_plain("bigint", "energy_delivered_watt_hours", "cost"),
        _col("currency", "text"),
        _col("percentage_added", "double"),
        *_plain(
            "bigint",
            "savings_cost",
            "savings_co2_grams",
            "incentive_earned",
            "total_co2_grams",
            "co2_intensity_grams_per_kilowatt_hour",
        ),
        _col("co2_intensity_classification", "text"),
        *_plain(
            "bigint",
            "cost_per_kilowatt_hour",
            "total_points",
            "total_points_missed",
            "duration_minutes",
            "grid_energy_delivered_watt_hours",
            "solar_energy_delivered_watt_hours",
        ),
        _col("solar_mode_type", "text"),
        *_plain(
            "text",
            "location__name",
            "location__postal_code",
            "location__address_1",
            "location__timezone",
        ),
        *_plain("double", "location__coordinates__latitude", "location__coordinates__longitude"),
        *_plain("json", "labels", "grid_feeds"),
        *(
            _col(name, "text", convert=ref_url)
            for name in (
                "energy_usage",
                "schedules",
                "assessment",
                "flags",
                "debug_metadata",
                "tariff",
                "carbon_feed",
            )
        ),
        # Deprecated decimal strings, kept as the API sends them.
        *_plain("text", "grid_energy_delivered", "solar_energy_delivered"),
    ),
    dropped=frozenset({"evse", "vehicle"}),
)

DISPATCHER_LOGS = TableSpec(
    name="dispatcher_logs",
    primary_key=("charging_sub_session_id", "internal_command_id", "logged_at"),
    injected=("charging_sub_session_id",),
    dropped=frozenset({"charging_sub_session"}),
    columns=(
        _col("charging_sub_session_id", "text"),
        _col("internal_command_id", "text"),
        _col("logged_at", "timestamp"),
        *_plain("text", "device_type", "reason_not_sent"),
        *_plain("timestamp", "schedule_valid_period_start", "schedule_created_at"),
    ),
)

COMMAND_LOGS = TableSpec(
    name="evse_command_logs",
    primary_key=("evse_id", "logged_at"),
    injected=("evse_id",),
    dropped=frozenset({"evse"}),
    columns=(
        _col("evse_id", "text"),
        _col("logged_at", "timestamp"),
        *_plain("text", "url", "internal_command_id"),
        _col("max_load_target_milliamps", "bigint"),
        *_plain("bool", "is_enabled_target", "always_enabled"),
        _col("reason", "text"),
    ),
)


@dataclass(frozen=True)
class BadRow:
    """A row kept out of the load, and why."""

    table: str
    partition: str
    index: int
    field: str
    reason: str


@dataclass(frozen=True)
class ConvertedPage:
    """An API page as an Arrow table of its good rows, plus the rows that were rejected."""

    table: pa.Table
    bad_rows: list[BadRow]


def page_to_arrow(
    spec: TableSpec, rows: list[Any], injected: Mapping[str, str], partition: str = ""
) -> ConvertedPage:
    """Convert one page of API objects into an Arrow table with the spec's declared types.

    Rows that are not objects, miss a key field, or carry a value of the wrong type (an
    unparsable timestamp, a string where a number belongs) are rejected and reported;
    fields the spec does not know are kept as extra columns (schema evolution).
    """
    bad: dict[int, BadRow] = {}
    objects = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            bad[index] = BadRow(spec.name, partition, index, "", "row is not a JSON object")
            row = {}
        objects.append(row)
    arrays: dict[str, pa.Array] = {}
    for column in spec.columns:
        if column.name in spec.injected:
            values: list[Any] = [injected[column.name]] * len(objects)
        else:
            values = [_dig(row, column) for row in objects]
        arrays[column.name] = _typed_array(spec, column, values, bad, partition)
    arrays.update(_extra_arrays(spec, objects))
    table = pa.table(arrays)
    if bad:
        table = table.filter(pa.array([i not in bad for i in range(len(objects))]))
    # Key columns are declared not null; say so in the Arrow schema too (no nulls remain).
    schema = pa.schema([f.with_nullable(f.name not in spec.primary_key) for f in table.schema])
    return ConvertedPage(table.cast(schema), sorted(bad.values(), key=lambda b: b.index))


def _dig(row: Mapping[str, Any], column: Column) -> Any:
    value: Any = row
    for key in column.path or column.name.split("__"):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if value is not None and column.convert is not None:
        return column.convert(value)
    return value


def _typed_array(
    spec: TableSpec, column: Column, values: list[Any], bad: dict[int, BadRow], partition: str
) -> pa.Array:
    arrow_type = _ARROW_TYPES[column.kind]
    if column.kind == "timestamp":
        values = [
            _checked(parse_timestamp, v, i, spec, column, bad, partition)
            for i, v in enumerate(values)
        ]
    elif column.kind == "json":
        values = [None if v is None else orjson.dumps(v).decode() for v in values]
    try:
        array = pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = pa.array(_salvage(values, arrow_type, spec, column, bad, partition), arrow_type)
    if column.name in spec.primary_key and array.null_count:
        for index, value in enumerate(values):
            if value is None and index not in bad:
                bad[index] = BadRow(spec.name, partition, index, column.name, "missing key field")
    return array


def _checked(
    parse: Callable[[Any], Any],
    value: Any,
    index: int,
    spec: TableSpec,
    column: Column,
    bad: dict[int, BadRow],
    partition: str,
) -> Any:
    if value is None:
        return None
    try:
        return parse(value)
    except (TypeError, ValueError):
        bad.setdefault(
            index, BadRow(spec.name, partition, index, column.name, f"bad value {value!r:.40}")
        )
        return None


def _salvage(
    values: list[Any],
    arrow_type: pa.DataType,
    spec: TableSpec,
    column: Column,
    bad: dict[int, BadRow],
    partition: str,
) -> list[Any]:
    """Null out the values that do not fit the column's type, rejecting their rows."""
    kept = []
    for index, value in enumerate(values):
        try:
            pa.array([value], type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            reason = f"bad value {value!r:.40}"
            bad.setdefault(index, BadRow(spec.name, partition, index, column.name, reason))
            value = None
        kept.append(value)
    return kept


def _extra_arrays(spec: TableSpec, rows: Iterable[Mapping[str, Any]]) -> dict[str, pa.Array]:
    """Fields the API added after this spec was written: kept, typed by inference."""
    rows = list(rows)
    known = spec.known_keys()
    extra_keys = sorted({key for row in rows for key in row if key not in known})
    arrays = {}
    for key in extra_keys:
        values = [row.get(key) for row in rows]
        if any(isinstance(v, dict | list) for v in values):
            values = [None if v is None else orjson.dumps(v).decode() for v in values]
        try:
            arrays[key] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays[key] = pa.array([None if v is None else str(v) for v in values])
    return arrays


def drop_duplicate_keys(
    table: pa.Table, key: Sequence[str], keep: Literal["first", "last"] = "first"
) -> pa.Table:
    """`table` with one row per `key`: the first (or last) of each key's rows, in table order.

    Every load declares its staging data deduplicated, so dlt's merge skips its window-function
    dedupe, the one step of the merge whose memory grew with the night's rows (issue 15: a
    159k-row night needed more than a 128 MB DuckDB). A key can repeat within one run: a
    listing whose pages shift while it is read, or a sub-session both ongoing and ended.
    """
    if table.num_rows < 2:
        return table
    position = "__evenergy_position"
    numbered = table.append_column(position, pa.array(range(table.num_rows), pa.int64()))
    aggregate = "min" if keep == "first" else "max"
    chosen = numbered.group_by(list(key), use_threads=False).aggregate([(position, aggregate)])
    if chosen.num_rows == table.num_rows:
        return table
    indices = pa.compute.sort_indices(chosen[f"{position}_{aggregate}"])
    return table.take(pa.compute.take(chosen[f"{position}_{aggregate}"], indices))


RAW_TABLES = (EVSES, STATUS_LOGS, SUB_SESSIONS, DISPATCHER_LOGS, COMMAND_LOGS)
_DUCKDB_TYPES = {
    "text": "varchar",
    "bool": "boolean",
    "bigint": "bigint",
    "double": "double",
    "timestamp": "timestamptz",
    "json": "varchar",
}


def duckdb_type(kind: Kind) -> str:
    """The DuckDB type a column of `kind` is loaded as (as information_schema spells it)."""
    return {"varchar": "varchar", "timestamptz": "timestamp with time zone"}.get(
        _DUCKDB_TYPES[kind], _DUCKDB_TYPES[kind]
    )


def raw_tables_ddl(schema: str = "evenergy", if_not_exists: bool = False) -> str:
    """DuckDB DDL of the raw tables as the load creates them (with dlt's `_dlt_load_id` and
    `_dlt_id`): for fixtures and benchmarks that build a warehouse without loading one, and,
    with `if_not_exists`, to create the tables no row has reached yet."""
    guard = " if not exists" if if_not_exists else ""
    statements = [f"create schema{guard} {schema};"]
    for spec in RAW_TABLES:
        columns = [f'"{c.name}" {_DUCKDB_TYPES[c.kind]}' for c in spec.columns]
        columns += ["_dlt_load_id varchar", "_dlt_id varchar"]
        statements.append(f"create table{guard} {schema}.{spec.name} ({', '.join(columns)});")
    return "\n".join(statements)
