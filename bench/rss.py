"""Peak resident memory of the current process, overall and by pipeline phase.

`ru_maxrss` only grows, so reading it as each phase ends tells which phase set the peak.
`load_evenergy` logs one line as each phase ends (`extract: ...`, `normalize: ...`,
`load: ...`); `PhasePeaks` listens for them on the pipeline's logger.
"""

from __future__ import annotations

import logging
import resource

PIPELINE_LOGGER = "pipelines.evenergy_pipeline"
PHASES = ("extract", "normalize", "load")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


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
