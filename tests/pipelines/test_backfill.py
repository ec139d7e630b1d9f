"""A backlog larger than one run's budget converges: 60 days of history for a small fleet,
a rate limit that lets each run read about a quarter of it, one run killed part-way.

Every run (the killed one included) loads rows the warehouse did not have; the fleet is
complete within 6 runs, row for row as the simulator holds it; and all runs together make
at most 2 % more requests than the fewest possible: one request per page of 100 per
partition for the whole history, plus what each further run must ask to know nothing
changed.
"""

from __future__ import annotations

import math
import signal
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb

from pipelines.evenergy.backfill import behind
from pipelines.evenergy.settings import MANAGED_MODES
from pipelines.evenergy.state import read_store
from pipelines.evenergy_pipeline import DATASET_NAME, load_evenergy, make_pipeline
from pipelines.simulator import SimulatorServer
from tests.cli_helpers import LiveProcess, project_workdir, simulator_env
from tests.pipelines.conftest import START, Harness, simulator_config
from tests.pipelines.expected import assert_warehouse_matches, expected_rows, warehouse_rows

N_EVSES = 3
NOW = START + timedelta(days=60)  # initial_start (START) is 60 days back
BATCH_REQUESTS = 90  # requests per load package: what a kill can lose
WINDOW_PAGES = 30  # half an empty page a window: 1/60 of the pages read
MAX_RUNS = 6
KILLED_RUN = 2  # 1-based
CONCURRENCY = 4


def _pages(rows: int) -> int:
    """Requests to list `rows` rows: one per page of 100, at least one."""
    return max(1, math.ceil(rows / 100))


def _minimum(simulator: SimulatorServer, runs: int) -> int:
    """Fewest requests for `runs` runs that load the whole history: every page once, then
    for each further run one request per partition and listing (nothing changed)."""
    world, now = simulator.world, simulator.clock.now()
    evses = [e["id"] for e in world.evses(now)]
    sessions = world.sub_sessions(now)
    ongoing = [s for s in sessions if s["end"] is None]
    managed = [s for s in sessions if s["mode"] in MANAGED_MODES]
    ongoing_managed = [s for s in ongoing if s["mode"] in MANAGED_MODES]
    listings = _pages(len(evses)) + _pages(len(ongoing))
    whole = (
        listings
        + _pages(len(sessions) - len(ongoing))  # every ended sub-session, once
        + sum(_pages(len(world.status_logs(e, now))) for e in evses)
        + sum(_pages(len(world.command_logs(e, now))) for e in evses)
        + len(managed)  # one unpaginated request per managed sub-session
    )
    # a run with nothing new: the listings, the recently ended sub-sessions (one page), one
    # request per EVSE log partition, the ongoing managed sub-sessions' dispatcher logs
    unchanged = listings + 1 + 2 * len(evses) + len(ongoing_managed)
    return whole + (runs - 1) * unchanged


def _missing(database: Path, expected: dict[str, set[tuple[Any, ...]]]) -> int:
    if not database.exists():
        return sum(len(rows) for rows in expected.values())
    actual = warehouse_rows(database)
    return sum(len(rows - set(actual[table])) for table, rows in expected.items())


def test_a_backlog_of_four_runs_converges_exactly_with_one_run_killed(tmp_path: Path) -> None:
    config = simulator_config(n_evses=N_EVSES, days=61.0, now=NOW, sample_interval_seconds=300)
    with SimulatorServer(config) as simulator:
        workdir = project_workdir(tmp_path)
        env = simulator_env(simulator, workdir)
        env.update(
            {
                "SOURCES__EVENERGY__BATCH_REQUESTS": str(BATCH_REQUESTS),
                "SOURCES__EVENERGY__WINDOW_PAGES": str(WINDOW_PAGES),
                "SOURCES__EVENERGY__CONCURRENCY": str(CONCURRENCY),
            }
        )
        harness = Harness(simulator, workdir)
        database = workdir / "warehouse.duckdb"
        pipelines_dir = workdir / "dlt-data" / "pipelines"  # where the CLI keeps it
        expected = expected_rows(simulator, START)
        per_run = math.ceil(_minimum(simulator, 1) / 4)  # a quarter of the backlog a run
        simulator.faults.configure(rate_limit=per_run, rate_window_seconds=3600)

        missing = [_missing(database, expected)]
        requests = 0
        backlogs = [_backlog_bounds(database)]
        for run in range(1, MAX_RUNS + 1):
            before = simulator.request_count
            if run == KILLED_RUN:
                _run_and_kill(simulator, env, workdir)
            else:
                outcome = load_evenergy(
                    make_pipeline(str(pipelines_dir), str(database)),
                    **harness.source_args(
                        max_duration="60s",
                        batch_requests=BATCH_REQUESTS,
                        window_pages=WINDOW_PAGES,
                        concurrency=CONCURRENCY,
                    ),
                )
                assert not outcome.report.errors, outcome.report.errors[:3]
            requests += simulator.request_count - before
            assert simulator.request_count - before <= per_run
            missing.append(_missing(database, expected))
            backlogs.append(_backlog_bounds(database))
            assert missing[-1] < missing[-2] or missing[-2] == 0, f"run {run} did not advance"
            simulator.reset_rate_limit()  # the next run: a fresh window
            if missing[-1] == 0:
                break

        assert missing[-1] == 0, f"not converged after {MAX_RUNS} runs: {missing}"
        _assert_oldest_first(backlogs)
        assert len(missing) - 1 > KILLED_RUN, "converged before the killed run"
        assert_warehouse_matches(database, expected)
        runs = len(missing) - 1
        minimum = _minimum(simulator, runs)
        assert requests <= 1.02 * minimum, (
            f"{requests} requests in {runs} runs, minimum {minimum} ({requests / minimum:.3f}x)"
        )


def _backlog_bounds(database: Path) -> dict[tuple[str, str], tuple[Any, Any]]:
    """(since, until) of every log partition's backlog."""
    if not database.exists():
        return {}
    with duckdb.connect(str(database), read_only=True) as conn:
        store = read_store(conn, DATASET_NAME)
    backlogs = {
        (name, key): p
        for name in ("status_logs", "evse_command_logs")
        for key, p in store.view(name).items()
        if p.backlog is not None
    }
    unsized = sorted(key for key, p in backlogs.items() if not p.rows_per_hour)
    assert not unsized, f"backlogs without the density that sizes their windows: {unsized}"
    return {key: (p.backlog_since, p.backlog_until) for key, p in backlogs.items()}


def _assert_oldest_first(backlogs: list[dict[tuple[str, str], tuple[Any, Any]]]) -> None:
    """Backlogs shrink from their oldest end: `since` moves up, `until` stays."""
    moved = 0
    for before, after in pairwise(backlogs):
        for partition, (since, until) in after.items():
            if partition in before:
                assert until == before[partition][1], f"{partition}: read from the newest end"
                assert since >= before[partition][0]
                moved += since > before[partition][0]
    assert moved, "no backlog moved from one run to the next: the order was never seen"


def _run_and_kill(simulator: SimulatorServer, env: dict[str, str], workdir: Path) -> None:
    """Run the CLI and SIGKILL it while it extracts its second load package (the first is
    loaded): what the kill may lose is the requests of the package under way."""
    started = simulator.request_count
    # -v: the run logs each package it loads (without it, one line for the whole run)
    live = LiveProcess.start(["-v", "run", "--no-models", "--max-duration", "60s"], env, workdir)
    loaded: list[int] = []

    def mid_second_package() -> bool:
        if not loaded and any(
            "pipelines.evenergy_pipeline: package " in line and " loaded in " in line
            for line in live.lines
        ):
            loaded.append(simulator.request_count)
        return bool(loaded) and simulator.request_count >= loaded[0] + 3

    fired = live.wait_for(mid_second_package)
    live.process.send_signal(signal.SIGKILL)
    live.process.wait(timeout=30)
    assert fired, f"never reached a second package: {''.join(live.lines)[-2000:]}"
    assert live.process.returncode == -signal.SIGKILL
    # the kill came after a whole package: one was loaded (a package may end short of
    # BATCH_REQUESTS when one endpoint spends its share after the others have finished)
    assert loaded[0] > started


FAIR_EVSES = 6
FAIR_NOW = START + timedelta(days=3)  # 9 pages of status logs an EVSE
FAIR_WINDOW_PAGES = 2
# requests a run: the listing, 6 live edges, then windows for about 4 of the 6 partitions
FAIR_RATE_LIMIT = 16


def _backlogs(harness: Harness) -> dict[str, timedelta]:
    """History left to read per status-log partition (zero once its backlog closed)."""
    with duckdb.connect(str(harness.database), read_only=True) as conn:
        partitions = read_store(conn, DATASET_NAME).view("status_logs")
        return {key: behind(entry) for key, entry in partitions.items()}


def test_backlogs_are_read_furthest_behind_first(tmp_path: Path) -> None:
    """A run that cannot read a window of every backlog reads the furthest behind first, so
    a partition left out by one run is read by the next: none waits while others finish."""
    config = simulator_config(n_evses=FAIR_EVSES, now=FAIR_NOW, days=3.5)
    with SimulatorServer(config) as simulator:
        simulator.faults.configure(rate_limit=FAIR_RATE_LIMIT, rate_window_seconds=3600)
        harness = Harness(simulator, tmp_path)
        history: list[dict[str, timedelta]] = []
        while not history or any(history[-1].values()):
            assert len(history) < 12, f"backlogs never closed: {history[-1]}"
            harness.run(
                max_duration="60s", resources=["status_logs"], window_pages=FAIR_WINDOW_PAGES
            )
            history.append(_backlogs(harness))
            simulator.reset_rate_limit()
            simulator.clock.advance(timedelta(seconds=1))  # live edges are read again
    assert len(history) >= 4, "the backlogs must take several runs"
    assert len(history[0]) == FAIR_EVSES
    for run, (before, after) in enumerate(zip(history, history[2:], strict=False), start=2):
        waiting = sorted(key for key, left in before.items() if left and after[key] == left)
        assert not waiting, f"runs {run} and {run + 1} left backlogs unread: {waiting}"
    partial = [
        run
        for run, (before, after) in enumerate(pairwise(history), start=2)
        if any(left and after[key] == left for key, left in before.items())
    ]
    assert partial, "every run read every backlog: the order was never tested"


CROWD_EVSES = 12
# requests a run: the listing and 9 of the 12 live edges; the live edges alone outlast it
CROWD_RATE_LIMIT = 10
CROWD_BATCH_REQUESTS = 4


def test_backlogs_advance_when_the_live_edges_alone_outlast_the_run(tmp_path: Path) -> None:
    """A fleet larger than a run (10,000 EVSEs at 1000 requests an hour): every package went
    to live edges that had nothing new, and backlogs opened by the first reads were never
    read again (26 partitions stuck for 10 runs). The windows get their part of every
    package while backlogs are open."""
    config = simulator_config(n_evses=CROWD_EVSES, now=FAIR_NOW, days=3.5)
    with SimulatorServer(config) as simulator:
        simulator.faults.configure(rate_limit=CROWD_RATE_LIMIT, rate_window_seconds=3600)
        harness = Harness(simulator, tmp_path)
        left: list[timedelta] = []  # history left to read, after each run once all are known
        for _ in range(7):
            outcome = harness.run(
                max_duration="60s",
                resources=["status_logs"],
                window_pages=FAIR_WINDOW_PAGES,
                batch_requests=CROWD_BATCH_REQUESTS,
                concurrency=1,
            )
            assert outcome.report.partial, "the live edges must outlast the run"
            backlogs = _backlogs(harness)
            if len(backlogs) == CROWD_EVSES:  # every partition read once, its backlog open
                left.append(sum(backlogs.values(), timedelta(0)))
            simulator.reset_rate_limit()
    assert len(left) >= 3, "the first reads took the whole test"
    stuck = [run for run, (a, b) in enumerate(pairwise(left), start=1) if b >= a]
    assert not stuck, f"no backlog read in the {stuck}th run(s) after the first reads: {left}"


def test_a_raised_rate_limit_is_used_with_no_change(harness: Harness) -> None:
    """The run spends what the API's rate-limit headers allow: raise the limit and the next
    run, with the same settings, reads that much more."""
    spent = []
    for limit in (15, 45):
        harness.simulator.faults.configure(rate_limit=limit, rate_window_seconds=3600)
        outcome = harness.run(max_duration="60s", resources=["status_logs"], window_pages=2)
        assert outcome.report.partial, "the backlog must outlast the limit"
        assert outcome.budget.rate_limited == 0
        spent.append((limit, outcome.budget.requests_made, outcome.budget.limit))
        harness.simulator.reset_rate_limit()
    for limit, made, seen in spent:
        assert seen == limit, "the budget did not read X-RateLimit-Limit"
        # requests still in flight when the window runs out are counted against it at once,
        # so a run may stop up to `concurrency - 1` requests short of the limit
        assert limit - CONCURRENCY < made <= limit, spent
