"""Logging for a terminal and for cron: one line per event, progress, no secrets.

On a terminal, progress is a single line on stderr redrawn in place. Under cron (no TTY)
each phase logs one line, and progress becomes at most one log record a minute
(`[logging] progress_interval`), so a cron mail stays short however long the run.
Every record passes through `SecretRedactor`, which masks the values it was told about
(the client secret, access tokens): defence in depth, since nothing should log them.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import ClassVar, TextIO

from pipelines.evenergy.report import ExtractionReport

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DEFAULT_LOG_INTERVAL_SECONDS = 60.0


class SecretRedactor(logging.Filter):
    """Replaces registered secret values in log messages with `***`."""

    _secrets: ClassVar[set[str]] = set()
    _lock = threading.Lock()

    @classmethod
    def register(cls, secret: str | None) -> None:
        """Mask this value from now on (ignored if empty or too short to be a secret)."""
        if secret and len(secret) >= 6:
            with cls._lock:
                cls._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, masked."""
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info:  # a traceback (-v) is text too: mask it before it is printed
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        for secret in self._secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def emit(line: str) -> None:
    """Command output (a report, a table), not a log record: to stdout, flushed."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def configure_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Root logging to stderr, UTC timestamps, with the redactor on every record."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(FORMAT, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(SecretRedactor())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "dlt"):  # their INFO lines carry nothing a cron mail needs
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # One line per phase: the per-model and per-table lines are detail for -v; the phase
    # lines themselves come from pipelines.nightly and pipelines.evenergy_pipeline.
    for detail in ("pipelines.models", "pipelines.export"):
        logging.getLogger(detail).setLevel(level if verbose else max(level, logging.WARNING))
    # dlt installs its own handler on its logger when a pipeline starts; a filter on the
    # logger outlives that. Our own lines say what failed: dlt's warnings (a retried load
    # job, with its whole traceback) only with -v, and never more than one line without it.
    dlt_logger = logging.getLogger("dlt")
    for old in [f for f in dlt_logger.filters if isinstance(f, _DltLines)]:
        dlt_logger.removeFilter(old)
    dlt_logger.addFilter(_DltLines(verbose))
    # requests-oauthlib logs the whole token response at DEBUG, before anyone could register
    # the new token with the redactor: never let those records through, even with -v.
    for leaky in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(leaky).setLevel(logging.WARNING)


class _DltLines(logging.Filter):
    """dlt's records: only with -v (a critical one, each cut to its first line, without),
    and masked like ours (dlt's handler is not ours, so it lacks the redactor)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self._verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop, cut and mask as the class says."""
        if not self._verbose and record.levelno < logging.CRITICAL:
            return False
        SecretRedactor().filter(record)
        if not self._verbose:
            record.msg, record.args = record.getMessage().split("\n", 1)[0], None
            record.exc_info, record.exc_text = None, None
        return True


class Progress:
    """Turns report updates into a redrawn status line (TTY) or sparse log records.

    Args:
        stream: where the redrawn line goes.
        interactive: redraw a line (a terminal) or log records (cron); default: whether
            `stream` is a terminal.
        log_interval_seconds: without a terminal, the least time between two progress
            records, and before the first one (a short extraction logs none).
    """

    def __init__(
        self,
        stream: TextIO = sys.stderr,
        interactive: bool | None = None,
        log_interval_seconds: float = DEFAULT_LOG_INTERVAL_SECONDS,
    ) -> None:
        self._stream = stream
        self._interactive = stream.isatty() if interactive is None else interactive
        self._interval = log_interval_seconds
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._last_log = time.monotonic()
        self._log = logging.getLogger("pipelines.progress")

    def __call__(self, report: ExtractionReport) -> None:
        """Called after each partition."""
        with self._lock:
            if self._interactive:
                self._draw(report)
            else:
                self._log_sparsely(report)

    def _draw(self, report: ExtractionReport) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.2:
            return
        self._last_draw = now
        self._stream.write("\r\033[K" + self.describe(report))
        self._stream.flush()

    def _log_sparsely(self, report: ExtractionReport) -> None:
        now = time.monotonic()
        if now - self._last_log >= self._interval:
            self._last_log = now
            self._log.info("progress: %s", self.describe(report))

    def describe(self, report: ExtractionReport) -> str:
        """One line: partitions done per resource and requests left."""
        parts = [
            f"{name} {p.complete + p.failed + p.not_reached}/{p.total}"
            for name, p in report.progress.items()
        ]
        left = "?" if report.requests_left is None else str(report.requests_left)
        return " · ".join(parts) + f" · {left} requests left"

    def finish(self) -> None:
        """End the redrawn line so the next log record starts on its own."""
        if self._interactive and self._last_draw:
            self._stream.write("\n")
            self._stream.flush()
