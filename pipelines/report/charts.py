"""The report's charts: each one an Altair (Vega-Lite) chart drawn from one named query's rows.

`CHARTS` declares every chart once: the query it draws (`pipelines/report/sql/<query>.sql`),
its section title and caption, and the function that turns the rows into a Vega-Lite spec.
The rows are embedded in the spec as they came from the query, so a test can compare them.
Days are UTC days: temporal axes use a UTC scale so a reader west of Greenwich sees the same
dates as the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt

from pipelines.report.queries import Row

WIDTH = 760
MEASURES = ["compliance", "target", "state_change"]
MEASURE_LABELS = {
    "compliance": "compliance rate",
    "target": "target success rate",
    "state_change": "state-change (effectiveness) rate",
}
SIDE_COLORS = alt.Scale(domain=["charger", "vehicle"], range=["#d95f02", "#1b9e77"])


def _day_axis(title: str = "day (UTC)") -> alt.X:
    # One tick per day: the default ticks fall every 12 hours and repeat each date.
    axis = alt.Axis(format="%b %d", tickCount={"interval": "day", "step": 1}, labelAngle=0)
    return alt.X("date:T", title=title, scale=alt.Scale(type="utc"), axis=axis)


def _rate_axis(field: str, title: str) -> alt.Y:
    return alt.Y(
        f"{field}:Q", title=title, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
    )


def daily_rates(rows: list[Row]) -> alt.TopLevelMixin:
    """Three lines, one per rate; hollow points mark provisional days."""
    base = alt.Chart(alt.Data(values=rows)).encode(
        _day_axis(),
        _rate_axis("rate", "share of measurable commands"),
        alt.Color("measure:N", title="rate", sort=MEASURES),
        tooltip=["date:T", "measure:N", alt.Tooltip("rate:Q", format=".1%"), "is_provisional:N"],
    )
    points = base.mark_point(size=50, opacity=1).encode(
        fill=alt.condition(
            "datum.is_provisional",
            alt.value("white"),
            alt.Color("measure:N", sort=MEASURES, legend=None),
        ),
    )
    return (base.mark_line() + points).properties(width=WIDTH, height=260)


def daily_rates_by_make(rows: list[Row]) -> alt.TopLevelMixin:
    """One panel per rate, one line per make."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            _day_axis(),
            _rate_axis("rate", "rate"),
            alt.Color("make_name:N", title="make"),
            tooltip=[
                "date:T",
                "make_name:N",
                "measure:N",
                alt.Tooltip("rate:Q", format=".1%"),
                "is_provisional:N",
            ],
        )
        .properties(width=WIDTH // 3 - 40, height=220)
        .facet(column=alt.Column("measure:N", title=None, sort=MEASURES))
    )


def compliance_seconds_by_make(rows: list[Row]) -> alt.TopLevelMixin:
    """A box per make: whiskers p10-p90, box p25-p75, a tick at the median."""
    y = alt.Y("make_name:N", title="make")
    base = alt.Chart(alt.Data(values=rows)).encode(
        y,
        tooltip=[
            "make_name:N",
            "count_complied:Q",
            "p10_seconds:Q",
            "p25_seconds:Q",
            "median_seconds:Q",
            "p75_seconds:Q",
            "p90_seconds:Q",
        ],
    )
    whiskers = base.mark_rule().encode(
        alt.X("p10_seconds:Q", title="seconds from command to compliance"), x2="p90_seconds:Q"
    )
    box = base.mark_bar(size=14, color="#7fa7d0").encode(x="p25_seconds:Q", x2="p75_seconds:Q")
    median = base.mark_tick(color="black", size=14, thickness=2).encode(x="median_seconds:Q")
    return (whiskers + box + median).properties(width=WIDTH, height=alt.Step(26))


def failures_by_make_model(rows: list[Row]) -> alt.TopLevelMixin:
    """Horizontal bars per make and model, stacked by the side that failed."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            alt.X("count_failures:Q", title="failed commands", stack="zero"),
            alt.Y("make_model:N", title="make and model", sort="-x"),
            alt.Color("failure_side:N", title="failure side", scale=SIDE_COLORS),
            tooltip=["make_name:N", "model_name:N", "failure_side:N", "count_failures:Q"],
        )
        .properties(width=WIDTH, height=alt.Step(22))
    )


def fleet_reporting_share(rows: list[Row]) -> alt.TopLevelMixin:
    """The share of the fleet that reported, per day."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            _day_axis(),
            _rate_axis("share_reporting", "share of the fleet reporting"),
            tooltip=[
                "date:T",
                "count_fleet_evses:Q",
                "count_reporting_evses:Q",
                alt.Tooltip("share_reporting:Q", format=".1%"),
                "is_provisional:N",
            ],
        )
        .properties(width=WIDTH, height=220)
    )


def reporting_by_make_day(rows: list[Row]) -> alt.TopLevelMixin:
    """Make x day heatmap of the share reporting."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_rect()
        .encode(
            alt.X("date:O", title="day (UTC)", axis=alt.Axis(labelAngle=-45)),
            alt.Y("make_name:N", title="make"),
            alt.Color(
                "share_reporting:Q",
                title="share reporting",
                scale=alt.Scale(domain=[0, 1], scheme="blues"),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                "make_name:N",
                "date:O",
                "count_fleet_evses:Q",
                "count_reporting_evses:Q",
                alt.Tooltip("share_reporting:Q", format=".1%"),
            ],
        )
        .properties(width=WIDTH, height=alt.Step(24))
    )


@dataclass(frozen=True)
class Chart:
    """One chart of the report.

    Attributes:
        query: the named query whose rows it draws (`pipelines/report/sql/<query>.sql`).
        title: its heading in the report.
        caption: one or two sentences saying what it shows and how to read it.
        build: rows -> Altair chart.
    """

    query: str
    title: str
    caption: str
    build: Callable[[list[Row]], alt.TopLevelMixin]

    def spec(self, rows: list[Row]) -> dict[str, Any]:
        """The chart's Vega-Lite spec with the rows embedded."""
        return self.build(rows).to_dict()


CHARTS: tuple[Chart, ...] = (
    Chart(
        "daily_rates",
        "Daily rates, whole fleet",
        "Compliance, target success and state-change rates per UTC day, all device types. "
        "Hollow points are provisional days: their response windows or uploads are still open.",
        daily_rates,
    ),
    Chart(
        "daily_rates_by_make",
        "Daily rates by make",
        "The same three rates per charger make.",
        daily_rates_by_make,
    ),
    Chart(
        "compliance_seconds_by_make",
        "Time to compliance by make",
        "Seconds from a command to the charger obeying it, for complied commands: whiskers "
        "from the 10th to the 90th percentile, box from the 25th to the 75th, tick at the median.",
        compliance_seconds_by_make,
    ),
    Chart(
        "failures_by_make_model",
        "Failures by make and model",
        "Failed commands split by side: charger (did not comply) or vehicle (the charger "
        "complied but the target was not reached).",
        failures_by_make_model,
    ),
    Chart(
        "fleet_reporting_share",
        "Share of the fleet reporting",
        "EVSEs that sent at least one status sample that UTC day, over the EVSEs known by then.",
        fleet_reporting_share,
    ),
    Chart(
        "reporting_by_make_day",
        "Reporting health, make x day",
        "Share of each make's EVSEs that reported, per UTC day; silent days count as not "
        "reporting.",
        reporting_by_make_day,
    ),
)
