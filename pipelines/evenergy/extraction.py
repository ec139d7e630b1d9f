"""One extraction run: the client, its budget and report, and the partitioned reads.

The resources of the `evenergy` source are thin: each asks this object for its rows.
The EVSE listing and the sub-session plan are made once per run and shared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.errors import EvEnergyError, is_fatal
from pipelines.evenergy.lookback import Lookback
from pipelines.evenergy.parsing import format_timestamp, parse_optional_timestamp
from pipelines.evenergy.partitions import (
    LogEndpoint,
    PartitionResult,
    map_bounded,
    read_partition,
)
from pipelines.evenergy.report import ExtractionReport
from pipelines.evenergy.settings import (
    COMMAND_LOGS_PATH,
    DISPATCHER_LOGS_PATH,
    EVSES_PATH,
    STATUS_LOGS_PATH,
)
from pipelines.evenergy.sub_sessions import SubSessionPlan, SubSessionPlanner, WorkItem
from pipelines.evenergy.tables import (
    COMMAND_LOGS,
    DISPATCHER_LOGS,
    EVSES,
    STATUS_LOGS,
    drop_duplicate_keys,
    page_to_arrow,
)

log = logging.getLogger(__name__)

# Rows handed to dlt at once: large enough that dlt's per-item cost vanishes, small enough
# that memory stays flat whatever the fleet size.
BATCH_ROWS = 50_000

STATUS_LOGS_ENDPOINT = LogEndpoint(
    STATUS_LOGS,
    STATUS_LOGS_PATH.replace("{evse_id}", "{key}"),
    "evse_id",
    "sampled_at",
    "sampled_at__gte",
)
COMMAND_LOGS_ENDPOINT = LogEndpoint(
    COMMAND_LOGS,
    COMMAND_LOGS_PATH.replace("{evse_id}", "{key}"),
    "evse_id",
    "logged_at",
    "logged_at__gte",
)
DISPATCHER_LOGS_ENDPOINT = LogEndpoint(
    DISPATCHER_LOGS,
    DISPATCHER_LOGS_PATH,
    "charging_sub_session_id",
    "logged_at",
    "logged_at__gte",
    key_param="charging_sub_session_id",
    paginated=False,
)


@dataclass(frozen=True)
class ExtractionSettings:
    """The source's settings, resolved from `[sources.evenergy]`."""

    page_size: int
    initial_start: datetime
    lookback: Lookback  # status logs; command logs are logged by ev.energy itself: no delay
    sub_session_end_margin: timedelta
    managed_modes: tuple[str, ...]
    evse_ids: frozenset[str] | None
    concurrency: int


ProgressCallback = Callable[[ExtractionReport], None]


class Extraction:
    """Everything one run of the source shares between its resources."""

    def __init__(
        self,
        client: EvEnergyClient,
        settings: ExtractionSettings,
        report: ExtractionReport,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.client, self.settings, self.report = client, settings, report
        self._on_progress = on_progress or (lambda report: None)
        self._lock = threading.Lock()
        self._fleet: pa.Table | None = None
        self._plan: SubSessionPlan | None = None
        self._planner: SubSessionPlanner | None = None
        self.started_at = format_timestamp(datetime.now(UTC))

    def fleet(self) -> pa.Table:
        """The EVSEs to read (all pages of `/evses`, with model and make inlined)."""
        with self._lock:
            if self._fleet is None:
                self._fleet = self._list_evses()
            return self._fleet

    def _list_evses(self) -> pa.Table:
        params = {"page_size": self.settings.page_size, "expand": "model.make"}
        tables = [page_to_arrow(EVSES, [], {}).table]
        try:
            for page in self.client.pages(EVSES_PATH, params, EVSES.name):
                converted = page_to_arrow(EVSES, page, {}, "listing")
                self.report.reject(converted.bad_rows)
                tables.append(converted.table)
        except EvEnergyError as error:
            if is_fatal(error):
                raise
            self.report.fail("listing EVSEs", error)
        fleet = drop_duplicate_keys(pa.concat_tables(tables, promote_options="permissive"), ("id",))
        if self.settings.evse_ids is not None:
            wanted = self.settings.evse_ids
            fleet = fleet.filter(pa.array([i in wanted for i in fleet["id"].to_pylist()]))
            missing = wanted - set(fleet["id"].to_pylist())
            if missing:
                log.warning("evse_ids not in the fleet: %s", ", ".join(sorted(missing)))
        self.report.record_rows(EVSES.name, fleet.num_rows)
        return fleet

    def evse_logs(
        self, endpoint: LogEndpoint, state: MutableMapping[str, Any], lookback: Lookback
    ) -> Iterator[pa.Table]:
        """Read one log endpoint for every EVSE, each from its own cursor."""
        partitions = state.setdefault("partitions", {})
        evse_ids = self.fleet()["id"].to_pylist()
        # Partitions left unread by an earlier run (or never read) go first: none starves.
        evse_ids.sort(key=lambda key: partitions.get(key, {}).get("done_at", ""))
        self.report.expect(endpoint.spec.name, len(evse_ids))
        # Where each read starts is decided here, so worker threads never touch the state.
        reads = [
            (
                key,
                lookback.since(partitions.get(key, {}), self.settings.initial_start),
                parse_optional_timestamp(partitions.get(key, {}).get("cursor")),
            )
            for key in evse_ids
        ]

        def fetch(read: tuple[str, datetime, datetime | None]) -> PartitionResult:
            key, since, cursor = read
            return read_partition(
                self.client, endpoint, key, since, cursor, self.settings.page_size
            )

        def save(result: PartitionResult) -> None:
            if result.complete and result.cursor is not None:
                entry = partitions.setdefault(result.key, {})
                entry.update(cursor=format_timestamp(result.cursor), done_at=self.started_at)
                lookback.remember(entry, result.read, result.cursor)

        results = map_bounded(fetch, reads, self.settings.concurrency)
        yield from self._batched(endpoint.spec.name, results, save)

    def sub_sessions(self, state: MutableMapping[str, Any]) -> SubSessionPlan:
        """The sub-session rows of this run and the queue of dispatcher-log partitions."""
        with self._lock:
            if self._plan is None:
                self._planner = SubSessionPlanner(
                    self.client,
                    state,
                    self.report,
                    self.settings.initial_start,
                    self.settings.sub_session_end_margin,
                    self.settings.managed_modes,
                    self.settings.evse_ids,
                    self.settings.page_size,
                )
                self._plan = self._planner.plan()
                rows = sum(t.num_rows for t in self._plan.tables)
                self.report.record_rows("charging_sub_sessions", rows)
            return self._plan

    def dispatcher_logs(self, state: MutableMapping[str, Any]) -> Iterator[pa.Table]:
        """Read the dispatcher logs of every queued sub-session from its own cursor."""
        plan = self.sub_sessions(state)
        assert self._planner is not None
        planner = self._planner
        self.report.expect(DISPATCHER_LOGS.name, len(plan.work))
        by_key = {item.sub_session_id: item for item in plan.work}

        def fetch(item: WorkItem) -> PartitionResult:
            return read_partition(
                self.client,
                DISPATCHER_LOGS_ENDPOINT,
                item.sub_session_id,
                item.since,
                item.since,
                self.settings.page_size,
            )

        def save(result: PartitionResult) -> None:
            if result.complete:
                item = by_key[result.key]
                planner.done(item, result.cursor, self.started_at, finished=not result.bad_rows)

        results = map_bounded(fetch, plan.work, self.settings.concurrency)
        yield from self._batched(DISPATCHER_LOGS.name, results, save)

    def _batched(
        self,
        resource: str,
        results: Iterator[PartitionResult],
        save: Callable[[PartitionResult], None],
    ) -> Iterator[pa.Table]:
        """Account for each partition, save its cursor, and hand dlt the rows in batches of
        about `BATCH_ROWS` (dlt's cost is per item, so a table per partition is slow).

        Saving a cursor before its rows are yielded is safe: dlt commits the state with the
        rows of the same extraction, or neither.
        """
        batch: list[pa.Table] = []
        rows = 0
        for result in results:
            self.report.record(resource, result)
            self.report.requests_left = self.client.budget.remaining
            self._on_progress(self.report)
            save(result)
            if result.table is not None and result.table.num_rows:
                batch.append(result.table)
                rows += result.table.num_rows
            if rows >= BATCH_ROWS:
                yield pa.concat_tables(batch, promote_options="permissive")
                batch, rows = [], 0
        if batch:
            yield pa.concat_tables(batch, promote_options="permissive")
