"""Peak resident memory of the current process, overall and by pipeline phase.

The peak is the kernel's high-water mark of this process's own memory (`VmHWM` in
`/proc/self/status`). Not `ru_maxrss`: Linux carries it across `execve`, so a process
started by `subprocess` (vfork, then exec) reports at least its parent's resident size at
the start (measured: an 800 MB parent, a 13 MB child, 833 MB from `ru_maxrss`); the bench's
parent holds a large fleet's truth. The mark only grows, so reading it as each phase ends
tells which phase set the peak.
`load_evenergy` logs one line as each phase ends (`extract: ...`, `normalize: ...`,
`load: ...`); `PhasePeaks` listens for them on the pipeline's logger.
"""

from __future__ import annotations

import logging
import resource
import sys

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
