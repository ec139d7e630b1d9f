"""Which columns are personal, and the SELECT that leaves them out of what analysts get.

The working warehouse keeps everything the API returned. What leaves it for analysts (the
published copy and the Parquet exports) is reduced, unless `[export] include_personal_data`
is true: an EVSE's or a session's coordinates are a home address to six decimals, so they
are rounded to 2 decimals (about 1 km); the owner's `user_id`, street address, postal code
and location name identify a person and are left out. The rules go by column name, so they
hold for the raw tables (`location__latitude`) and for the models that rename them
(`latitude_degrees`, `location_latitude_degrees`) alike.
"""

from __future__ import annotations

import duckdb

from pipelines.config import ExportSettings, load

# Columns left out, by the end of their name (`user_id`, `location__address_1`,
# `location_postal_code`, ...).
DROPPED_SUFFIXES = ("user_id", "address_1", "postal_code", "location__name", "location_name")
# Numeric columns rounded to ROUNDED_DECIMALS, by a part of their name.
ROUNDED_PARTS = ("latitude", "longitude")
ROUNDED_DECIMALS = 2
_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")


def include_personal_data() -> bool:
    """`[export] include_personal_data` (env `EXPORT__INCLUDE_PERSONAL_DATA`), default false."""
    return load(ExportSettings).include_personal_data


def is_dropped(column: str) -> bool:
    """Whether `column` identifies a person and is left out."""
    return column.lower().endswith(DROPPED_SUFFIXES)


def is_rounded(column: str, data_type: str) -> bool:
    """Whether `column` is a coordinate that is rounded."""
    name = column.lower()
    return any(part in name for part in ROUNDED_PARTS) and data_type.upper().startswith(_NUMERIC)


def reduced_select(
    conn: duckdb.DuckDBPyConnection, relation: str, *, include_personal: bool
) -> str:
    """`select ... from relation` with the personal columns reduced (or all of them).

    Args:
        conn: a connection that can describe `relation`.
        relation: a quoted, qualified relation name (`"evenergy"."evses"`).
        include_personal: keep every column as it is.

    Returns:
        The SELECT, columns in the relation's order.
    """
    if include_personal:
        return f"select * from {relation}"
    columns = []
    for name, data_type, *_ in conn.execute(f"describe {relation}").fetchall():
        quoted = '"' + str(name).replace('"', '""') + '"'
        if is_dropped(name):
            continue
        if is_rounded(name, data_type):
            columns.append(f"round({quoted}, {ROUNDED_DECIMALS}) as {quoted}")
        else:
            columns.append(quoted)
    return f"select {', '.join(columns)} from {relation}"
