"""The `evenergy` dlt source: EVSEs, their status and command logs, charging sub-sessions
and their dispatcher logs, read incrementally per partition from the ev.energy v2 API.

Settings come from `[sources.evenergy]` and `[sources.evenergy.credentials]` in `.dlt/`
or from `SOURCES__EVENERGY__...` environment variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
from dlt.common.schema.typing import TDeleteInsertStrategyDict
from dlt.sources import DltResource

from pipelines.config import EvEnergyCredentials, SourceSettings
from pipelines.evenergy.auth import TokenSource
from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.endpoints import ENDPOINTS, Endpoint, Reader
from pipelines.evenergy.extraction import (
    Extraction,
    ExtractionSettings,
    ProgressCallback,
)
from pipelines.evenergy.lookback import Lookback
from pipelines.evenergy.parsing import parse_duration, parse_start
from pipelines.evenergy.report import ExtractionReport
from pipelines.evenergy.settings import MAX_PAGE_SIZE
from pipelines.evenergy.state import KEY as STATE_KEY
from pipelines.evenergy.state import PARTITIONS_TABLE, PartitionStore, dlt_columns
from pipelines.evenergy.state import WRITE_DISPOSITION as STATE_MERGE
from pipelines.evenergy.tables import drop_duplicate_keys

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ConfigurationError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass
class RunHooks:
    """What the runner hands the source to watch the run; the source fills in `budget`."""

    report: ExtractionReport
    on_progress: ProgressCallback | None = None
    on_secret: Callable[[str], None] | None = None  # e.g. a log redactor: told every secret
    budget: RequestBudget | None = None
    run: Extraction | None = None  # set by the first load package, reused by the next ones
    partitions: PartitionStore | None = None  # the partitions' state read from the warehouse


# Every setting's type, default and meaning: `SourceSettings` (pipelines/config.py). dlt fills
# the arguments from it; an argument passed explicitly wins.
@dlt.source(name="evenergy", max_table_nesting=0, spec=SourceSettings)
def evenergy(
    credentials: EvEnergyCredentials = dlt.secrets.value,
    base_url: str = dlt.config.value,
    token_url: str = dlt.config.value,
    page_size: int = dlt.config.value,
    initial_start: str = dlt.config.value,
    lookback: str = dlt.config.value,
    min_lookback: str = dlt.config.value,
    sub_session_end_margin: str = dlt.config.value,
    managed_modes: Sequence[str] = dlt.config.value,
    evse_ids: Sequence[str] | None = dlt.config.value,
    concurrency: int = dlt.config.value,
    window_pages: int = dlt.config.value,
    batch_requests: int | None = dlt.config.value,
    request_timeout_seconds: float = dlt.config.value,
    rate_limit_reserve: int = dlt.config.value,
    rate_window: str = dlt.config.value,
    max_duration: str | None = dlt.config.value,
    hooks: Any = None,
) -> Sequence[DltResource]:
    """The ev.energy source. `pipelines.config.SourceSettings` says what each setting means.

    Args:
        hooks: a `RunHooks` from the runner; a fresh report and an unbounded budget if None.
    """
    _check_url("base_url", base_url)
    _check_url("token_url", token_url)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigurationError(f"sources.evenergy.page_size must be 1..100, got {page_size}")
    hooks = hooks or RunHooks(ExtractionReport())
    if hooks.run is not None:  # the run's next load package: same client, budget and plan
        hooks.run.begin_batch()
        return _resources(hooks.run)
    deadline = _setting(parse_duration, "max_duration", max_duration) if max_duration else None
    hooks.budget = RequestBudget(
        reserve=rate_limit_reserve,
        max_duration_seconds=deadline.total_seconds() if deadline else None,
        window_seconds=_setting(parse_duration, "rate_window", rate_window).total_seconds(),
    )
    if hooks.on_secret is not None:
        hooks.on_secret(credentials.client_secret)
    tokens = TokenSource(
        token_url,
        credentials.client_id,
        credentials.client_secret,
        timeout_seconds=request_timeout_seconds,
        on_new_token=hooks.on_secret,
    )
    client = EvEnergyClient(
        base_url,
        tokens,
        hooks.budget,
        timeout_seconds=request_timeout_seconds,
        max_in_flight=max(concurrency, 1),
    )
    settings = ExtractionSettings(
        page_size=page_size,
        initial_start=_setting(parse_start, "initial_start", initial_start, datetime.now(UTC)),
        lookback=Lookback(
            maximum=_setting(parse_duration, "lookback", lookback),
            minimum=_setting(parse_duration, "min_lookback", min_lookback),
            gap_aware=True,
        ),
        sub_session_end_margin=_setting(
            parse_duration, "sub_session_end_margin", sub_session_end_margin
        ),
        managed_modes=tuple(managed_modes),
        evse_ids=frozenset(evse_ids) if evse_ids else None,
        concurrency=max(concurrency, 1),
        window_pages=max(window_pages, 1),
        batch_requests=batch_requests if batch_requests and batch_requests > 0 else None,
    )
    run = Extraction(client, settings, hooks.report, hooks.on_progress, hooks.partitions)
    run.begin_batch()
    hooks.run = run
    return _resources(run)


def _resources(run: Extraction) -> list[DltResource]:
    """One resource per declared endpoint (`ENDPOINTS`), then the partitions' state."""
    generated = [_resource(run, endpoint) for endpoint in ENDPOINTS]

    @dlt.resource(
        name=PARTITIONS_TABLE,
        primary_key=STATE_KEY,
        write_disposition=STATE_MERGE,
        columns=dlt_columns(),
    )
    def partitions() -> Iterator[pa.Table | None]:
        """Merged on (endpoint, partition_key): the state of the partitions this package changed
        (`pipelines.evenergy.state`). Yielded once the package's other resources are done;
        until then `None`, which dlt takes for "nothing yet" and moves on to the others."""
        others = set(dlt.current.source().selected_resources) - {PARTITIONS_TABLE}
        while not run.finished(others):
            yield None
        rows = run.state_rows()
        if rows is not None:
            yield rows

    return [*generated, partitions()]


def _resource(run: Extraction, endpoint: Endpoint) -> DltResource:
    """The resource of one endpoint: its table's name, key and declared column types, the
    merge of one run's deduplicated rows, and the reader the endpoint names."""

    def rows() -> Iterator[pa.Table]:
        selected = set(dlt.current.source().selected_resources)
        run.share(e.name for e in ENDPOINTS if e.partition_column and e.name in selected)
        with run.tracking(endpoint.name):
            yield from _READERS[endpoint.reader](run, endpoint)

    rows.__doc__, rows.__name__, rows.__qualname__ = endpoint.doc, endpoint.name, endpoint.name
    resource: DltResource = dlt.resource(
        rows,
        name=endpoint.name,
        primary_key=endpoint.spec.primary_key,
        write_disposition=MERGE,
        columns=endpoint.spec.dlt_columns(),
    )()
    return resource


def _fleet(run: Extraction, endpoint: Endpoint) -> Iterator[pa.Table]:
    fleet = run.fleet_once(_fleet_state())
    if fleet is not None:
        yield fleet


def _evse_logs(run: Extraction, endpoint: Endpoint) -> Iterator[pa.Table]:
    # rows uploaded late need the configured lookback; ev.energy's own logs do not
    lookback = run.settings.lookback if endpoint.late_uploads else Lookback(timedelta(0))
    yield from run.evse_logs(endpoint, dlt.current.resource_state(), lookback, _fleet_state())


def _sub_sessions(run: Extraction, endpoint: Endpoint) -> Iterator[pa.Table]:
    tables = run.sub_session_rows(_sub_session_state())
    if tables:
        listed = pa.concat_tables(tables, promote_options="permissive")
        yield drop_duplicate_keys(listed, endpoint.spec.primary_key, keep="last")


def _dispatcher_logs(run: Extraction, endpoint: Endpoint) -> Iterator[pa.Table]:
    yield from run.dispatcher_logs(_sub_session_state())


_READERS: dict[Reader, Callable[[Extraction, Endpoint], Iterator[pa.Table]]] = {
    "fleet": _fleet,
    "evse_logs": _evse_logs,
    "sub_sessions": _sub_sessions,
    "dispatcher_logs": _dispatcher_logs,
}


# Every table is re-read in part (lookbacks, ongoing sub-sessions), so each is merged on its
# key. Each run's rows are unique per key (`drop_duplicate_keys`), which lets dlt skip the
# ROW_NUMBER() dedupe of its staging table: that window holds the whole night in DuckDB's
# memory and failed a 159k-row night under a 128 MB limit; without it the merge is a
# DELETE ... EXISTS (a hash join that spills) and a plain INSERT (measured in issue 15).
MERGE: TDeleteInsertStrategyDict = {
    "disposition": "merge",
    "strategy": "delete-insert",
    "deduplicated": True,
}


def _fleet_state() -> dict[str, Any]:
    """When the fleet was last listed (fleet-level: dlt's source state)."""
    state: dict[str, Any] = dlt.current.source_state().setdefault("fleet", {})
    return state


def _sub_session_state() -> dict[str, Any]:
    state: dict[str, Any] = dlt.current.source_state().setdefault("sub_sessions", {})
    return state


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ConfigurationError(
        f"sources.evenergy.{name} must be https:// (plain http only on loopback), got {url!r}"
    )


def _setting(parse: Any, name: str, value: Any, *args: Any) -> Any:
    try:
        return parse(value, *args)
    except ValueError as error:
        raise ConfigurationError(f"sources.evenergy.{name}: {error}") from None
