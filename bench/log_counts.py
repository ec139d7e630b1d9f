"""Counts of telling log records in a measurement process (e.g. load jobs dlt retried).

A filter on a logger sees the records logged on that logger; each counter matches a
fragment of the message and may keep the record out of the log (repetitive warnings).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass


@dataclass
class LogCounter(logging.Filter):
    """Counts the records of one logger whose message contains `fragment`."""

    logger: str
    fragment: str
    keep: bool = True
    count: int = 0

    def __post_init__(self) -> None:
        """Initialise the filter base class."""
        super().__init__()

    def filter(self, record: logging.LogRecord) -> bool:
        """Count a matching record (and drop it unless `keep`); let the others through."""
        if self.fragment in record.getMessage():
            self.count += 1
            return self.keep
        return True


COUNTERS = {
    # a pooled connection thrown away: more threads than the client's pool holds
    "pool_full_discards": LogCounter("urllib3.connectionpool", "Connection pool is full", False),
    # a load job dlt failed and retried (e.g. DuckDB out of memory under its memory_limit)
    "transient_load_errors": LogCounter("dlt", "Transient exception in job"),
}


def install_counters() -> None:
    """Attach every counter to its logger."""
    for counter in COUNTERS.values():
        logging.getLogger(counter.logger).addFilter(counter)


def counts() -> dict[str, int]:
    """The counts so far, by name."""
    return {name: counter.count for name, counter in COUNTERS.items()}
