"""The report in a real browser: headless Chromium, network refused, every chart drawn.

Each visit starts Chromium with a fresh profile (about 2 s here); the last test shows the
harness itself catches a page that reaches for the network or logs an error.
"""

from __future__ import annotations

from pipelines.report import CHARTS, write_report
from tests.report.browser import visit
from tests.report.fixtures import DDL


def test_report_renders_offline_with_every_chart(chromium, fixture_report):
    seen = visit(chromium, fixture_report)
    assert seen.refused == [], "the report asked for something outside the file"
    assert seen.failed == []
    assert seen.errors == []
    assert seen.requests == [fixture_report.resolve().as_uri()]
    assert [chart["id"] for chart in seen.charts] == [f"chart-{chart.query}" for chart in CHARTS]
    for chart in seen.charts:
        assert chart["rendered"], chart
        assert chart["dataMarks"] > 0, f"{chart['id']} drew axes but no data"
        assert chart["width"] > 100 and chart["height"] > 50, chart


def test_an_empty_warehouse_opens_without_errors(chromium, tmp_path):
    import duckdb

    database = tmp_path / "empty.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute(DDL)
    seen = visit(chromium, write_report(database, tmp_path / "out"))
    assert seen.charts == [] and seen.errors == [] and seen.failed == [] and seen.refused == []


def test_the_harness_sees_a_network_request_and_a_console_error(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><head><script src="https://cdn.example.org/vega.js"></script></head>'
        '<body><script>console.error("boom")</script></body></html>'
    )
    seen = visit(chromium, page, timeout=3)
    assert seen.refused == ["https://cdn.example.org/vega.js"]
    assert seen.failed and any("boom" in error for error in seen.errors)
