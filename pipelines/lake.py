"""DuckLake as the warehouse: the destination chosen by `[pipeline] destination`.

The default warehouse is one DuckDB file. `destination = "ducklake"` (or
`PIPELINE__DESTINATION=ducklake`) loads the same source, with the same merge, into a DuckLake
instead: a catalog (a SQLite file on one machine, or a Postgres database) and Parquet data
files (a local directory, or `s3://...`), configured through dlt's own ducklake settings in
`.dlt/secrets.toml` or the environment:

    [destination.ducklake.credentials]
    catalog = "sqlite:///lake/catalog.sqlite"     # or "postgresql://user:pw@host:5432/db"
    [destination.ducklake.credentials.storage]
    bucket_url = "lake/data"                      # or "s3://bucket/prefix" (+ credentials)

Relative paths are relative to the project folder, as the DuckDB file's are. On a lake
connection the lake is attached as catalog `ducklake` (dlt's `ducklake_name`) and made the
current database, so `evenergy.<table>` means the same tables as in the DuckDB file.

DuckDB's extensions (ducklake, and sqlite_scanner or postgres_scanner for the catalog) come
from the `duckdb-extension-*` packages, never from DuckDB's extension repository:
`extension_directory()` lays their files out as DuckDB expects, and every lake connection
points `extension_directory` at it with auto-install off, so a run works offline.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.specs.connection_string_credentials import (
    ConnectionStringCredentials,
)
from dlt.destinations.impl.ducklake.configuration import DuckLakeCredentials
from dlt.destinations.impl.ducklake.sql_client import DuckLakeSqlClient

from pipelines.config import DuckLakeSettings, PipelineSettings, load
from pipelines.errors import SettingError
from pipelines.project import project_dir

log = logging.getLogger(__name__)

DESTINATION_SETTING = "pipeline.destination"
DUCKDB = "duckdb"
DUCKLAKE = "ducklake"
DESTINATIONS = (DUCKDB, DUCKLAKE)
CREDENTIALS_SECTIONS = ("destination", "ducklake", "credentials")
STORAGE_URL_SETTING = "destination.ducklake.credentials.storage.bucket_url"
DLT_SQLITE_BUSY_TIMEOUT_MS = 1000  # what dlt's ATTACH of a SQLite catalog waits for its lock
SQLITE_BUSY_TIMEOUT_MS = 30_000  # what ours waits (`Lake.attach_sql`)
# The dataset's schema: a lake attached under this name would make `evenergy.<table>` ambiguous
# (catalog or schema?), as a DuckDB file named `evenergy.duckdb` would.
RESERVED_LAKE_NAMES = ("evenergy",)

# DuckDB's name for each extension -> the package (and file) that ships it for our DuckDB pin.
EXTENSION_PACKAGES: dict[str, tuple[str, str]] = {
    "ducklake": ("duckdb_extension_ducklake", "ducklake"),
    "sqlite_scanner": ("duckdb_extension_sqlite", "sqlite"),
    "postgres_scanner": ("duckdb_extension_postgres", "postgres"),
}


def destination_kind() -> str:
    """`[pipeline] destination`: "duckdb" (default) or "ducklake"."""
    kind = load(PipelineSettings).destination.strip().lower()
    if kind not in DESTINATIONS:
        raise SettingError(
            f"[pipeline] destination is {kind!r}: use one of {', '.join(DESTINATIONS)} "
            "(PIPELINE__DESTINATION)"
        )
    return kind


@dataclass(frozen=True)
class Lake:
    """A resolved lake: dlt's credentials with paths made absolute."""

    credentials: DuckLakeCredentials

    def __str__(self) -> str:
        """`describe()`: a lake in a message never shows the catalog's password."""
        return self.describe()

    @property
    def name(self) -> str:
        """The catalog name the lake is attached as (dlt's `ducklake_name`)."""
        return str(self.credentials.ducklake_name)

    @property
    def catalog_kind(self) -> str:
        """ "sqlite", "postgres", "duckdb" or "md"."""
        driver = str(self.credentials.catalog.drivername or "")
        return "postgres" if driver == "postgresql" else driver

    @property
    def catalog_file(self) -> Path | None:
        """The catalog's file for a file catalog (sqlite, duckdb), else None."""
        if self.catalog_kind in ("sqlite", "duckdb"):
            return Path(str(self.credentials.catalog.database))
        return None

    @property
    def storage_url(self) -> str:
        """Where the Parquet files go: a local directory or an object-store URL."""
        return str(self.credentials.storage_url)

    def describe(self) -> str:
        """The lake for messages: catalog kind and location without password, and storage."""
        catalog = self.credentials.catalog
        if self.catalog_file is not None:
            where = str(self.catalog_file)
        else:
            port = f":{catalog.port}" if catalog.port else ""
            where = f"{catalog.host}{port}/{catalog.database}"
        return f"ducklake ({self.catalog_kind} catalog {where}, data {self.storage_url})"

    def default_working_dir(self) -> Path:
        """dlt's working directory when none is given: beside a file catalog, else in the
        project folder (dlt's own default is shared by every checkout on the machine)."""
        if self.catalog_file is not None:
            return self.catalog_file.with_name(f"{self.catalog_file.stem}_dlt")
        return project_dir() / "ducklake_dlt"

    def lock_path(self) -> Path:
        """The run lock: beside a file catalog, else `[destination.ducklake] lock_dir`
        (default: the project folder). A file lock keeps two loads on one machine apart; a
        second loader machine needs a lock of its own (DuckLake itself keeps the lake
        consistent, but two runs would both extract)."""
        if self.catalog_file is not None:
            return self.catalog_file.with_name(self.catalog_file.name + ".lock")
        configured = load(DuckLakeSettings).lock_dir
        directory = Path(str(configured)).expanduser() if configured else project_dir()
        return (directory if directory.is_absolute() else project_dir() / directory) / (
            f"{self.name}.lock"
        )

    def dbt_dir(self) -> Path:
        """Where dbt's profile, target and logs for this lake live: beside a file catalog,
        else in the project folder (as `.<file name>.dbt` beside a DuckDB file)."""
        if self.catalog_file is not None:
            return self.catalog_file.with_name(f".{self.catalog_file.name}.dbt")
        return project_dir() / f".{self.name}.dbt"

    def attach_sql(self, read_only: bool = False) -> str:
        """The `ATTACH` statement for this lake (the one dlt runs), optionally read-only."""
        statement = DuckLakeSqlClient.build_attach_statement(
            ducklake_name=self.name,
            metadata_schema=self.credentials.metadata_schema,
            catalog=self.credentials.catalog,
            storage_url=self.storage_url,
        )
        # dlt waits 1 s for a SQLite catalog another process holds; a reader during a load
        # on a busy machine failed with "database is locked" (its PRAGMA journal_mode=WAL
        # needs the lock for a moment), so these connections wait longer.
        statement = statement.replace(
            f"META_BUSY_TIMEOUT {DLT_SQLITE_BUSY_TIMEOUT_MS}",
            f"META_BUSY_TIMEOUT {SQLITE_BUSY_TIMEOUT_MS}",
        )
        return (
            statement.replace(" (DATA_PATH", " (READ_ONLY, DATA_PATH") if read_only else statement
        )


def resolve_lake() -> Lake:
    """dlt's `[destination.ducklake.credentials]`, with dlt's defaults (a SQLite catalog
    `ducklake.sqlite` and data in `ducklake.files/`) and relative paths made relative to the
    project folder."""
    try:
        credentials = resolve_configuration(DuckLakeCredentials(), sections=CREDENTIALS_SECTIONS)
    except ConfigurationException as error:
        raise SettingError(
            f"[destination.ducklake.credentials] cannot be read: {str(error).splitlines()[0]}"
        ) from None
    if credentials.ducklake_name in RESERVED_LAKE_NAMES:
        raise SettingError(
            f"[destination.ducklake.credentials] ducklake_name {credentials.ducklake_name!r} is "
            "the dataset's schema name: choose another (default: ducklake)"
        )
    catalog: ConnectionStringCredentials = credentials.catalog
    if catalog.drivername in ("sqlite", "duckdb") and catalog.database:
        catalog.database = str(_in_project(str(catalog.database)))
    if credentials.storage.is_local_filesystem:
        # dlt resolves a relative local bucket against the working directory: take the
        # configured text instead, so a cron run from `/` writes where a run from the project does
        configured: Any = dlt.secrets.get(STORAGE_URL_SETTING) or dlt.config.get(
            STORAGE_URL_SETTING
        )
        if configured and "://" not in str(configured):
            credentials.storage.bucket_url = _in_project(str(configured)).as_uri()
        elif configured is None:
            credentials.storage.bucket_url = (
                project_dir() / f"{credentials.ducklake_name}.files"
            ).as_uri()
    credentials.global_config = {**(credentials.global_config or {}), **offline_settings()}
    return Lake(credentials)


def _in_project(path: str) -> Path:
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else project_dir() / resolved


def destination(lake: Lake, **settings: Any) -> Any:
    """dlt's ducklake destination for `lake` (`settings`: further destination settings).

    dlt runs a merge's `DELETE` and `INSERT` in autocommit on DuckDB (its capabilities leave
    `supports_transactions` unset): harmless in a file nobody reads during the load, but on
    a lake each statement commits a snapshot of its own, and a reader saw a table empty
    between the two. Declared transactional, each merge commits as one snapshot.
    """
    return dlt.destinations.ducklake(
        credentials=lake.credentials, supports_transactions=True, **settings
    )


def offline_settings() -> dict[str, Any]:
    """DuckDB settings under which `LOAD ducklake` and `ATTACH 'ducklake:...'` use only the
    packaged extensions: a missing one fails at once instead of trying the network. Where
    the packages are not installed (they are linux x86_64 wheels), none: DuckDB installs
    the extensions from its own repository on first use."""
    directory = extension_directory()
    if directory is None:
        return {}
    return {
        "extension_directory": str(directory),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def extension_directory() -> Path | None:
    """A DuckDB extension directory holding the packaged extensions (symlinks to the package
    files, as `<dir>/v<duckdb version>/<platform>/<name>.duckdb_extension`), or None when no
    package is installed.

    Laid out once in the virtual environment (`<venv>/duckdb_extensions`), or in a per-user
    temporary folder when the environment is read-only.
    """
    sources = _packaged_extensions()
    if not sources:
        return None
    for base in (Path(sys.prefix) / "duckdb_extensions", _user_temp_dir()):
        try:
            _lay_out(base, sources)
        except OSError as error:
            log.debug("cannot lay out DuckDB extensions in %s: %s", base, error)
            continue
        return base
    raise SettingError(
        "cannot write a DuckDB extension directory (in the virtual environment or the "
        "temporary folder): make one of them writable"
    )


def _packaged_extensions() -> dict[str, Path]:
    """DuckDB's extension name -> the installed package's file, for our DuckDB version."""
    found = {}
    for name, (package, stem) in EXTENSION_PACKAGES.items():
        try:
            folder = resources.files(package)
        except ModuleNotFoundError:
            continue
        source = Path(str(folder)) / "extensions" / f"v{duckdb.__version__}"
        if (source / f"{stem}.duckdb_extension").is_file():
            found[name] = source / f"{stem}.duckdb_extension"
    return found


def _user_temp_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"evenergy-duckdb-extensions-{os.getuid()}"


def _lay_out(base: Path, sources: dict[str, Path]) -> None:
    platform = duckdb.execute("pragma platform").fetchone()
    folder = base / f"v{duckdb.__version__}" / str(platform[0] if platform else "")
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        target = folder / f"{name}.duckdb_extension"
        if target.is_symlink() and target.resolve() == source.resolve():
            continue
        # a new link beside, then renamed over: two processes laying out at once never see a
        # missing or half-written entry
        staged = folder / f".{name}.{os.getpid()}.tmp"
        staged.unlink(missing_ok=True)
        staged.symlink_to(source)
        staged.replace(target)


# The warehouse a command works on: the DuckDB file, or the lake.
Warehouse = Path | Lake


def warehouse_exists(warehouse: Warehouse) -> bool:
    """Whether there is something to read: the DuckDB file, or a lake's file catalog (a
    Postgres catalog is assumed to exist: connecting says otherwise)."""
    if isinstance(warehouse, Lake):
        return warehouse.catalog_file is None or warehouse.catalog_file.is_file()
    return warehouse.is_file()


def connect_warehouse(warehouse: Warehouse, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to `warehouse`: the DuckDB file, or the lake attached and current (so
    `evenergy.<table>` and `main.<table>` mean the same on both)."""
    if isinstance(warehouse, Lake):
        return connect(warehouse, read_only=read_only)
    return duckdb.connect(str(warehouse), read_only=read_only)


def connect(lake: Lake | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake attached and current (for readers, tests and the
    dbt side): `evenergy.<table>` reads the lake's last committed snapshot."""
    lake = lake or resolve_lake()
    return attached(lake.attach_sql(read_only=read_only), lake.name)


def attached(attach_sql: str, name: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that ran `attach_sql` (`Lake.attach_sql`) and uses catalog `name`:
    what `connect` does, from plain strings (a process of its own can be handed them)."""
    conn = duckdb.connect()
    try:
        for key, value in offline_settings().items():
            conn.execute(f"set {key} = ?", [value])
        conn.execute(attach_sql)
        conn.execute(f'use "{name}"')
    except Exception:
        conn.close()
        raise
    return conn
