"""Every chart of the report draws exactly what a query of the test's own gives on fixtures.

The expected rows come from the dispatch facts and the fleet grid (not from the marts the
report reads), so a report query that sums the wrong count, drops a make or mislabels a side
disagrees with them.
"""

from __future__ import annotations

import statistics

import duckdb
import pytest

from pipelines.report import CHARTS
from tests.report.reading import assert_same_rows, chart_rows, embedded_json

RATES_BY = """
with facts as (
    select strftime(date, '%Y-%m-%d') as date, coalesce(make_name, '(unknown)') as make_name, *
        exclude (date, make_name)
    from analytics.dispatch_effectiveness
),
rates as (
    select {group}, bool_or(is_provisional) as is_provisional,
        count(*) filter (compliance = 'complied')
            / nullif(count(*) filter (compliance in ('complied', 'not_complied')), 0) as compliance,
        count(*) filter (target_outcome in ('reached', 'held'))
            / nullif(count(*) filter (target_outcome in ('reached', 'held', 'not_reached')), 0) as target,
        count(*) filter (outcome = 'effective')
            / nullif(count(*) filter (outcome in ('effective', 'no_response')), 0) as state_change,
    from facts group by {group}
)
select {group}, measure, rate, is_provisional
from rates unpivot (rate for measure in (compliance, target, state_change))
"""


def _rows(warehouse, sql: str) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_every_chart_is_tested_here():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert {chart.query for chart in CHARTS} <= tested


def test_daily_rates(fixture_warehouse, fixture_report):
    expected = _rows(fixture_warehouse, RATES_BY.format(group="date"))
    assert_same_rows(chart_rows(fixture_report, "daily_rates"), expected, ("date", "measure"))
    # the fixture's last day (and only it) is provisional
    provisional = {row["date"] for row in expected if row["is_provisional"]}
    assert provisional == {max(row["date"] for row in expected)}


def test_daily_rates_by_make(fixture_warehouse, fixture_report):
    expected = _rows(fixture_warehouse, RATES_BY.format(group="date, make_name"))
    actual = chart_rows(fixture_report, "daily_rates_by_make")
    assert_same_rows(actual, expected, ("date", "make_name", "measure"))
    assert "(unknown)" in {row["make_name"] for row in actual}
    # Ohme's day-0 commands have no target, so no compliance rate is drawn for that day
    assert not [
        r
        for r in actual
        if r["make_name"] == "Ohme" and r["date"] == "2026-01-05" and r["measure"] == "compliance"
    ]


def test_compliance_seconds_by_make(fixture_warehouse, fixture_report):
    facts = _rows(
        fixture_warehouse,
        "select coalesce(make_name, '(unknown)') as make, compliance_seconds as s "
        "from analytics.dispatch_effectiveness where compliance = 'complied'",
    )
    expected = []
    for make in sorted({f["make"] for f in facts}):
        seconds = sorted(f["s"] for f in facts if f["make"] == make)
        deciles = statistics.quantiles(seconds, n=20, method="inclusive")  # every 5 %
        expected.append(
            {
                "make_name": make,
                "count_complied": len(seconds),
                "p10_seconds": deciles[1],
                "p25_seconds": deciles[4],
                "median_seconds": statistics.median(seconds),
                "p75_seconds": deciles[14],
                "p90_seconds": deciles[17],
            }
        )
    assert_same_rows(
        chart_rows(fixture_report, "compliance_seconds_by_make"), expected, ("make_name",)
    )


def test_failures_by_make_model(fixture_warehouse, fixture_report):
    expected = _rows(
        fixture_warehouse,
        """select coalesce(make_name, '(unknown)') as make_name,
               coalesce(model_name, '(unknown)') as model_name,
               coalesce(make_name, '(unknown)') || ' ' || coalesce(model_name, '(unknown)') as make_model,
               failure_side, count(*) as count_failures
           from analytics.dispatch_effectiveness where failure_side is not null group by all""",
    )
    assert {row["failure_side"] for row in expected} == {"charger", "vehicle"}
    assert_same_rows(
        chart_rows(fixture_report, "failures_by_make_model"),
        expected,
        ("make_model", "failure_side"),
    )


def test_top_failing_evses(fixture_warehouse, fixture_report):
    per_evse = _rows(
        fixture_warehouse,
        """select evse_id, 'CP-' || evse_id as cpid, coalesce(any_value(make_name), '(unknown)') as make_name,
               coalesce(any_value(model_name), '(unknown)') as model_name, count(*) as count_attempts,
               count(*) filter (failure_side = 'charger') as count_charger_failures,
               count(*) filter (failure_side = 'vehicle') as count_vehicle_failures,
               count(*) filter (compliance = 'complied')
                   / nullif(count(*) filter (compliance in ('complied', 'not_complied')), 0) as compliance_rate,
               count(*) filter (target_outcome in ('reached', 'held'))
                   / nullif(count(*) filter (target_outcome in ('reached', 'held', 'not_reached')), 0)
                   as target_success_rate,
               count(*) filter (outcome = 'effective')
                   / nullif(count(*) filter (outcome in ('effective', 'no_response')), 0) as effectiveness_rate,
           from analytics.dispatch_effectiveness group by evse_id""",
    )
    for row in per_evse:
        charger, vehicle = row["count_charger_failures"], row["count_vehicle_failures"]
        row["count_failures"] = charger + vehicle
        row["failure_side"] = (
            "charger" if charger > vehicle else "vehicle" if vehicle > charger else "both"
        )
    ranked = sorted(
        (r for r in per_evse if r["count_failures"]),
        key=lambda r: (-r["count_failures"], r["evse_id"]),
    )
    page = fixture_report.read_text()
    actual = embedded_json(page, "data-top_failing_evses")
    assert [row["evse_id"] for row in actual] == [row["evse_id"] for row in ranked[:20]]
    assert_same_rows(actual, ranked[: len(actual)], ("evse_id",))
    # and the table a reader sees lists them in that order
    table = page.split('id="table-top_failing_evses"', 1)[1].split("</table>", 1)[0]
    assert [line.split("<td>", 2)[1].split("</td>")[0] for line in table.split("<tr>")[2:]] == [
        row["evse_id"] for row in actual
    ]


def test_fleet_reporting_share(fixture_warehouse, fixture_report):
    expected = _rows(
        fixture_warehouse,
        """select strftime(date, '%Y-%m-%d') as date, count(*) as count_fleet_evses,
               count(*) filter (count_samples > 0) as count_reporting_evses,
               count(*) filter (count_samples > 0) / count(*) as share_reporting,
               bool_or(is_provisional) as is_provisional
           from analytics.evse_reporting_health group by date""",
    )
    assert_same_rows(chart_rows(fixture_report, "fleet_reporting_share"), expected, ("date",))


def test_reporting_by_make_day(fixture_warehouse, fixture_report):
    grid = _rows(
        fixture_warehouse,
        "select coalesce(make_name, '(unknown)') as make, strftime(date, '%Y-%m-%d') as day, "
        "count_samples from analytics.evse_reporting_health",
    )
    cells: dict[tuple[str, str], list[int]] = {}
    for row in grid:
        cells.setdefault((row["make"], row["day"]), []).append(row["count_samples"])
    expected = [
        {
            "make_name": make,
            "date": day,
            "count_fleet_evses": len(samples),
            "count_reporting_evses": sum(1 for s in samples if s > 0),
            "share_reporting": sum(1 for s in samples if s > 0) / len(samples),
        }
        for (make, day), samples in cells.items()
    ]
    assert any(row["share_reporting"] < 1 for row in expected), "the fixture has silent days"
    assert_same_rows(
        chart_rows(fixture_report, "reporting_by_make_day"), expected, ("make_name", "date")
    )


@pytest.mark.parametrize("chart", [chart.query for chart in CHARTS])
def test_every_chart_has_a_spec_vega_lite_accepts(fixture_report, chart):
    """vl-convert compiles each embedded spec to Vega (it fails on an invalid spec)."""
    import vl_convert

    spec = embedded_json(fixture_report.read_text(), f"spec-{chart}")
    assert vl_convert.vegalite_to_vega(spec)["marks"]


def test_header(fixture_warehouse, fixture_report):
    page = fixture_report.read_text()
    last_day = _rows(
        fixture_warehouse,
        "select max(date) as d, count(*) filter (date = (select max(date) "
        "from analytics.evse_reporting_health)) as n from analytics.evse_reporting_health",
    )[0]
    fleet = page.split('id="fleet-size">', 1)[1].split("</p>", 1)[0]
    assert fleet.startswith(f"{last_day['n']:,} EVSEs on {last_day['d']}")
    last_run = page.split('id="last-run">', 1)[1].split("</p>", 1)[0]
    assert "<b>partial</b>" in last_run and "deadline reached" in last_run  # run-2, the newest
    freshness = page.split('id="table-freshness"', 1)[1].split("</table>", 1)[0]
    tables = _rows(fixture_warehouse, "select table_name from analytics.table_freshness")
    assert freshness.count("<tr>") == len(tables) + 1
    assert "2026-01-09 23:55 UTC" in freshness  # newest_at of the fixture's last day
