"""Baseline (a): the same extraction through dlt with its default settings.

A minimal dlt source walks the same endpoints with the project's `EvEnergyClient` (the same
HTTP, OAuth and paging), one request at a time, and yields each page's rows as plain dicts
with the partition id added. `pipeline.run` loads them with dlt's defaults: row-by-row
normalize, DuckDB's default loader file format (`insert_values`), nested objects flattened,
`merge` on the same primary keys as the project's tables. Only `evses`, `status_logs` and
`evse_command_logs` exist here; the project's pipeline is restricted to the same three for
the ratio.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.evenergy.auth import TokenSource
from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.endpoints import (
    COMMAND_LOGS_ENDPOINT,
    EVSES_ENDPOINT,
    STATUS_LOGS_ENDPOINT,
)
from pipelines.evenergy.settings import MAX_PAGE_SIZE

log = logging.getLogger(__name__)

BASELINE_RESOURCES = ("evses", "status_logs", "evse_command_logs")
Rows = list[dict[str, Any]]


def baseline_resources(client: EvEnergyClient, initial_start: str) -> list[DltResource]:
    """The three resources, reading everything since `initial_start`, sequentially."""
    listing: list[Rows] = []  # the pages of /evses, read once, shared by the resources

    def evse_pages() -> list[Rows]:
        if not listing:
            params = {"page_size": MAX_PAGE_SIZE, "expand": "model.make"}
            listing.extend(client.pages(EVSES_ENDPOINT.path, params, "evses"))
        return listing

    def evse_rows() -> Iterator[Rows]:
        yield from evse_pages()

    def partition_pages(path: str, cursor_param: str, label: str) -> Iterator[Rows]:
        for evse_id in [row["id"] for page in evse_pages() for row in page]:
            params = {"page_size": MAX_PAGE_SIZE, cursor_param: initial_start}
            for page in client.pages(path.format(key=evse_id), params, label):
                yield [{**row, "evse_id": evse_id} for row in page]

    evses = dlt.resource(evse_rows(), name="evses", primary_key="id", write_disposition="merge")
    status_logs = dlt.resource(
        partition_pages(STATUS_LOGS_ENDPOINT.path, "sampled_at__gte", "status_logs"),
        name="status_logs",
        primary_key=("evse_id", "sampled_at"),
        write_disposition="merge",
    )
    command_logs = dlt.resource(
        partition_pages(COMMAND_LOGS_ENDPOINT.path, "logged_at__gte", "evse_command_logs"),
        name="evse_command_logs",
        primary_key=("evse_id", "logged_at"),
        write_disposition="merge",
    )
    return [evses, status_logs, command_logs]


def run_baseline(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the baseline once from scratch and report rows, requests and seconds.

    Args:
        payload: `pipelines_dir`, `database` and `source_args` (as for the project's run).

    Returns:
        The same fields as `bench.ours.run_ours`.
    """
    args = payload["source_args"]
    budget = RequestBudget()
    credentials = args["credentials"]
    tokens = TokenSource(args["token_url"], credentials["client_id"], credentials["client_secret"])
    client = EvEnergyClient(args["base_url"], tokens, budget)  # used from one thread
    pipeline = dlt.pipeline(
        pipeline_name="evenergy_baseline",
        destination=dlt.destinations.duckdb(credentials=payload["database"]),
        dataset_name="baseline",
        pipelines_dir=payload["pipelines_dir"],
    )
    source = dlt.source(name="evenergy_baseline")(baseline_resources)
    started = time.perf_counter()
    load_info = pipeline.run(source(client, args["initial_start"]))
    wall = time.perf_counter() - started
    load_info.raise_on_failed_jobs()
    client.close()
    return {
        "rows": _row_counts(pipeline),
        "requests": dict(budget.requests_by_label),
        "requests_made": budget.requests_made,
        "seconds": _phase_seconds(pipeline),
        "wall_seconds": round(wall, 3),
        "partial": False,
        "errors": [],
    }


def _phase_seconds(pipeline: dlt.Pipeline) -> dict[str, float]:
    """Seconds of each step of the last `run`, from dlt's trace."""
    trace = pipeline.last_trace
    if trace is None:
        return {}
    return {
        str(step.step): round((step.finished_at - step.started_at).total_seconds(), 3)
        for step in trace.steps
        if step.step in ("extract", "normalize", "load") and step.finished_at
    }


def _row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows each resource extracted in the last run, from dlt's extract trace."""
    counts = pipeline.last_trace.last_normalize_info.row_counts  # type: ignore[union-attr]
    return {name: int(counts.get(name, 0)) for name in BASELINE_RESOURCES}
