"""The API simulator in its own process (`python -m pipelines.simulator`), driven over HTTP.

The simulator generates its histories in a background thread once it serves, and
`/_sim/state` does not say when that is done. A sub-session listing needs every history
(it sorts all sub-sessions of the fleet), so one `GET /charging_sub_sessions` blocks until
the world is complete: it is made before any timing starts, then the counters are reset.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from bench.sizes import SIMULATOR_START
from pipelines.simulator.http.server import Serving

log = logging.getLogger(__name__)

CLIENT_ID, CLIENT_SECRET = "sim-client", "sim-secret"  # SimulatorConfig's defaults
READY_TIMEOUT_SECONDS = 60.0
WARM_UP_TIMEOUT_SECONDS = 300.0


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
