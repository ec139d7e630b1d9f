"""One extraction run: the client, its budget and report, and the partitioned reads.

The resources of the `evenergy` source are thin: each asks this object for its rows.
The EVSE listing and the sub-session plan are made once per run and shared.

Every partition and listing remembers the moment it was last read through, on the API's
clock (the `Date` of its answers: `moment`). What was read at the moment a run begins is not
read again by it: runs that follow one another while the API's clock stands still (the
growth bench's frozen simulator; a rerun within the second) read each row once, where they
re-read every live edge and listing (1.71x the minimum requests at 10,000 EVSEs, issue 12).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pyarrow as pa

from pipelines.evenergy.backfill import Window, advance, behind, open_backlog, window
from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.endpoints import DISPATCHER_LOGS_ENDPOINT, EVSES_ENDPOINT, Endpoint
from pipelines.evenergy.errors import EvEnergyError, is_fatal
from pipelines.evenergy.lookback import Lookback
from pipelines.evenergy.parsing import format_timestamp, parse_optional_timestamp
from pipelines.evenergy.partitions import (
    PartitionResult,
    map_bounded,
    read_partition,
)
from pipelines.evenergy.report import ExtractionReport
from pipelines.evenergy.state import (
    Partition,
    PartitionStore,
    migrate_log_state,
    read_at_moment,
)
from pipelines.evenergy.sub_sessions import SubSessionPlan, SubSessionPlanner, WorkItem
from pipelines.evenergy.tables import (
    DISPATCHER_LOGS,
    EVSES,
    drop_duplicate_keys,
    page_to_arrow,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Rows handed to dlt at once: large enough that dlt's per-item cost vanishes, small enough
# that memory stays flat whatever the fleet size.
BATCH_ROWS = 50_000


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
    window_pages: int = 10  # pages of one bounded read of a backlog
    batch_requests: int | None = None  # requests per load package (None: one package a run)


@dataclass
class _LogProgress:
    """What this run did to one log endpoint's partitions, across its load packages."""

    expected: bool = False  # partitions declared to the report
    live: set[str] = field(default_factory=set)  # live edge read (or tried) this run
    skip: set[str] = field(default_factory=set)  # failed or met a bad row: next run


ProgressCallback = Callable[[ExtractionReport], None]


class Extraction:
    """Everything one run of the source shares between its resources."""

    def __init__(
        self,
        client: EvEnergyClient,
        settings: ExtractionSettings,
        report: ExtractionReport,
        on_progress: ProgressCallback | None = None,
        store: PartitionStore | None = None,
    ) -> None:
        self.client, self.settings, self.report = client, settings, report
        self.store = store or PartitionStore()  # every partition's state (see `state`)
        self._on_progress = on_progress or (lambda report: None)
        self._lock = threading.Lock()
        self._fleet: pa.Table | None = None
        self._plan: SubSessionPlan | None = None
        self._planner: SubSessionPlanner | None = None
        self._moment: datetime | None = None  # see `moment`
        self._moment_lock = threading.Lock()
        self._log_progress: dict[str, _LogProgress] = {}
        self._batch_started = 0
        self._batch_labels: Counter[str] = Counter()  # requests per label at the batch's start
        self._sharing: frozenset[str] = frozenset()  # resources that share a batch (`share`)
        self._finished: set[str] = set()  # resources of the package under way that ended
        self.more = False  # the last batch stopped at its quota: another batch goes on
        self._fleet_loaded = False
        self._plan_loaded = False
        self._dispatched: set[str] = set()
        self._dispatch_expected = False

    @property
    def moment(self) -> datetime:
        """The API's clock when this run began (the `Date` of its first answer; this machine's
        clock if the API sends none). A partition or listing read at this moment is not read
        again while the API's clock still shows it: nothing can have been added since (see
        `current`)."""
        with self._moment_lock:
            if self._moment is None:
                self._moment = self.client.api_time() or datetime.now(UTC)
            return self._moment

    def current(self, read_at: datetime | None) -> bool:
        """Whether something read at `read_at` (API clock) was read at this run's moment."""
        return read_at_moment(read_at, self.moment)

    def fleet(self, state: MutableMapping[str, Any]) -> pa.Table:
        """The EVSEs to read: all pages of `/evses` with model and make inlined, or, when
        the fleet was listed at this moment already (`state`: the fleet's dlt source state),
        the EVSE ids that listing kept in the store."""
        with self._lock:
            if self._fleet is None:
                if self.current(parse_optional_timestamp(state.get("listed_at"))):
                    self._fleet, self._fleet_loaded = self._known_evses(), True
                else:
                    self._fleet = self._list_evses(state)
            return self._fleet

    def _known_evses(self) -> pa.Table:
        ids = sorted(self.store.view(EVSES.name))
        if self.settings.evse_ids is not None:
            ids = [key for key in ids if key in self.settings.evse_ids]
        return pa.table({"id": pa.array(ids, pa.string())})

    def _list_evses(self, state: MutableMapping[str, Any]) -> pa.Table:
        params = {"page_size": self.settings.page_size, **EVSES_ENDPOINT.params}
        tables = [page_to_arrow(EVSES, [], {}).table]
        complete = True  # every page read: what a later skip of the listing relies on
        try:
            for page in self.client.pages(EVSES_ENDPOINT.path, params, EVSES.name):
                converted = page_to_arrow(EVSES, page, {}, "listing")
                self.report.reject(converted.bad_rows)
                tables.append(converted.table)
        except EvEnergyError as error:
            if is_fatal(error):
                raise
            self.report.fail("listing EVSEs", error)
            complete = False
        fleet = drop_duplicate_keys(pa.concat_tables(tables, promote_options="permissive"), ("id",))
        if complete:
            self._keep_fleet(set(fleet["id"].to_pylist()))
            state["listed_at"] = format_timestamp(self.moment)
        if self.settings.evse_ids is not None:
            wanted = self.settings.evse_ids
            fleet = fleet.filter(pa.array([i in wanted for i in fleet["id"].to_pylist()]))
            missing = wanted - set(fleet["id"].to_pylist())
            if missing:
                log.warning("evse_ids not in the fleet: %s", ", ".join(sorted(missing)))
        self.report.record_rows(EVSES.name, fleet.num_rows)
        return fleet

    def _keep_fleet(self, listed: set[str]) -> None:
        """The ids of a complete listing, in the store: only new and gone EVSEs are written,
        so a fleet that does not change writes nothing."""
        known = set(self.store.view(EVSES.name))
        for key in listed - known:
            self.store.touch(EVSES.name, key)
        for key in known - listed:
            self.store.remove(EVSES.name, key)

    def evse_logs(
        self,
        endpoint: Endpoint,
        state: MutableMapping[str, Any],
        lookback: Lookback,
        fleet_state: MutableMapping[str, Any],
    ) -> Iterator[pa.Table]:
        """Read one log endpoint for every EVSE, each from its own cursor: first the live edge
        of every partition (at most half of this batch's share while backlogs are open),
        then the backlogs in windows, furthest behind first (see
        `pipelines.evenergy.backfill`), until this batch's requests are spent.

        Args:
            state: the endpoint's dlt resource state: partitions kept there by an older
                version move to the store (and leave it) on the first run.
            fleet_state: the fleet's dlt source state (`fleet`).
        """
        name = endpoint.spec.name
        with self._lock:
            migrate_log_state(self.store, name, state)
        partitions = self.store.view(name)
        progress = self._log_progress.setdefault(endpoint.spec.name, _LogProgress())
        evse_ids = self.fleet(fleet_state)["id"].to_pylist()
        # Partitions left unread by an earlier run (or never read) go first: none starves.
        # One read at this run's moment has nothing new (a run after a run stopped by its
        # budget, while the API's clock stands still): only its backlog is read.
        live = [
            key
            for key in evse_ids
            if key not in progress.live and not self.current(_read_at(partitions.get(key)))
        ]
        if not progress.expected:
            self.report.expect(endpoint.spec.name, len(evse_ids))
            self.report.current(endpoint.spec.name, len(evse_ids) - len(live))
            progress.expected = True
        live.sort(key=lambda key: _done_at(partitions.get(key)))
        # Where each read starts is decided here, so worker threads never touch the state.
        reads = [
            (
                key,
                lookback.since(partitions.get(key), self.settings.initial_start),
                None if (known := partitions.get(key)) is None else known.cursor,
                known is not None and known.backlog is not None,
            )
            for key in live
        ]
        since_of = {key: since for key, since, _, _ in reads}

        def fetch(read: tuple[str, datetime, datetime | None, bool]) -> PartitionResult:
            key, since, cursor, backlog = read
            return read_partition(
                self.client,
                endpoint,
                key,
                since,
                cursor,
                self.settings.page_size,
                max_pages=None if backlog else self.settings.window_pages,
                past=lookback.maximum,
            )

        def save(result: PartitionResult) -> None:
            progress.live.add(result.key)
            old = partitions.get(result.key)
            # a read that met a bad row is not read through: read again at this moment
            read_at = None if result.bad_rows else self.moment
            if result.complete and result.cursor is not None:
                entry = self.store.touch(name, result.key)
                entry.cursor, entry.done_at = result.cursor, read_at or entry.done_at
                lookback.remember(entry, result.read, result.cursor)
            elif old is None or old.backlog is None:
                opened = Partition()
                if open_backlog(opened, since_of[result.key], result, lookback.maximum):
                    entry = self.store.touch(name, result.key)
                    entry.backlog, entry.rows_per_hour = opened.backlog, opened.rows_per_hour
                    entry.cursor, entry.done_at = max(result.read), read_at
                    lookback.remember(entry, result.read, max(result.read))
            if result.bad_rows or (not result.complete and not result.more):
                progress.skip.add(result.key)  # its backlog may hold rows this package has

        # While some partition has a backlog, the live edges take at most half of this
        # endpoint's share of a package before the windows get theirs, then the rest: at
        # 10,000 EVSEs the live edges alone outlast every package, and the backlogs waited
        # for ever (26 partitions stuck for 10 runs, 8,421 rows never read).
        unread = iter(reads)
        backlogs = any(p.backlog is not None for p in partitions.values())
        for share in (0.5, 1.0) if backlogs else (1.0,):
            live_reads = self._within_batch(unread, name, share)
            results = map_bounded(fetch, live_reads, self.settings.concurrency)
            yield from self._batched(name, results, save)
            yield from self._windows(endpoint, progress, evse_ids)

    def _windows(
        self, endpoint: Endpoint, progress: _LogProgress, evse_ids: list[str]
    ) -> Iterator[pa.Table]:
        """Rounds of one window of each partition with a backlog, furthest behind first,
        until this endpoint's share of the package is spent or no backlog is left."""
        name = endpoint.spec.name
        partitions = self.store.view(name)
        while not self._batch_over(name):
            windows = [
                found
                for key in evse_ids
                if key not in progress.skip
                and (found := self._window(key, partitions.get(key))) is not None
            ]
            if not windows:
                break
            windows.sort(key=lambda w: (-behind(partitions.get(w.key)), w.key))
            yield from self._backfill(endpoint, progress, windows)

    def _backfill(
        self,
        endpoint: Endpoint,
        progress: _LogProgress,
        windows: list[Window],
    ) -> Iterator[pa.Table]:
        """One window of each partition with a backlog (one round)."""

        def fetch(item: Window) -> PartitionResult:
            return read_partition(
                self.client,
                endpoint,
                item.key,
                item.since,
                None,
                self.settings.page_size,
                until=item.until,
                max_pages=2 * self.settings.window_pages,  # the density misjudged: resume
            )

        by_key = {item.key: item for item in windows}

        def save(result: PartitionResult) -> None:
            advance(self.store.touch(endpoint.spec.name, result.key), by_key[result.key], result)
            if result.bad_rows or (not result.complete and not result.more):
                progress.skip.add(result.key)  # read again next run, not twice in one package

        within = self._within_batch(windows, endpoint.spec.name)
        results = map_bounded(fetch, within, self.settings.concurrency)
        yield from self._batched(
            endpoint.spec.name, results, save, record=self.report.record_window
        )

    def _window(self, key: str, partition: Partition | None) -> Window | None:
        """The next window of a partition's backlog, sized from its density."""
        page_size, pages = self.settings.page_size, self.settings.window_pages
        # no density measured (a backlog kept by an older version): a page an hour
        return window(key, partition, pages, page_size, fallback_rows_per_hour=page_size)

    def share(self, resources: Iterable[str]) -> None:
        """The resources that read per partition in this run: each load package's requests
        are shared between them (see `_allowance`)."""
        with self._lock:
            self._sharing = frozenset(resources)

    def begin_batch(self) -> None:
        """Start a new load package: its requests are counted from here."""
        self._batch_started = self.client.budget.requests_made
        self._batch_labels = Counter(self.client.budget.requests_by_label)
        self.more = False
        self._finished = set()

    def _batch_over(self, resource: str | None = None) -> bool:
        """The run stopped, or this batch spent its requests, or `resource` its share of
        them (the next batch goes on)."""
        if self.client.budget.stop_reason is not None:
            return True
        quota = self.settings.batch_requests
        if quota is None:
            return False
        spent = self.client.budget.requests_made - self._batch_started
        if spent >= quota or (
            resource is not None and self._spent(resource) >= self._allowance(resource, quota)
        ):
            self.more = True
            return True
        return False

    def _spent(self, resource: str) -> int:
        """Requests `resource` made in this batch."""
        return self.client.budget.requests_by_label[resource] - self._batch_labels[resource]

    def _allowance(self, resource: str, quota: int) -> float:
        """The requests `resource` may make in this batch: what the batch has left beyond the
        spending of the resources still reading, shared evenly between them. Without it the
        first endpoint with a backlog (status logs) spent every batch of a large fleet, and
        command and dispatcher logs waited for its whole backfill (seen at 10,000 EVSEs:
        command logs read in none of the first 40 packages)."""
        with self._lock:
            if resource not in self._sharing:
                return quota
            reading = self._sharing - self._finished
        spent = self.client.budget.requests_made - self._batch_started
        others = spent - sum(self._spent(name) for name in reading)
        return max(1.0, (quota - others) / max(1, len(reading)))

    def _within_batch(
        self, items: Iterable[T], resource: str | None = None, share: float = 1.0
    ) -> Iterator[T]:
        """`items` until the batch (or `share` of `resource`'s part of it) is over; the rest
        wait (an iterator keeps them for the caller)."""
        for item in items:
            if self._batch_over(resource):
                return
            if share < 1.0 and self._past_share(resource, share):
                return
            yield item

    def _past_share(self, resource: str | None, share: float) -> bool:
        """`resource` spent `share` of its part of this batch."""
        quota = self.settings.batch_requests
        if resource is None or quota is None:
            return False
        return self._spent(resource) >= share * self._allowance(resource, quota)

    def sub_sessions(self, state: MutableMapping[str, Any]) -> SubSessionPlan:
        """The sub-session rows of this run and the queue of dispatcher-log partitions."""
        with self._lock:
            if self._plan is None:
                self._planner = SubSessionPlanner(
                    self.client,
                    state,
                    self.store,
                    self.report,
                    self.settings.initial_start,
                    self.settings.sub_session_end_margin,
                    self.settings.managed_modes,
                    self.settings.evse_ids,
                    self.settings.page_size,
                )
                self._plan = self._planner.plan(self.moment)
                rows = sum(t.num_rows for t in self._plan.tables)
                self.report.record_rows("charging_sub_sessions", rows)
            return self._plan

    def fleet_once(self, state: MutableMapping[str, Any]) -> pa.Table | None:
        """The EVSE listing for the first load package of the run, None for the others (and
        when the fleet was not listed: see `fleet`)."""
        fleet = self.fleet(state)
        with self._lock:
            if self._fleet_loaded:
                return None
            self._fleet_loaded = True
            return fleet

    def state_rows(self) -> pa.Table | None:
        """The state rows of the partitions changed since the last call (the package's rows
        of `_evenergy_partitions`), None if none changed."""
        with self._lock:
            return self.store.changes()

    @contextmanager
    def tracking(self, resource: str) -> Iterator[None]:
        """Around a resource's body: its end is noted (see `finished`), however it ends."""
        try:
            yield
        finally:
            with self._lock:
                self._finished.add(resource)

    def finished(self, resources: set[str]) -> bool:
        """Whether these resources have ended in this load package."""
        with self._lock:
            return resources <= self._finished

    def sub_session_rows(self, state: MutableMapping[str, Any]) -> list[pa.Table]:
        """The sub-session rows of this run, for its first load package (none after)."""
        plan = self.sub_sessions(state)
        with self._lock:
            if self._plan_loaded:
                return []
            self._plan_loaded = True
            # handed to dlt once: the run keeps only the queue (a large fleet's sub-session
            # rows would otherwise stay in memory through every later load package)
            tables, plan.tables = plan.tables, []
            return tables

    def dispatcher_logs(self, state: MutableMapping[str, Any]) -> Iterator[pa.Table]:
        """Read the dispatcher logs of every queued sub-session from its own cursor (the ones
        a batch before this one has not read)."""
        plan = self.sub_sessions(state)
        assert self._planner is not None
        planner = self._planner
        planner.use_state(state)  # each load package has a state of its own
        if not self._dispatch_expected:
            self.report.expect(DISPATCHER_LOGS.name, len(plan.work))
            self._dispatch_expected = True
        by_key = {item.sub_session_id: item for item in plan.work}
        work = [item for item in plan.work if item.sub_session_id not in self._dispatched]

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
            self._dispatched.add(result.key)
            if result.complete:
                item = by_key[result.key]
                planner.done(item, result.cursor, self.moment, finished=not result.bad_rows)

        within = self._within_batch(work, DISPATCHER_LOGS.name)
        results = map_bounded(fetch, within, self.settings.concurrency)
        yield from self._batched(DISPATCHER_LOGS.name, results, save)

    def _batched(
        self,
        resource: str,
        results: Iterator[PartitionResult],
        save: Callable[[PartitionResult], None],
        record: Callable[[str, PartitionResult], None] | None = None,
    ) -> Iterator[pa.Table]:
        """Account for each partition, save its cursor, and hand dlt the rows in batches of
        about `BATCH_ROWS` (dlt's cost is per item, so a table per partition is slow).

        Saving a cursor before its rows are yielded is safe: dlt commits the state with the
        rows of the same extraction, or neither.
        """
        batch: list[pa.Table] = []
        rows = 0
        record = record or self.report.record
        for result in results:
            record(resource, result)
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


def _read_at(partition: Partition | None) -> datetime | None:
    """When (API clock) a partition was last read through, None if never."""
    return None if partition is None else partition.done_at


def _done_at(partition: Partition | None) -> datetime:
    """When a partition was last read through; never read: first in the fair order."""
    return _read_at(partition) or datetime.min.replace(tzinfo=UTC)
