"""A measurement in a process of its own, so its peak RSS is its own.

This module owns both ends of that process and what is measured inside it:

- The parent's side, `run_child`: the child is `python -m bench.process '<json>'`, started
  from the project root (so `.dlt/config.toml` applies). It logs to stderr (passed through)
  and prints its result as one `RESULT_PREFIX` line on stdout, with its own peak resident set
  size (`OWN_PEAK`, see `peak_rss_mb`: the `ru_maxrss` that `os.wait4` gives includes this
  parent's size). The parent reaps it with `os.wait4`, whose rusage gives the child's CPU
  time. `guarded` and `models_record` turn a child's run into a scenario's record.
- The child's side, `main` (`python -m bench.process '<json>'`): the JSON names the
  measurement (`kind`) and its arguments. The result is printed as one line,
  `BENCH_RESULT {...}`, on stdout; logs go to stderr. Each runner's module is imported only
  when asked for, so a measurement's peak RSS carries no other measurement's imports (this
  module imports nothing beyond the standard library).
- Peak resident memory of the current process, overall and by pipeline phase. The peak is
  the kernel's high-water mark of this process's own memory (`VmHWM` in
  `/proc/self/status`). Not `ru_maxrss`: Linux carries it across `execve`, so a process
  started by `subprocess` (vfork, then exec) reports at least its parent's resident size at
  the start (measured: an 800 MB parent, a 13 MB child, 833 MB from `ru_maxrss`); the bench's
  parent holds a large fleet's truth. The mark only grows, so reading it as each phase ends
  tells which phase set the peak. `load_evenergy` logs one line as each phase ends
  (`extract: ...`, `normalize: ...`, `load: ...`); `PhasePeaks` listens for them on the
  pipeline's logger.
- Counts of telling log records in a measurement process (e.g. load jobs dlt retried). A
  filter on a logger sees the records logged on that logger; each counter matches a fragment
  of the message and may keep the record out of the log (repetitive warnings).
- What the benchmark ran on (`describe_machine`): cores, CPU model, memory and the versions
  that matter.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "BENCH_RESULT "
OWN_PEAK = "own_peak_rss_mb"  # the result's key for the worker's own peak RSS

PIPELINE_LOGGER = "pipelines.evenergy_pipeline"
PHASES = ("extract", "normalize", "load")


def peak_rss_mb() -> float:
    """This process's own peak resident set size so far, in MB (`ru_maxrss` where there is
    no `/proc`, as on macOS, whose figure is in bytes; Linux's are in KB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class PhasePeaks(logging.Handler):
    """Records the peak RSS when the pipeline logs the end of each phase."""

    def __init__(self) -> None:
        """Start with no phase seen."""
        super().__init__(level=logging.INFO)
        self.peaks: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        """Note the peak so far if the record ends a phase."""
        phase = str(record.msg).split(":", 1)[0]
        if phase in PHASES and phase not in self.peaks:
            self.peaks[phase] = peak_rss_mb()

    def mark(self, phase: str) -> None:
        """Note the peak so far at the end of `phase` (for runs that do not log it)."""
        self.peaks[phase] = peak_rss_mb()  # a run of several packages: the last one's end

    def __enter__(self) -> PhasePeaks:
        """Listen on the pipeline's logger."""
        logging.getLogger(PIPELINE_LOGGER).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop listening."""
        logging.getLogger(PIPELINE_LOGGER).removeHandler(self)


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
        kind: what the worker measures (see `RUNNERS`).
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
        [sys.executable, "-m", "bench.process", argument],
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


def guarded(label: str, measure: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement; a failure becomes the scenario's `error` and the run goes on."""
    try:
        return measure(label)
    except ChildFailed as failure:
        log.error("%s failed: %s", label, failure)
        return {"label": label, "error": str(failure)}


def models_record(label: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement of `kind` whose result is its record, with its label and peak RSS."""
    child = run_child(kind, payload)
    return {**child.result, "label": label, "peak_rss_mb": child.peak_rss_mb}


def describe_machine() -> dict[str, Any]:
    """The machine and software the figures were measured on.

    Returns:
        `nproc`, `cpu_model`, `memory_gib`, `python`, `dlt`, `duckdb`, `pyarrow`, `os`.
    """
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "dlt": _version("dlt"),
        "duckdb": _version("duckdb"),
        "pyarrow": _version("pyarrow"),
        "os": f"{platform.system()} {platform.release()}",
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


RUNNERS = {
    "ours": "bench.pipeline_runs:run_ours",
    "baseline_dlt": "bench.pipeline_runs:run_baseline",
    "read_json": "bench.pipeline_runs:time_read_json",
    "models_loaded": "bench.pipeline_runs:time_loaded_models",
    "models_synthetic": "bench.models:time_synthetic_models",
    "pad_history": "bench.pipeline_runs:pad_history",
    "report": "bench.pipeline_runs:time_report_worker",
    "models_nightly": "bench.models:time_nightly_models",
    "lake_vs_file": "bench.models:time_lake_vs_file",
}


def configure_logging() -> None:
    """INFO for the project to stderr; dlt's own logging at WARNING."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s [worker] %(name)s: %(message)s",
    )
    logging.getLogger("dlt").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    install_counters()


def resolve(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The runner of a measurement kind.

    Raises:
        KeyError: an unknown kind.
    """
    module_name, function = RUNNERS[kind].split(":")
    runner: Callable[[dict[str, Any]], dict[str, Any]] = getattr(
        importlib.import_module(module_name), function
    )
    return runner


def main(argv: list[str] | None = None) -> int:
    """Run the measurement described by the JSON argument and print its result.

    A failure prints `{"error": ...}` as the result and exits with 1.
    """
    args = sys.argv[1:] if argv is None else argv
    configure_logging()
    payload: dict[str, Any] = json.loads(args[0])
    try:
        result = resolve(payload["kind"])(payload)
    except Exception as error:
        logging.getLogger(__name__).exception("%s failed", payload["kind"])
        _emit({"error": f"{type(error).__name__}: {error}"})
        return 1
    result.update(counts())
    _emit({**result, OWN_PEAK: peak_rss_mb()})
    return 0


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
