"""What an extraction did: partitions, rows, bad rows, requests, and why it stopped."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field

from pipelines.evenergy.errors import EvEnergyError, ExtractionStopped
from pipelines.evenergy.partitions import PartitionResult
from pipelines.evenergy.tables import BadRow

log = logging.getLogger(__name__)

# The first few bad rows of a run are logged with their partition and field; the rest counted.
LOGGED_BAD_ROWS = 5


@dataclass
class ResourceProgress:
    """Partition counts of one partitioned resource."""

    total: int = 0
    complete: int = 0
    failed: int = 0  # an API error other than the budget: retried next run
    not_reached: int = 0  # the budget or deadline stopped the run first: served first next run


@dataclass
class ExtractionReport:
    """Shared by every resource of a run; read by the runner and the CLI afterwards."""

    progress: dict[str, ResourceProgress] = field(default_factory=dict)
    rows: Counter[str] = field(default_factory=Counter)
    bad_rows: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    requests_left: int | None = None  # in the rate-limit window, as last reported by the API
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def expect(self, resource: str, partitions: int) -> None:
        """Declare how many partitions a resource will read this run."""
        with self._lock:
            self.progress.setdefault(resource, ResourceProgress()).total += partitions

    def current(self, resource: str, partitions: int) -> None:
        """Partitions read at this run's moment already (`Extraction.current`): up to date
        without a request."""
        with self._lock:
            self.progress.setdefault(resource, ResourceProgress()).complete += partitions

    def record(self, resource: str, result: PartitionResult) -> None:
        """Account for one partition read."""
        with self._lock:
            progress = self.progress.setdefault(resource, ResourceProgress())
            self.rows[resource] += result.rows
            if result.complete or result.more:  # more: its backlog is read in windows
                progress.complete += 1
            elif isinstance(result.error, ExtractionStopped):
                progress.not_reached += 1
                self.stop_reason = self.stop_reason or str(result.error)
            else:
                progress.failed += 1
                self._error(f"{resource} {result.key}: {result.error}")
        self.reject(result.bad_rows)

    def record_window(self, resource: str, result: PartitionResult) -> None:
        """Account for one window of a partition's backlog (its partition is counted by its
        live read)."""
        with self._lock:
            self.rows[resource] += result.rows
            if isinstance(result.error, ExtractionStopped):
                self.stop_reason = self.stop_reason or str(result.error)
            elif result.error is not None:
                self._error(f"{resource} {result.key} (backlog): {result.error}")
        self.reject(result.bad_rows)

    def record_rows(self, resource: str, rows: int) -> None:
        """Account for rows of an unpartitioned listing."""
        with self._lock:
            self.rows[resource] += rows

    def reject(self, bad_rows: list[BadRow]) -> None:
        """Count rows kept out of the load; log the first few."""
        for bad in bad_rows:
            with self._lock:
                self.bad_rows[bad.table] += 1
                seen = sum(self.bad_rows.values())
            if seen <= LOGGED_BAD_ROWS:
                log.warning(
                    "bad row kept out of %s (partition %s, row %d, field %s): %s",
                    bad.table,
                    bad.partition or "-",
                    bad.index,
                    bad.field or "-",
                    bad.reason,
                )

    def fail(self, what: str, error: EvEnergyError) -> None:
        """Record an error that stopped a listing (not a single partition)."""
        with self._lock:
            if isinstance(error, ExtractionStopped):
                self.stop_reason = self.stop_reason or str(error)
            else:
                self._error(f"{what}: {error}")

    def _error(self, message: str) -> None:
        self.errors.append(message)
        if len(self.errors) <= LOGGED_BAD_ROWS:
            log.error("%s", message)

    @property
    def partial(self) -> bool:
        """Something visible was not loaded: the run stopped early (budget or deadline), a
        partition or listing failed, or rows were rejected. The next run reads it again."""
        return (
            self.stop_reason is not None
            or bool(self.errors)
            or bool(self.bad_rows)
            or any(p.failed or p.not_reached for p in self.progress.values())
        )
