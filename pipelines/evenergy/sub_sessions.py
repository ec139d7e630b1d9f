"""Which charging sub-sessions may have new dispatcher logs, found with the list filters.

`GET /dispatcher_logs` needs a sub-session id, so each run must know which sub-sessions to
ask about, without re-reading every sub-session ever seen. Two listings answer it:
`is_finished=false` (ongoing: their logs still grow) and `end__gt=<cursor - margin>`
(ended since the last run: one last read). Every sub-session found joins a work queue, its
partitions in `_evenergy_partitions` (`pipelines.evenergy.state`), and leaves it only once
its logs were read after it ended, so a run stopped by the budget loses nothing: the queue
carries over. A finished one stays, `finalized`, while the margin can list it again, so it
is not read twice. The ended-sub-session cursor is fleet-level: it stays in dlt's state,
with the moment (API clock) of the last complete listings: a run at that same moment lists
nothing and reads only the queue's sub-sessions not read at it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.endpoints import SUB_SESSIONS_ENDPOINT
from pipelines.evenergy.errors import ApiProblem, EvEnergyError, is_fatal
from pipelines.evenergy.parsing import format_timestamp, parse_optional_timestamp, parse_timestamp
from pipelines.evenergy.report import ExtractionReport
from pipelines.evenergy.state import PartitionStore, migrate_queue_state, read_at_moment
from pipelines.evenergy.tables import DISPATCHER_LOGS, SUB_SESSIONS, page_to_arrow

QUEUE = DISPATCHER_LOGS.name  # the endpoint of the queue's partitions in the store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkItem:
    """One sub-session whose dispatcher logs are to be read this run."""

    sub_session_id: str
    since: datetime | None  # the partition's cursor (newest logged_at read), None: all
    end: datetime | None  # when the sub-session ended, None while ongoing


@dataclass
class SubSessionPlan:
    """The sub-session rows to load and the dispatcher-log partitions to read."""

    tables: list[pa.Table]
    work: list[WorkItem]


class SubSessionPlanner:
    """Lists the relevant sub-sessions once per run and keeps the work queue in `store`
    (the end cursor in `state`, dlt's source state)."""

    def __init__(
        self,
        client: EvEnergyClient,
        state: MutableMapping[str, Any],
        store: PartitionStore,
        report: ExtractionReport,
        initial_start: datetime,
        end_margin: timedelta,
        managed_modes: tuple[str, ...],
        evse_ids: frozenset[str] | None,
        page_size: int,
    ) -> None:
        self._client, self._state, self._report = client, state, report
        self._store = store
        self._initial_start, self._margin = initial_start, end_margin
        self._modes, self._evse_ids, self._page_size = managed_modes, evse_ids, page_size

    def plan(self, moment: datetime) -> SubSessionPlan:
        """List ongoing and recently ended sub-sessions; queue the managed ones.

        Args:
            moment: the API's clock at the run's start: listings made at this moment
                already, and sub-sessions read at it, have nothing new (no request).
        """
        migrate_queue_state(self._store, QUEUE, self._state)
        cursor = self._end_cursor()
        tables: list[pa.Table] = []
        if not read_at_moment(parse_optional_timestamp(self._state.get("listed_at")), moment):
            tables = self._list_and_queue(cursor, moment)
        self._prune()
        pending = [
            (k, p)
            for k, p in self._store.view(QUEUE).items()
            if not p.finalized and not read_at_moment(p.done_at, moment)
        ]
        pending.sort(key=lambda kv: (kv[1].done_at is not None, kv[1].done_at or cursor))
        work = [WorkItem(key, entry.cursor, entry.ended_at) for key, entry in pending]
        return SubSessionPlan(tables, work)

    def _list_and_queue(self, cursor: datetime, moment: datetime) -> list[pa.Table]:
        """The two listings (and a fetch of each queued sub-session neither shows); every
        managed sub-session they find joins the queue. Returns the rows to load."""
        ongoing, ongoing_complete = self._list({"is_finished": "false"})
        ended, ended_complete = self._list({"end__gt": format_timestamp(cursor - self._margin)})
        seen = set()
        for table in ongoing + ended:
            for row in table.select(["id", "mode", "end"]).to_pylist():
                seen.add(row["id"])
                known = self._store.get(QUEUE, row["id"])
                if row["mode"] in self._modes and (
                    known is None or (not known.finalized and known.ended_at != row["end"])
                ):
                    self._store.touch(QUEUE, row["id"]).ended_at = row["end"]
        # Only a listing read to its last page may move the cursor past what it listed.
        ends = [end for t in ended for end in t["end"].to_pylist() if end is not None]
        if ended_complete and ends and max(ends) > cursor:
            self._state["end_cursor"] = format_timestamp(max(ends))
        refreshed = list(self._refresh_unseen(seen))
        if ongoing_complete and ended_complete:
            self._state["listed_at"] = format_timestamp(moment)
        return ongoing + ended + refreshed

    def use_state(self, state: MutableMapping[str, Any]) -> None:
        """Keep the queue in `state` from now on (the state of the next load package)."""
        self._state = state

    def done(self, item: WorkItem, cursor: datetime | None, now: datetime, finished: bool) -> None:
        """A sub-session's dispatcher logs were read through: move it along the queue.

        Args:
            finished: no row was rejected; an ended sub-session may leave the queue.
        """
        known = self._store.get(QUEUE, item.sub_session_id)
        if known is None or known.finalized:
            return
        entry = self._store.touch(QUEUE, item.sub_session_id)
        if item.end is not None and finished:
            entry.finalized, entry.ended_at = True, item.end
        else:  # a read that met a bad row is not read through: read again at this moment
            entry.cursor, entry.done_at = cursor, now if finished else entry.done_at

    def _end_cursor(self) -> datetime:
        saved = self._state.get("end_cursor")
        return parse_timestamp(saved) if saved else self._initial_start

    def _list(self, filters: dict[str, str]) -> tuple[list[pa.Table], bool]:
        """All pages of one sub-session listing, and whether every row of it was read."""
        tables, complete = [], True
        params = {**filters, "page_size": self._page_size}
        try:
            for page in self._client.pages(SUB_SESSIONS_ENDPOINT.path, params, SUB_SESSIONS.name):
                converted = page_to_arrow(SUB_SESSIONS, page, {}, "listing")
                self._report.reject(converted.bad_rows)
                tables.append(self._allowed(converted.table))
                complete = complete and not converted.bad_rows
        except EvEnergyError as error:
            if is_fatal(error):
                raise
            self._report.fail(f"listing sub-sessions {filters}", error)
            return tables, False
        return tables, complete

    def _allowed(self, table: pa.Table) -> pa.Table:
        if self._evse_ids is None:
            return table
        keep = [evse_id in self._evse_ids for evse_id in table["evse_id"].to_pylist()]
        return table.filter(pa.array(keep, pa.bool_()))

    def _refresh_unseen(self, seen: set[str]) -> Iterator[pa.Table]:
        """A queued ongoing sub-session missing from both listings: fetch it to learn whether it
        ended. One already known to have ended needs no fetch: it no longer changes (a run
        stopped by the budget leaves such ones queued, and the listings no longer show them)."""
        queue = self._store.view(QUEUE)
        unseen = [
            k for k, p in queue.items() if k not in seen and not p.finalized and not p.ended_at
        ]
        for key in unseen:
            path = str(SUB_SESSIONS_ENDPOINT.item_path).format(key=key)
            try:
                body = self._client.get_object(path, SUB_SESSIONS.name)
            except ApiProblem as error:
                if error.status == 404:
                    log.warning("sub-session %s no longer exists: dropped from the queue", key)
                    self._store.remove(QUEUE, key)
                else:
                    self._report.fail(f"sub-session {key}", error)
                continue
            except EvEnergyError as error:
                self._report.fail(f"sub-session {key}", error)
                continue
            converted = page_to_arrow(SUB_SESSIONS, [body], {}, key)
            if converted.table.num_rows:
                end = converted.table["end"][0].as_py()
                if end is not None:
                    self._store.touch(QUEUE, key).ended_at = end
                yield converted.table

    def _prune(self) -> None:
        """Forget finished sub-sessions that the `end__gt` listing can no longer return."""
        horizon = self._end_cursor() - self._margin
        queue = self._store.view(QUEUE)
        old = [k for k, p in queue.items() if p.finalized and p.ended_at and p.ended_at < horizon]
        for key in old:
            self._store.remove(QUEUE, key)
