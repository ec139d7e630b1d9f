"""Every ev.energy API endpoint the source reads, declared once.

One `Endpoint` per API endpoint: its path, the raw table it fills, how it is read (the
fleet listing, per EVSE, the sub-session listings, per sub-session), its partition key,
cursor field and filter parameters, and whether it is paginated. The source's resources are
generated from `ENDPOINTS` (`pipelines.evenergy.__init__`); the readers read the paths and
parameters from here. Adding an endpoint is a record here, its table spec, its staging model
and its docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy.tables import (
    COMMAND_LOGS,
    DISPATCHER_LOGS,
    EVSES,
    STATUS_LOGS,
    SUB_SESSIONS,
    TableSpec,
)

# How an endpoint is read, each by one method of `Extraction`: the fleet listing once a run;
# per EVSE from each partition's cursor (and backlog); the two sub-session listings that
# plan the dispatcher-log queue; per queued sub-session from its cursor.
Reader = Literal["fleet", "evse_logs", "sub_sessions", "dispatcher_logs"]


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint and the raw table it fills."""

    spec: TableSpec
    path: str  # a partitioned path holds the partition key as `{key}`
    reader: Reader
    doc: str  # why its table is merged: the resource's docstring
    paginated: bool = True  # Link-header pages (NOTES.md, "Pagination")
    params: Mapping[str, str] = field(default_factory=dict)  # fixed query parameters
    partition_column: str | None = None  # the column filled with the partition key
    cursor_field: str | None = None  # the field a partition's cursor follows
    cursor_param: str | None = None  # its `*__gte` filter
    until_param: str | None = None  # its `*__lte` filter: a backlog is read in windows
    key_param: str | None = None  # the partition key as a query parameter, not in the path
    item_path: str | None = None  # one object by id (`{key}`)
    late_uploads: bool = False  # rows may arrive late: re-read behind the cursor (lookback)

    @property
    def name(self) -> str:
        """The resource's and the raw table's name."""
        return self.spec.name

    @property
    def cursor(self) -> str:
        """The cursor field (a partitioned endpoint has one)."""
        if self.cursor_field is None:
            raise ValueError(f"{self.name} is not read per partition")
        return self.cursor_field

    def partition_values(self, key: str) -> dict[str, str]:
        """The columns a partition's rows get from the partition itself."""
        return {} if self.partition_column is None else {self.partition_column: key}

    def request(
        self, key: str, since: datetime | None, page_size: int, until: datetime | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Path and query parameters of the first request for a partition (`until`: the
        newest cursor value wanted, inclusive)."""
        params: dict[str, Any] = dict(self.params)
        if self.key_param:
            params[self.key_param] = key
        if self.paginated:
            params["page_size"] = page_size
        if since is not None and self.cursor_param:
            params[self.cursor_param] = format_timestamp(since)
        if until is not None:
            if self.until_param is None:
                raise ValueError(f"{self.name} cannot be read in windows")
            params[self.until_param] = format_timestamp(until)
        return self.path.format(key=key), params


EVSES_ENDPOINT = Endpoint(
    EVSES,
    "evses",
    "fleet",
    "Merged on id: an EVSE's attributes change (lock mode, lifecycle) and are updated.",
    params={"expand": "model.make"},  # model and make inlined: no request per model
)
STATUS_LOGS_ENDPOINT = Endpoint(
    STATUS_LOGS,
    "evses/{key}/status_logs",
    "evse_logs",
    "Merged on (evse_id, sampled_at): the lookback re-reads rows, the merge keeps one.",
    partition_column="evse_id",
    cursor_field="sampled_at",
    cursor_param="sampled_at__gte",
    until_param="sampled_at__lte",
    late_uploads=True,  # chargers upload late after an offline spell
)
COMMAND_LOGS_ENDPOINT = Endpoint(
    COMMAND_LOGS,
    "evses/{key}/command_logs",
    "evse_logs",
    "Merged on (evse_id, logged_at): each partition re-reads its newest row.",
    partition_column="evse_id",
    cursor_field="logged_at",
    cursor_param="logged_at__gte",
    until_param="logged_at__lte",
)
SUB_SESSIONS_ENDPOINT = Endpoint(
    SUB_SESSIONS,
    "charging_sub_sessions",
    "sub_sessions",
    "Merged on id: an ongoing sub-session is read again each run until it ends. Listed "
    "twice (ongoing, then recently ended), one can appear in both: the later copy stays.",
    item_path="charging_sub_sessions/{key}",
)
DISPATCHER_LOGS_ENDPOINT = Endpoint(
    DISPATCHER_LOGS,
    "dispatcher_logs",
    "dispatcher_logs",
    "Merged on its key: an ongoing sub-session's logs are re-read from its cursor.",
    paginated=False,
    partition_column="charging_sub_session_id",
    cursor_field="logged_at",
    cursor_param="logged_at__gte",
    key_param="charging_sub_session_id",
)

# In the order the resources run: the fleet first (every per-EVSE read needs it).
ENDPOINTS: tuple[Endpoint, ...] = (
    EVSES_ENDPOINT,
    STATUS_LOGS_ENDPOINT,
    COMMAND_LOGS_ENDPOINT,
    SUB_SESSIONS_ENDPOINT,
    DISPATCHER_LOGS_ENDPOINT,
)
