"""Growth (issue 12): a fleet larger than a night's budget converging at the real limit, and
the state bytes each load writes as the fleet grows.

- `growth_fleet`: `evses` x `days` from scratch against the simulator's real limit of 1000
  requests a window, the window compressed (`window_seconds`, 3.6 s for an hour) and each
  run given `run_windows` windows (a night of 3 hours by default); runs repeat until the
  warehouse has caught up, then the clock moves a day and the nightly increment converges
  the same way. A phase has converged when the warehouse holds every status and command log
  the API shows (`_converge` defines both minimums). Per phase: runs to converge, requests /
  minimum, peak RSS of the largest run, state bytes per load package, wall time.
- `state_bytes`: synthetic partitions' state for 1k, 10k and 100k EVSEs, loaded by dlt into
  DuckDB; the bytes the next load writes when `changed` partitions moved (the
  `_evenergy_partitions` rows plus dlt's `_dlt_pipeline_state` row), beside what the state
  kept in dlt's source state (the shape before the table) writes for the same load.

`python -m bench.growth [--evses N] [--days D]` runs both alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import duckdb
import requests

from bench.fleet import Fleet
from bench.process import run_child
from bench.truth import RunWindow
from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy.state import (
    KEY,
    PARTITIONS_TABLE,
    WRITE_DISPOSITION,
    PartitionStore,
    dlt_columns,
)

log = logging.getLogger(__name__)

LIMIT = 1000  # the API's requests per window (NOTES.md)
DAY_SECONDS = 86_400
STATE_TABLES = (PARTITIONS_TABLE, "_dlt_pipeline_state")


def growth_fleet(
    evses: int,
    days: float,
    workdir: Path,
    seed: int = 7,
    window_seconds: float = 3.6,
    run_windows: int = 3,
    max_runs: int = 40,
) -> dict[str, Any]:
    """From scratch to converged, then one nightly increment to converged (see the module)."""
    results: dict[str, Any] = {"evses": evses, "days": days, "window_seconds": window_seconds}
    with Fleet.started(evses, days + 1, seed, workdir / "growth") as fleet:
        _limit(fleet, window_seconds)
        target = fleet.target("growth")
        overrides = {
            "rate_window": f"{window_seconds}s",
            "max_duration": f"{window_seconds * run_windows}s",
        }
        scratch = RunWindow(fleet.now())
        results["backfill"] = _converge(fleet, target, scratch, overrides, max_runs)
        fleet.simulator.advance(DAY_SECONDS)
        nightly = RunWindow(fleet.now(), scratch.now)
        results["nightly"] = _converge(fleet, target, nightly, overrides, max_runs)
    return results


def _limit(fleet: Fleet, window_seconds: float) -> None:
    """The real limit, in a compressed window (`/_sim/faults`, as the tests configure it)."""
    answer = requests.post(
        f"{fleet.simulator.root}/_sim/faults",
        json={"rate_limit": LIMIT, "rate_window_seconds": window_seconds},
        timeout=30,
    )
    answer.raise_for_status()


def _converge(
    fleet: Fleet,
    target: dict[str, str],
    window: RunWindow,
    overrides: dict[str, Any],
    max_runs: int,
) -> dict[str, Any]:
    """Runs until the warehouse has caught up: its status and command logs equal what the API
    shows at the (frozen) clock.

    `minimum` reads every row once (the window's backlog, as the truth counts it). The clock
    does not move between runs, so a run owes no re-read of what an earlier one read (the
    API's `Date` has not moved: `pipelines.evenergy.extraction.Extraction.current`); on a
    real fleet the clock moves and each run re-reads every live edge it reaches. A run that
    cannot reach every partition within its requests is `partial`.
    """
    first = sum(fleet.truth.minimum(window).values())
    expected = fleet.truth.visible_rows(window.now)
    payload = {**target, "source_args": {**fleet.source_args(), **overrides}, "resources": []}
    runs: list[dict[str, Any]] = []
    began = time.monotonic()
    seen = _packages(target)
    caught_up = False
    while len(runs) < max_runs and not caught_up:
        child = run_child("ours", payload)
        packages = _packages(target)
        state = [_state_bytes_of(target, load_id) for load_id in sorted(packages - seen)]
        seen = packages
        loaded = _loaded_rows(target, expected)
        caught_up = loaded == expected
        runs.append(
            {
                "requests": child.result.get("requests_made", 0),
                "requests_by_table": child.result.get("requests"),
                "partial": child.result.get("partial"),
                "behind_rows": {t: expected[t] - loaded[t] for t in expected},
                "peak_rss_mb": child.peak_rss_mb,
                "peak_rss_mb_by_phase": child.result.get("peak_rss_mb_by_phase"),
                "wall_seconds": child.result.get("wall_seconds"),
                "state_bytes_per_load": state,
            }
        )
        log.info(
            "growth: run %d: %d requests, behind %s, peak RSS %.0f MB, %d load(s)",
            len(runs), runs[-1]["requests"], runs[-1]["behind_rows"], child.peak_rss_mb,
            len(state),
        )  # fmt: skip
    requests_made = sum(int(run["requests"]) for run in runs)
    per_load = [b for run in runs for b in run["state_bytes_per_load"]]
    return {
        "runs_to_converge": len(runs),
        "converged": caught_up,
        "last_run_partial": runs[-1]["partial"],
        "requests": requests_made,
        "minimum": first,
        "requests_over_minimum": round(requests_made / first, 4) if first else None,
        "requests_by_table": _by_table(runs),
        "minimum_by_table": fleet.truth.minimum(window),
        "peak_rss_mb": max(float(run["peak_rss_mb"] or 0) for run in runs),
        "state_bytes_per_load_max": max(per_load, default=0),
        "state_bytes_per_load_median": sorted(per_load)[len(per_load) // 2] if per_load else 0,
        "wall_seconds": round(time.monotonic() - began, 1),
        "runs": runs,
    }


def _by_table(runs: list[dict[str, Any]]) -> dict[str, int]:
    """Requests of all `runs`, by table."""
    total: dict[str, int] = {}
    for run in runs:
        for table, made in (run["requests_by_table"] or {}).items():
            total[table] = total.get(table, 0) + int(made)
    return total


def _loaded_rows(target: dict[str, str], tables: dict[str, int]) -> dict[str, int]:
    """Rows of `tables` in the run's warehouse (every run creates all the raw tables)."""
    from pipelines.evenergy_pipeline import DATASET_NAME

    rows = {}
    with duckdb.connect(target["database"], read_only=True) as connection:
        for table in tables:
            counted = connection.execute(f'select count(*) from {DATASET_NAME}."{table}"')
            rows[table] = int(counted.fetchall()[0][0])
    return rows


def _pipeline(target: dict[str, str]) -> dlt.Pipeline:
    from pipelines.evenergy_pipeline import make_pipeline

    return make_pipeline(target["pipelines_dir"], target["database"])


def _packages(target: dict[str, str]) -> set[str]:
    if not Path(target["pipelines_dir"]).exists():
        return set()
    return set(_pipeline(target).list_completed_load_packages())


def _state_bytes_of(target: dict[str, str], load_id: str) -> int:
    """Bytes of the state files of one load package (the partitions' rows, dlt's state)."""
    return package_state_bytes(_pipeline(target), load_id)


def package_state_bytes(pipeline: dlt.Pipeline, load_id: str) -> int:
    """Bytes of the files a load package wrote for the state tables."""
    info = pipeline.get_load_package_info(load_id)
    return sum(
        job.file_size
        for jobs in info.jobs.values()
        for job in jobs
        if job.job_file_info.table_name in STATE_TABLES
    )


def state_bytes(evses: int, changed: int, workdir: Path) -> dict[str, int]:
    """State bytes a load writes when `changed` of `evses` EVSEs' partitions moved: with the
    partitions' table, and with the same state kept in dlt's source state."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    table = _state_pipeline(workdir / f"table-{evses}")
    store = PartitionStore()
    for key in _keys(evses):
        for endpoint in ("status_logs", "evse_command_logs"):
            store.touch(endpoint, key).cursor = _moment(key, now)
    _load_table(table, store)
    for key in list(_keys(evses))[:changed]:
        partition = store.touch("status_logs", key)
        partition.cursor, partition.done_at = _moment(key, now + timedelta(hours=1)), now
    load_id = _load_table(table, store)
    old = _state_pipeline(workdir / f"dlt-state-{evses}")
    entries = {
        key: {
            "cursor": format_timestamp(_moment(key, now)),
            "done_at": format_timestamp(now),
            "interval": 300.0,
            "hold": None,
        }
        for key in _keys(evses)
    }
    _load_old_shape(old, entries)
    for key in list(entries)[:changed]:
        entries[key]["cursor"] = format_timestamp(_moment(key, now + timedelta(hours=1)))
    old_load_id = _load_old_shape(old, entries)
    return {
        "evses": evses,
        "partitions_changed": changed,
        "table_bytes": package_state_bytes(table, load_id),
        "dlt_state_bytes": package_state_bytes(old, old_load_id),
    }


def _keys(evses: int) -> Iterator[str]:
    """Ids like the API's (32 hex digits), distinct so that compression does not flatter."""
    return (uuid.UUID(int=random.Random(i).getrandbits(128)).hex for i in range(evses))


def _moment(key: str, base: datetime) -> datetime:
    """A cursor of its own per partition (real cursors differ by the microsecond)."""
    return base - timedelta(microseconds=int(key[:8], 16) % 3_600_000_000)


def _state_pipeline(path: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        "evenergy",
        destination=dlt.destinations.duckdb(str(path / "state.duckdb")),
        dataset_name="evenergy",
        pipelines_dir=str(path / "dlt"),
    )


def _load_table(pipeline: dlt.Pipeline, store: PartitionStore) -> str:
    rows = store.changes()

    @dlt.resource(
        name=PARTITIONS_TABLE, primary_key=KEY, write_disposition=WRITE_DISPOSITION,
        columns=dlt_columns(),
    )  # fmt: skip
    def partitions() -> Iterator[Any]:
        dlt.current.source_state()["sub_sessions"] = {"end_cursor": "2026-11-01T00:00:00Z"}
        if rows is not None:
            yield rows

    info = pipeline.run(_one(partitions), loader_file_format="parquet")
    return str(info.loads_ids[-1])


def _load_old_shape(pipeline: dlt.Pipeline, entries: dict[str, Any]) -> str:
    @dlt.resource(name="status_logs")
    def status_logs() -> Iterator[Any]:
        dlt.current.resource_state()["partitions"] = entries
        yield {"x": 1}  # a package with rows, as every night has

    @dlt.resource(name="evse_command_logs")
    def command_logs() -> Iterator[Any]:
        dlt.current.resource_state()["partitions"] = entries
        yield {"x": 1}

    @dlt.source(name="evenergy")
    def source() -> list[Any]:
        return [status_logs(), command_logs()]

    info = pipeline.run(source())
    return str(info.loads_ids[-1])


def _one(resource: Any) -> Any:
    @dlt.source(name="evenergy")
    def source() -> list[Any]:
        return [resource()]

    return source()


def main(argv: list[str] | None = None) -> int:
    """Run the growth fleet and the state-bytes measurement; print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--evses", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--state-evses", default="1000,10000,100000")
    parser.add_argument("--changed", type=int, default=500, help="partitions a package moves")
    parser.add_argument("--skip-fleet", action="store_true")
    parser.add_argument("--window-seconds", type=float, default=3.6, help="the hour, compressed")
    parser.add_argument("--run-windows", type=int, default=3, help="windows a run may last")
    parser.add_argument("--max-runs", type=int, default=40)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("dlt").setLevel(logging.WARNING)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        result["state_bytes"] = [
            state_bytes(int(n), args.changed, Path(tmp)) for n in args.state_evses.split(",")
        ]
        if not args.skip_fleet:
            result["fleet"] = growth_fleet(
                args.evses,
                args.days,
                Path(tmp),
                window_seconds=args.window_seconds,
                run_windows=args.run_windows,
                max_runs=args.max_runs,
            )
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
