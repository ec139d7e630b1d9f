"""Write `docs/report.png`: the report of a warehouse, as headless Chromium shows it.

    .tools/bin/uv run --frozen python -m tests.report.screenshot            # fixture warehouse
    .tools/bin/uv run --frozen python -m tests.report.screenshot --database demo-output/warehouse.duckdb

Without `--database` it renders the hand-built fixture warehouse of the report tests at demo
size (40 EVSEs, 7 days); with one, that warehouse's report (e.g. the demo's, once its models
have the columns of the model contract).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from pipelines.report import write_report
from tests.report.browser import find_chromium, visit
from tests.report.fixtures import FixtureSize, build_fixture_warehouse

PROJECT = Path(__file__).resolve().parents[2]
log = logging.getLogger("tests.report.screenshot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, help="default: a fixture warehouse")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "report.png")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    binary = find_chromium()
    if binary is None:
        log.error("chromium is missing: apt-get install chromium")
        return 1
    with tempfile.TemporaryDirectory(prefix="report-shot-") as scratch:
        database = args.database or build_fixture_warehouse(
            Path(scratch) / "warehouse.duckdb", FixtureSize(evses=40, days=7, dispatches_per_day=6)
        )
        page = write_report(database, Path(scratch) / "out")
        seen = visit(binary, page, screenshot=args.out)
    if seen.errors or seen.failed or seen.refused:
        log.error("the report did not load cleanly: %s", seen)
        return 1
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
