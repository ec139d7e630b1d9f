"""Running `evenergy-etl` as cron would: a subprocess, in a working directory of its own
(with the project's `.dlt/config.toml`), configured through environment variables."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.evenergy.parsing import format_timestamp
from pipelines.simulator import SimulatorServer

PROJECT = Path(__file__).resolve().parents[1]


def project_workdir(tmp_path: Path) -> Path:
    """A directory holding only the project's committed `.dlt/config.toml`."""
    workdir = tmp_path / "work"
    (workdir / ".dlt").mkdir(parents=True)
    shutil.copy(PROJECT / ".dlt" / "config.toml", workdir / ".dlt" / "config.toml")
    return workdir


def simulator_env(simulator: SimulatorServer, workdir: Path) -> dict[str, str]:
    """Environment pointing the CLI at the simulator and at files under `workdir`."""
    config = simulator.world.config
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        {
            "SOURCES__EVENERGY__BASE_URL": simulator.base_url,
            "SOURCES__EVENERGY__TOKEN_URL": simulator.token_url,
            "SOURCES__EVENERGY__CREDENTIALS__CLIENT_ID": config.client_id,
            "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET": config.client_secret,
            "SOURCES__EVENERGY__INITIAL_START": format_timestamp(config.start),
            "SOURCES__EVENERGY__RATE_LIMIT_RESERVE": "0",
            "DESTINATION__DUCKDB__CREDENTIALS": str(workdir / "warehouse.duckdb"),
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            "PYTHONPATH": str(PROJECT),
        }
    )
    return env


def run_cli(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 120,
    prefix: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run `python -m pipelines ARGS` to completion (`prefix`: e.g. `setpriv` to run it as
    another user)."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "pipelines", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class LiveProcess:
    """A CLI subprocess whose stderr lines are collected as they come."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, args: list[str], env: dict[str, str], cwd: Path) -> LiveProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines", *args],
            env=env,
            cwd=cwd,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        live = cls(process)
        threading.Thread(target=live._read, daemon=True).start()
        return live

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> bool:
        """Poll until `condition` holds or the process ends; True if it held."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            if self.process.poll() is not None:
                return condition()
            time.sleep(0.005)
        return False
