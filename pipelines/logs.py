"""Logging for a terminal and for cron: one line per event, progress, no secrets.

On a terminal, progress is a single line on stderr redrawn in place. Under cron (no TTY)
it becomes a plain log record every 10 % of the partitions, so a cron mail stays short.
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
    # requests-oauthlib logs the whole token response at DEBUG, before anyone could register
    # the new token with the redactor: never let those records through, even with -v.
    for leaky in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(leaky).setLevel(logging.WARNING)


class Progress:
    """Turns report updates into a redrawn status line (TTY) or sparse log records."""

    def __init__(self, stream: TextIO = sys.stderr, interactive: bool | None = None) -> None:
        self._stream = stream
        self._interactive = stream.isatty() if interactive is None else interactive
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._logged_tenths: dict[str, int] = {}
        self._log = logging.getLogger("pipelines.progress")

    def __call__(self, report: ExtractionReport) -> None:
        """Called after each partition."""
        with self._lock:
            if self._interactive:
                self._draw(report)
            else:
                self._log_tenths(report)

    def _draw(self, report: ExtractionReport) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.2:
            return
        self._last_draw = now
        self._stream.write("\r\033[K" + self.describe(report))
        self._stream.flush()

    def _log_tenths(self, report: ExtractionReport) -> None:
        for name, progress in report.progress.items():
            done = progress.complete + progress.failed + progress.not_reached
            tenth = 10 * done // max(progress.total, 1)
            if tenth > self._logged_tenths.get(name, 0):
                self._logged_tenths[name] = tenth
                left = "?" if report.requests_left is None else report.requests_left
                self._log.info(
                    "%s: %d of %d partitions, %s requests left", name, done, progress.total, left
                )

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
