"""Every setting of evenergy-etl, declared once: its section, type, default and meaning.

Each section of `.dlt/config.toml` is one dlt `@configspec` here; dlt fills it from `.dlt/`
and from environment variables (`[sources.evenergy] page_size` is also
`SOURCES__EVENERGY__PAGE_SIZE`). `.dlt/config.toml` shows only overrides and explanations:
the defaults live here, and `tests/unit/test_config.py` checks that every key the committed
files name is a field below. Code reads a section with `load(Spec)`, whose errors are one
line naming the key.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar, TypeVar

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException
from dlt.common.configuration.specs import BaseConfiguration, CredentialsConfiguration
from dlt.common.typing import TSecretStrValue

from pipelines.errors import SettingError

Spec = TypeVar("Spec", bound=BaseConfiguration)


# The source's defaults that the API fixes stay in `pipelines/evenergy/settings.py`. The source
# package imports this module to declare its `@dlt.source`, so they are read when a spec is
# made, not when this module is imported (an import here would be circular).
def _api(name: str) -> Any:
    from pipelines.evenergy import settings

    value = getattr(settings, name)
    return list(value) if isinstance(value, tuple) else value


@configspec
class EvEnergyCredentials(CredentialsConfiguration):
    """`[sources.evenergy.credentials]`: OAuth 2 client credentials (`.dlt/secrets.toml`)."""

    client_id: str = None  # type: ignore[assignment]  # dlt: None means "required"
    client_secret: TSecretStrValue = None  # type: ignore[assignment]


@configspec
class SourceSettings(BaseConfiguration):
    """`[sources.evenergy]`: the API and how the source reads it."""

    credentials: EvEnergyCredentials = None  # type: ignore[assignment]
    base_url: str = field(default_factory=lambda: _api("DEFAULT_BASE_URL"))
    """The API. Production and sandbox share the base URL: the credentials choose the data."""
    token_url: str = field(default_factory=lambda: _api("DEFAULT_TOKEN_URL"))
    """The OAuth 2 token endpoint."""
    page_size: int = 100
    """Rows per page, 1..100. Request count is the bottleneck (1000/hour): keep it at 100."""
    initial_start: str = "7d"
    """Where a partition never read before starts: an ISO 8601 timestamp, or a duration
    before now ("7d"). A new EVSE joining the fleet is backfilled from here."""
    lookback: str = "6h"
    """Each EVSE is re-read from the start of its oldest open gap, never more than this far
    behind its newest sample: it must cover the longest upload delay (batch uploads: hours)."""
    min_lookback: str = "10m"
    """How far behind its newest sample an EVSE with no open gap is re-read."""
    sub_session_end_margin: str = "1h"
    """Sub-sessions that ended up to this long before the last seen end are listed again, in
    case the API records an end late."""
    managed_modes: list[str] = field(default_factory=lambda: _api("MANAGED_MODES"))
    """Sub-session modes whose dispatcher logs are read. UNMANAGED_* modes have no dispatches."""
    evse_ids: list[str] | None = None
    """Optional allow-list of EVSE ids; unset reads the whole fleet."""
    concurrency: int = 4
    """Parallel requests across partitions (the rate limit counts requests, not connections)."""
    window_pages: int = 30
    """A backlog larger than a run is read below the live edge in windows of about this many
    pages, oldest first, sized in time from the rows per hour already read; each ends in a
    partly filled page (half a page in 30: under 2 % of requests)."""
    batch_requests: int | None = 500
    """A run commits a load package (rows, cursors and backlogs together) every this many
    requests, so a run killed part-way loses at most that many. 0: one package a run."""
    request_timeout_seconds: float = 30
    """Timeout of one HTTP request."""
    # 50, not 0: the committed config.toml always set 50, so every run from the checkout
    # (cron, demo, CLI tests) has used it; 0 applied only to a source called with no config.
    # 5% of 1000/h left for other clients of the same credentials is the safe side.
    rate_limit_reserve: int = 50
    """Requests left untouched in the rolling rate-limit window, for other clients of the same
    credentials. At the reserve a run waits for its own oldest requests to leave the window if
    the deadline allows, else stops extracting cleanly (exit code 3)."""
    rate_window: str = "1h"
    """Length of the API's rolling rate-limit window."""
    max_duration: str | None = None
    """Deadline for the whole extraction ("5h"); unset: none. A 429 whose Retry-After would
    pass the deadline stops the run cleanly instead of waiting."""


@configspec
class ModelSettings(BaseConfiguration):
    """`[models]`: the thresholds of the dispatch measures (sql/README.md explains each one);
    `pipelines.models.ModelParams` checks them and turns them into dbt vars."""

    __section__: ClassVar[str] = "models"

    response_window_minutes: float = 15
    """W: how long after a dispatch a response counts."""
    staleness_minutes: float = 15
    """S: the state before a dispatch must be at most this old."""
    rate_change_watts: float = 500
    """R: a charge-rate change at least this large is a response (and the tolerance around a
    target rate)."""
    current_tolerance_milliamps: float = 1000
    """T: how far the charger's current limit may sit from the commanded one and still count
    as obeyed."""
    nominal_voltage_volts: float = 230
    """The voltage assumed when the charger reports none."""


@configspec
class ExportSettings(BaseConfiguration):
    """`[export]`: the Parquet export and the analysts' copies."""

    __section__: ClassVar[str] = "export"

    directory: str = "exports"
    """Where `evenergy-etl export` writes Parquet when --to is not given."""
    include_personal_data: bool = False
    """false leaves user_id, street address, postal code and location name out of the
    published copy and the exports, and rounds coordinates to 2 decimals (about 1 km)."""


@configspec
class LoggingSettings(BaseConfiguration):
    """`[logging]`: evenergy-etl's own progress lines."""

    __section__: ClassVar[str] = "logging"

    progress_interval: str = "1m"
    """Without a terminal (cron), the least time between two progress lines of an extraction;
    each phase logs its own line regardless."""


@configspec
class WarehouseSettings(BaseConfiguration):
    """`[warehouse]`: the files the job writes and the lock around them."""

    __section__: ClassVar[str] = "warehouse"

    umask: str = "027"
    """Mask of every file the job creates, an octal string: "027" is owner read-write, group
    read, nothing for the world."""
    held_wait_seconds: float = 120
    """When another process holds the warehouse file, a run waits this long for it to go
    away, then exits 1 naming the process."""


@configspec
class DuckDbSettings(BaseConfiguration):
    """`[destination.duckdb]`, the keys evenergy-etl reads itself (dlt reads `credentials`)."""

    __section__: ClassVar[str] = "duckdb"

    memory_limit: str = "128MB"
    """DuckDB's memory cap for the load and the publish (it spills beside the warehouse past
    it). 128MB fits the smallest machine we support (1 GB)."""
    models_memory_limit: str = "2GB"
    """DuckDB's memory cap while dbt builds the models (joins and sorts spill past it). A full
    refresh of a year of 500 EVSEs needs more than 2GB (sql/README.md, evse_reporting_health);
    a build that runs out says to raise this."""
    credentials: str | None = None
    """The DuckDB file; default warehouse.duckdb in the project folder (relative paths are
    relative to it)."""


MEMORY_LIMIT_SETTING = "destination.duckdb.memory_limit"


def memory_limit() -> str:
    """`[destination.duckdb] memory_limit` as set, else its default: the DuckDB cap of the load
    and of the publish."""
    import dlt

    return str(dlt.config.get(MEMORY_LIMIT_SETTING) or DuckDbSettings().memory_limit)


@configspec
class PipelineSettings(BaseConfiguration):
    """`[pipeline]`: where the pipeline loads."""

    __section__: ClassVar[str] = "pipeline"

    destination: str = "duckdb"
    """"duckdb" (the one-file warehouse) or "ducklake" (dlt's `[destination.ducklake]`
    configuration then holds the catalog and the storage: README, "DuckLake")."""


@configspec
class DuckLakeSettings(BaseConfiguration):
    """`[destination.ducklake]`, the key evenergy-etl reads itself (dlt reads `credentials`)."""

    __section__: ClassVar[str] = "ducklake"

    lock_dir: str | None = None
    """Where the run lock of a lake whose catalog is not a file lives; default: the project
    folder. A second loader machine needs a lock of its own."""


# Every section evenergy-etl declares, by its place in `.dlt/`.
SECTIONS: dict[tuple[str, ...], type[BaseConfiguration]] = {
    ("sources", "evenergy"): SourceSettings,
    ("sources", "evenergy", "credentials"): EvEnergyCredentials,
    ("models",): ModelSettings,
    ("export",): ExportSettings,
    ("logging",): LoggingSettings,
    ("warehouse",): WarehouseSettings,
    ("destination", "duckdb"): DuckDbSettings,
    ("pipeline",): PipelineSettings,
    ("destination", "ducklake"): DuckLakeSettings,
}


def load(spec: type[Spec]) -> Spec:
    """One section of the settings, resolved from `.dlt/` and the environment.

    Args:
        spec: A spec of `SECTIONS`, or a subclass of one.

    Returns:
        The resolved settings, defaults where unset.

    Raises:
        SettingError: a value of the wrong type or out of range, one line naming the key and
            its environment variable.
    """
    sections = next(where for where, known in SECTIONS.items() if issubclass(spec, known))
    # The last section is the spec's own `__section__` where it has one: dlt then looks a key
    # up at its full path only, not also at shorter ones as it does along `sections`
    # (`[pipeline] destination` found the whole `[destination]` table that way).
    try:
        own = sections[:-1] if spec.__section__ == sections[-1] else sections
        return resolve_configuration(spec(), sections=own)
    except ConfigValueCannotBeCoercedException as error:
        hint = getattr(error.hint, "__name__", str(error.hint))
        name = setting_name(sections, error.field_name)
        raise SettingError(f"{name}: {error.field_value!r} is not a valid {hint}") from None
    except ValueError as error:  # a spec's own check: its message starts with the field
        raise SettingError(f"{'.'.join(sections)}.{error}") from None


def setting_name(sections: tuple[str, ...], key: str) -> str:
    """`models.staleness_minutes (env MODELS__STALENESS_MINUTES)`.

    Args:
        sections: Where the key lives.
        key: The field.

    Returns:
        The key as the operator writes it, and its environment variable.
    """
    name = ".".join((*sections, key))
    return f"{name} (env {name.upper().replace('.', '__')})"


def fields_of(spec: type[BaseConfiguration]) -> dict[str, Any]:
    """The fields a spec declares, with their types.

    Args:
        spec: A configspec.

    Returns:
        Field name to type hint.
    """
    return dict(spec.get_resolvable_fields())
