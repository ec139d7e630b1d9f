"""Progress on a terminal and under cron; the redactor masks registered secrets."""

import io
import logging
import time

from pipelines.evenergy.partitions import PartitionResult
from pipelines.evenergy.report import ExtractionReport
from pipelines.logs import Progress, SecretRedactor


def _report(done: int, total: int) -> ExtractionReport:
    report = ExtractionReport()
    report.expect("status_logs", total)
    for index in range(done):
        report.record("status_logs", PartitionResult(f"evse{index}", None, None, complete=True))
    report.requests_left = 812
    return report


def test_terminal_progress_is_one_redrawn_line():
    stream = io.StringIO()
    progress = Progress(stream, interactive=True)
    progress(_report(3, 10))
    progress.finish()
    assert stream.getvalue() == "\r\x1b[Kstatus_logs 3/10 · 812 requests left\n"


def test_cron_progress_logs_at_most_one_line_per_interval(caplog):
    progress = Progress(io.StringIO(), interactive=False, log_interval_seconds=0.3)
    with caplog.at_level(logging.INFO, logger="pipelines.progress"):
        for done in range(1, 11):  # a short extraction: no progress line at all
            progress(_report(done, 20))
        assert caplog.records == []
        time.sleep(0.35)
        for done in range(11, 21):  # the interval passed: one line, then quiet again
            progress(_report(done, 20))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["progress: status_logs 11/20 · 812 requests left"]


def test_redactor_masks_registered_secrets():
    SecretRedactor.register("tok-123456789")
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "sent %s and %s", ("tok-123456789", "ok"), None
    )
    assert SecretRedactor().filter(record)
    assert record.getMessage() == "sent *** and ok"
