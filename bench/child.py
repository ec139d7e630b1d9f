"""Run one measurement in its own process, so its peak RSS is its own.

The child is `python -m bench.worker '<json>'`, started from the project root (so
`.dlt/config.toml` applies). It logs to stderr (passed through) and prints its result as one
`RESULT_PREFIX` line on stdout, with its own peak resident set size (`OWN_PEAK`, see
`bench.rss`: the `ru_maxrss` that `os.wait4` gives includes this parent's size). The parent
reaps it with `os.wait4`, whose rusage gives the child's CPU time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "BENCH_RESULT "
OWN_PEAK = "own_peak_rss_mb"  # the result's key for the worker's own peak RSS


class ChildFailed(RuntimeError):
    """A measurement process exited with an error or printed no result."""


@dataclass(frozen=True)
class ChildResult:
    """What a measurement process reported, and what the kernel says it used."""

    result: dict[str, Any]
    peak_rss_mb: float
    process_seconds: float  # wall time of the whole process, interpreter start included
    cpu_seconds: float  # user + system CPU time of the whole process


def run_child(kind: str, payload: dict[str, Any], cwd: Path | None = None) -> ChildResult:
    """Run one measurement of `kind` in a fresh interpreter and wait for it.

    Args:
        kind: what the worker measures (see `bench.worker.RUNNERS`).
        payload: the measurement's arguments (JSON-ready).
        cwd: where the process runs; the project root (whose `.dlt/` config applies) by
            default. Elsewhere, dlt sees none of the project's settings.

    Raises:
        ChildFailed: the process failed or printed no result line.
    """
    argument = json.dumps({"kind": kind, **payload})
    began = time.monotonic()
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.worker", argument],
        cwd=cwd or PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    seconds = time.monotonic() - began
    lines = [line for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    result = json.loads(lines[-1][len(RESULT_PREFIX) :]) if lines else {}
    if process.returncode != 0 or not lines:
        reason = result.get("error") or f"exited with {process.returncode}, no result"
        raise ChildFailed(f"{kind}: {reason}")
    peak_mb = float(result.pop(OWN_PEAK))
    log.info("%s: done in %.1f s, peak RSS %.0f MB", kind, seconds, peak_mb)
    cpu = usage.ru_utime + usage.ru_stime
    return ChildResult(result, round(peak_mb, 1), round(seconds, 2), round(cpu, 2))
