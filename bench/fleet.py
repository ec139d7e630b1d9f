"""The fleet against the simulator, and the scenarios measured on it.

This module owns:

- The API simulator in its own process (`python -m pipelines.simulator`), driven over HTTP
  (`SimulatorProcess`). The simulator generates its histories in a background thread once it
  serves, and `/_sim/state` does not say when that is done. A sub-session listing needs every
  history (it sorts all sub-sessions of the fleet), so one `GET /charging_sub_sessions` blocks
  until the world is complete: it is made before any timing starts, then the counters are
  reset.
- A simulated fleet to measure runs against (`Fleet`): the simulator process, the same world
  rebuilt in this process as ground truth, and a working directory for the runs' warehouses.
- One scenario's figures as a JSON-ready record (`run_record`): rows, requests against the
  minimum, seconds per phase, throughput and peak RSS, with the simulator's own request
  count.
- The fleet scenarios of a benchmark run, each measured in a child process (the runners are
  in `bench.pipeline_runs`):
  - fleet: the ratio pair (the project's pipeline and dlt's default path, restricted to the
    same resources), the full backfill, DuckDB's `read_json` ceiling, the nightly
    incremental run after the clock moves a day (on the backfill's history, and on a copy
    padded to `long_history_days` of history), and a no-op run; then the models over the
    loaded warehouse and its HTML report.
  - scaling: a backfill of a small and a large fleet, for peak RSS.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from bench.config import SIMULATOR_START, BenchSizes
from bench.pipeline_runs import BASELINE_RESOURCES, render_status_pages
from bench.process import PROJECT_ROOT, ChildResult, guarded, models_record, run_child
from bench.truth import GroundTruth, RunWindow
from pipelines.evenergy.parsing import format_timestamp, parse_duration, parse_timestamp
from pipelines.simulator import SimulatorConfig
from pipelines.simulator.http.server import Serving

log = logging.getLogger(__name__)

CLIENT_ID, CLIENT_SECRET = "sim-client", "sim-secret"  # SimulatorConfig's defaults
READY_TIMEOUT_SECONDS = 60.0
WARM_UP_TIMEOUT_SECONDS = 300.0
DEFAULT_LOOKBACK = "6h"
DAY_SECONDS = 86_400
NOOP_SECONDS = 60  # the no-op run: a rerun this long after the nightly one (a day later)


class SimulatorProcess(Serving):
    """A simulator subprocess on a free loopback port, with the rate limit lifted."""

    def __init__(self, evses: int, days: float, seed: int, log_path: Path) -> None:
        """Describe the simulator; nothing starts before `start` (or `with`).

        Args:
            evses: fleet size.
            days: length of the history; the clock starts one day before its end.
            seed: seed of the world.
            log_path: where the simulator's own log lines go.
        """
        self.evses, self.days, self.seed, self.log_path = evses, days, seed, log_path
        self.port = _free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url, self.token_url = f"{self.root}/v2", f"{self.root}/o/token/"
        self._process: subprocess.Popen[bytes] | None = None
        self._http = requests.Session()

    def command(self) -> list[str]:
        """The command line of the simulator process."""
        return [
            sys.executable, "-m", "pipelines.simulator",
            "--port", str(self.port),
            "--seed", str(self.seed),
            "--evses", str(self.evses),
            "--days", str(self.days),
            "--start", SIMULATOR_START.isoformat(),
            "--rate-limit", "0",
        ]  # fmt: skip

    def start(self) -> SimulatorProcess:
        """Start the process, wait until it answers and its world is generated."""
        with self.log_path.open("ab") as sink:
            self._process = subprocess.Popen(
                self.command(), stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        began = time.monotonic()
        self._wait_until_serving()
        self._warm_up()
        self.reset_counters()
        seconds = time.monotonic() - began
        log.info(
            "simulator: %d EVSEs x %g days on port %d, ready in %.1f s",
            self.evses,
            self.days,
            self.port,
            seconds,
        )
        return self

    def state(self) -> dict[str, Any]:
        """`GET /_sim/state`: clock, request counters, configuration."""
        answer = self._http.get(f"{self.root}/_sim/state", timeout=30)
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    def advance(self, seconds: float) -> str:
        """Move the simulated clock forward; returns the new `now` (ISO)."""
        answer = self._http.post(
            f"{self.root}/_sim/clock", json={"advance_seconds": seconds}, timeout=30
        )
        answer.raise_for_status()
        return str(answer.json()["now"])

    def reset_counters(self) -> None:
        """Zero the simulator's request counters."""
        self._http.post(f"{self.root}/_sim/reset_counters", timeout=30).raise_for_status()

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the simulator process has used so far (Linux only)."""
        if self._process is None:
            return None
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # after the command name: state is field 3, utime and stime are fields 14 and 15
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def source_args(self, initial_start: str) -> dict[str, Any]:
        """Explicit `evenergy` source settings pointing at this simulator."""
        return {
            "base_url": self.base_url,
            "token_url": self.token_url,
            "credentials": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            "initial_start": initial_start,
            "rate_limit_reserve": 0,
        }

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s)."""
        self._http.close()
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"the simulator exited early; see {self.log_path}")
            try:
                self.state()
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise TimeoutError(f"the simulator did not answer in {READY_TIMEOUT_SECONDS:.0f} s")

    def _warm_up(self) -> None:
        token = self._http.post(
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=30,
        )
        token.raise_for_status()
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Accept": "application/json",
        }
        answer = self._http.get(
            f"{self.base_url}/charging_sub_sessions",
            params={"page_size": 1},
            headers=headers,
            timeout=WARM_UP_TIMEOUT_SECONDS,
        )
        answer.raise_for_status()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Fleet:
    """A running simulator, its ground truth, and where the runs keep their files."""

    simulator: SimulatorProcess
    truth: GroundTruth
    workdir: Path
    lookback: str

    @classmethod
    @contextmanager
    def started(cls, evses: int, days: float, seed: int, workdir: Path) -> Iterator[Fleet]:
        """Start a simulator of `evses` chargers over `days` days; stop it on exit.

        The clock starts one day before the end of the history, so a backfill reads
        `days - 1` days and one incremental run can follow.
        """
        workdir.mkdir(parents=True, exist_ok=True)
        simulator = SimulatorProcess(evses, days, seed, workdir / "simulator.log")
        config = SimulatorConfig(
            seed=seed, n_evses=evses, days=days, start=SIMULATOR_START, rate_limit=None
        )
        truth = GroundTruth(config, simulator.base_url)
        with simulator:
            yield cls(simulator, truth, workdir, configured_lookback())

    def now(self) -> datetime:
        """The simulator's clock."""
        return parse_timestamp(self.simulator.state()["now"])

    def target(self, name: str) -> dict[str, str]:
        """A dlt working directory and DuckDB file of their own for runs named `name`."""
        return {
            "pipelines_dir": str(self.workdir / name / "dlt"),
            "database": str(self.workdir / name / "warehouse.duckdb"),
        }

    def source_args(self) -> dict[str, Any]:
        """Explicit source settings: the simulator, its start, no reserve (the rest, e.g. the
        lookback, comes from `.dlt/config.toml` as for the nightly job)."""
        return self.simulator.source_args(format_timestamp(SIMULATOR_START))

    def measure(
        self,
        label: str,
        kind: str,
        target: dict[str, str],
        window: RunWindow,
        resources: tuple[str, ...] = (),
        isolated: bool = False,
    ) -> dict[str, Any]:
        """Run one measured pipeline run in a child process and compare with the minimum.

        Args:
            label: the table row's label.
            kind: `ours` or `baseline_dlt`.
            target: from `target`: the run's dlt directory and warehouse.
            window: the run's clock and the previous run's, for the minimum.
            resources: restrict the run (and the minimum) to these tables; all when empty.
            isolated: run outside the project root, so none of its `.dlt/` settings apply
                (dlt's defaults, for the baseline).
        """
        minimum = self.truth.minimum(window, tables=resources)
        lookback = parse_duration(self.lookback)
        with_lookback = self.truth.minimum(window, lookback, tables=resources)
        payload = {**target, "source_args": self.source_args(), "resources": list(resources)}
        self.simulator.reset_counters()
        cpu_before = self.simulator.cpu_seconds()
        cwd = Path(target["pipelines_dir"]).parent if isolated else None
        if cwd is not None:
            cwd.mkdir(parents=True, exist_ok=True)
        child = run_child(kind, payload, cwd)
        cpu_after = self.simulator.cpu_seconds()
        record = run_record(label, child, self.simulator.state(), minimum, with_lookback)
        if cpu_before is not None and cpu_after is not None:
            record["simulator_cpu_seconds"] = round(cpu_after - cpu_before, 2)
        return record


def configured_lookback() -> str:
    """`sources.evenergy.lookback` as the runs see it (environment, then `.dlt/config.toml`;
    they run from the project root): the widest re-read, for the minimum-with-lookback."""
    from_env = os.environ.get("SOURCES__EVENERGY__LOOKBACK")
    if from_env:
        return from_env
    try:
        config = tomllib.loads((PROJECT_ROOT / ".dlt" / "config.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_LOOKBACK
    return str(config.get("sources", {}).get("evenergy", {}).get("lookback", DEFAULT_LOOKBACK))


def run_record(
    label: str,
    child: ChildResult,
    server: dict[str, Any] | None = None,
    minimum: dict[str, int] | None = None,
    minimum_with_lookback: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Combine a measurement with its ground truth.

    Args:
        label: what the row of the table says.
        child: the measurement process's result and peak RSS.
        server: `/_sim/state` read right after the run (counters reset right before it).
        minimum: fewest requests per table (strict definition).
        minimum_with_lookback: fewest requests per table re-reading the status lookback.
    """
    result = child.result
    rows_total = sum(result.get("rows", {}).values())
    wall = float(result.get("wall_seconds") or 0.0)
    record: dict[str, Any] = {
        "label": label,
        "rows": result.get("rows", {}),
        "rows_total": rows_total,
        "wall_seconds": wall,
        "seconds": result.get("seconds", {}),
        "rows_per_second": round(rows_total / wall, 1) if wall > 0 else None,
        "peak_rss_mb": child.peak_rss_mb,
        "process_seconds": child.process_seconds,
        "cpu_seconds": child.cpu_seconds,
    }
    for key in (
        "partial",
        "errors",
        "pool_full_discards",
        "transient_load_errors",
        "peak_rss_mb_by_phase",
    ):
        if key in result:
            record[key] = result[key]
    if "requests" in result:
        record.update(_requests(result, server, minimum, minimum_with_lookback))
    return record


def _requests(
    result: dict[str, Any],
    server: dict[str, Any] | None,
    minimum: dict[str, int] | None,
    minimum_with_lookback: dict[str, int] | None,
) -> dict[str, Any]:
    made = int(result.get("requests_made", sum(result["requests"].values())))
    figures: dict[str, Any] = {"requests": result["requests"], "requests_total": made}
    if server is not None:
        figures["server_requests"] = server.get("requests_by_endpoint", {})
        figures["server_requests_total"] = int(server.get("request_count", 0))
        figures["requests_match_server"] = figures["server_requests_total"] == made
    if minimum is not None:
        least = sum(minimum.values())
        figures["minimum"] = minimum
        figures["minimum_total"] = least
        figures["over_minimum_pct"] = round(100 * (made - least) / least, 2) if least else None
        figures["over_minimum_by_table"] = {
            table: int(result["requests"].get(table, 0)) - count for table, count in minimum.items()
        }
    if minimum_with_lookback is not None:
        figures["minimum_with_lookback"] = minimum_with_lookback
        figures["minimum_with_lookback_total"] = sum(minimum_with_lookback.values())
    return figures


def fleet_scenarios(sizes: BenchSizes, workdir: Path) -> dict[str, dict[str, Any]]:
    """Backfill, incremental and no-op runs, the two baselines, and the models over them."""
    fleet_size = f"{sizes.evses} EVSEs x {sizes.days:g} d"
    results: dict[str, dict[str, Any]] = {}
    with Fleet.started(sizes.evses, sizes.days + 1, sizes.seed, workdir / "fleet") as fleet:
        backfill = RunWindow(fleet.now())
        log.info("ratio pair: %s, %s", ", ".join(BASELINE_RESOURCES), fleet_size)
        results["ratio_ours"] = guarded(
            "ours (Arrow, Parquet)",
            lambda label: fleet.measure(
                label, "ours", fleet.target("ratio-ours"), backfill, BASELINE_RESOURCES
            ),
        )
        results["ratio_dlt_default"] = guarded(
            "dlt defaults (dicts)",
            lambda label: fleet.measure(
                label,
                "baseline_dlt",
                fleet.target("ratio-dlt"),
                backfill,
                BASELINE_RESOURCES,
                isolated=True,
            ),
        )
        log.info("backfill: %s", fleet_size)
        main = fleet.target("nightly")
        results["backfill"] = guarded(
            f"backfill {fleet_size}", lambda label: fleet.measure(label, "ours", main, backfill)
        )
        results["read_json"] = guarded(
            "duckdb read_json", lambda label: _read_json_ceiling(fleet, backfill, label)
        )
        long_history = fleet.target(f"nightly-{sizes.long_history_days:g}d")
        padding = {"source": main, "target": long_history, "days": sizes.long_history_days}
        padded = run_child("pad_history", padding).result
        log.info("long history: %s", ", ".join(f"{k} {v:,}" for k, v in padded.items()))
        fleet.simulator.advance(DAY_SECONDS - NOOP_SECONDS)  # the history's end: the no-op's
        nightly = RunWindow(fleet.now(), backfill.now)
        log.info("incremental: clock advanced a day less a minute to %s", nightly.now.isoformat())
        results["incremental"] = guarded(
            f"incremental +1 d on {sizes.days:g} d",
            lambda label: fleet.measure(label, "ours", main, nightly),
        )
        # The same night merged into a much longer history: its memory must not grow with it.
        results["incremental_long_history"] = guarded(
            f"incremental +1 d on {sizes.long_history_days:g} d",
            lambda label: {
                **fleet.measure(label, "ours", long_history, nightly),
                "history_rows": padded,
            },
        )
        # a rerun a minute later: at the same moment of the API's clock nothing is read at
        # all (`Extraction.current`); once it moved, every partition costs its one request
        fleet.simulator.advance(NOOP_SECONDS)
        noop = RunWindow(fleet.now(), nightly.now)
        results["noop"] = guarded("no-op", lambda label: fleet.measure(label, "ours", main, noop))
    results["models_loaded"] = guarded(
        "loaded warehouse", lambda label: models_record(label, "models_loaded", main)
    )
    results["report"] = guarded(
        "HTML report of the loaded warehouse",
        lambda label: models_record(label, "report", main),
    )
    return results


def _read_json_ceiling(fleet: Fleet, window: RunWindow, label: str) -> dict[str, Any]:
    """Render the status-log pages to JSON files, then time DuckDB reading them."""
    pages = fleet.workdir / "status-pages"
    try:
        rendered = render_status_pages(fleet.truth.world, window.now, pages)
        payload = {"pages_dir": str(pages), "database": str(fleet.workdir / "read_json.duckdb")}
        record = run_record(label, run_child("read_json", payload))
    finally:
        shutil.rmtree(pages, ignore_errors=True)
    return {**record, "rendered_rows": rendered}


def scaling_scenarios(sizes: BenchSizes, workdir: Path) -> dict[str, dict[str, Any]]:
    """A backfill of the small and of the large fleet, each against its own simulator."""
    results: dict[str, dict[str, Any]] = {}
    for key, evses in zip(("memory_small", "memory_large"), sizes.scaling_evses, strict=True):
        days = sizes.scaling_days
        log.info("memory scaling: backfill of %d EVSEs x %g d", evses, days)
        with Fleet.started(evses, days + 1, sizes.seed, workdir / key) as fleet:
            window = RunWindow(fleet.now())
            results[key] = guarded(
                f"backfill {evses} EVSEs x {days:g} d",
                lambda label: fleet.measure(label, "ours", fleet.target("run"), window),  # noqa: B023
            )
    return results
