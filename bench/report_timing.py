"""How long `write_report` takes on a warehouse, and how big the report is.

The bench scenarios call `time_report` on the 500-EVSE x 7-day benchmark warehouse. Run it in
a fresh process for the cold figure: the first report of a process also builds the Vega
JavaScript bundle (about 1.2 s here), which later reports of that process reuse.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from pipelines.report import write_report


def time_report(database: Path, to: Path | None = None) -> dict[str, Any]:
    """Write the report of `database` once and time it.

    Args:
        database: the warehouse file (models built).
        to: where to write `report.html`; a temporary directory (removed after) by default.

    Returns:
        `seconds` (wall clock of `write_report`) and `bytes` (size of the HTML file).
    """
    with tempfile.TemporaryDirectory(prefix="report-bench-") as scratch:
        started = time.perf_counter()
        page = write_report(database, to or Path(scratch))
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 3), "bytes": page.stat().st_size}


def time_report_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Worker entry: `time_report` of `payload["database"]`, in a process of its own."""
    return time_report(Path(payload["database"]))
