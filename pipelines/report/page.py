"""The report's HTML: one self-contained page (the Vega JavaScript inlined, no network).

The page holds each chart's Vega-Lite spec in a `<script type="application/json">` block and
one script that hands every spec to vega-embed (SVG renderer). The JavaScript is the bundle
vl-convert-python ships (Vega, Vega-Lite, vega-embed for the Vega-Lite version Altair
writes), so the file opens offline. Text is escaped; JSON is escaped against `</script>`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import vl_convert
from altair.utils._importers import vl_version_for_vl_convert

from pipelines.report.charts import CHARTS, Chart
from pipelines.report.queries import QueryResult, Row

NO_DATA = "No data yet"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px;
       color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 32px; }
.caption, .meta { color: #555; } .empty { color: #a33; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: left;
         white-space: nowrap; }
#table-top_failing_evses { font-size: 13px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.header-grid { display: flex; gap: 32px; flex-wrap: wrap; }
"""

# vega-embed draws each spec; `data-rendered` lets a reader (and the browser test) see it did.
_EMBED = """
for (const el of document.querySelectorAll(".vega-chart")) {
  const spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
  vegaEmbed(el, spec, {renderer: "svg", actions: false})
    .then(() => { el.dataset.rendered = "1"; })
    .catch((error) => { console.error("chart " + el.id + ": " + error); });
}
"""

TOP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("evse_id", "EVSE"),
    ("cpid", "CPID"),
    ("make_name", "make"),
    ("model_name", "model"),
    ("count_attempts", "attempts"),
    ("count_charger_failures", "charger failures"),
    ("count_vehicle_failures", "vehicle failures"),
    ("failure_side", "fails mostly"),
    ("compliance_rate", "compliance"),
    ("target_success_rate", "target success"),
    ("effectiveness_rate", "state change"),
)


@cache
def javascript_bundle() -> str:
    """Vega + Vega-Lite + vega-embed and the page's embedding code, as one script.

    The bundle is for the Vega-Lite version Altair writes; `_EMBED` runs inside it (it sees
    `vegaEmbed` as the bundle's own binding, nothing is put on `window`).
    """
    bundle = vl_convert.javascript_bundle(_EMBED, vl_version=vl_version_for_vl_convert())
    return str(bundle).replace("</script", "<\\/script")  # would end the inline <script>


def render(results: Mapping[str, QueryResult], *, title: str, generated_at: str) -> str:
    """The whole page.

    Args:
        results: every query's result, by query name (charts, table and header queries).
        title: the page's heading (names the warehouse).
        generated_at: when the report was written, shown under the heading.

    Returns:
        The HTML document.
    """
    has_data = any(results[chart.query].rows for chart in CHARTS)
    parts = [
        f"<h1>{_text(title)}</h1>",
        f'<p class="meta">written {_text(generated_at)}; every figure is read from the '
        "analytics models, days are UTC days.</p>",
    ]
    if not has_data:
        parts.append(f'<p class="empty" id="no-data">{NO_DATA}: {_missing_note(results)}</p>')
    parts.append(_header(results))
    for chart in CHARTS[:4]:
        parts.append(_chart_section(chart, results))
    parts.append(_top_failing(results["top_failing_evses"].rows))
    for chart in CHARTS[4:]:
        parts.append(_chart_section(chart, results))
    body = "\n".join(parts)
    script = f"<script>{javascript_bundle()}</script>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n{script}\n</body>\n</html>\n"
    )


def _missing_note(results: Mapping[str, QueryResult]) -> str:
    missing = sorted({model for result in results.values() for model in result.missing_models})
    if missing:
        names = ", ".join(f"analytics.{model}" for model in missing)
        return f"the warehouse has no {names}; run `evenergy-etl models` (or `run`) first."
    return "the analytics models are empty; load some data with `evenergy-etl run`."


def _chart_section(chart: Chart, results: Mapping[str, QueryResult]) -> str:
    name, rows = chart.query, results[chart.query].rows
    head = f'<section id="section-{name}">\n<h2>{_text(chart.title)}</h2>\n'
    head += f'<p class="caption">{_text(chart.caption)}</p>\n'
    if not rows:
        return head + f'<p class="empty">{NO_DATA}.</p>\n</section>'
    spec = _script_json(chart.spec(rows))
    return (
        head + f'<div class="vega-chart" id="chart-{name}" data-spec="spec-{name}"></div>\n'
        f'<script type="application/json" id="spec-{name}">{spec}</script>\n</section>'
    )


def _header(results: Mapping[str, QueryResult]) -> str:
    fleet = results["fleet_size"].rows
    fleet_line = (
        f"{fleet[0]['count_fleet_evses']:,} EVSEs on {fleet[0]['date']} "
        f"({fleet[0]['count_reporting_evses']:,} reported that day)"
        if fleet
        else NO_DATA
    )
    runs = results["last_run"].rows
    run_line = (
        f"{_when(runs[0]['started_at'])}: <b>{_text(runs[0]['outcome'] or 'running')}</b> "
        f"(exit {_text(runs[0]['exit_code'])}, {_number(runs[0]['duration_seconds'])} s"
        + (f", {_text(runs[0]['stop_reason'])}" if runs[0]["stop_reason"] else "")
        + ")"
        if runs
        else "no run recorded yet"
    )
    fresh = results["table_freshness"].rows
    table = _table(
        fresh,
        (
            ("table_name", "table"),
            ("count_rows", "rows"),
            ("newest_at", "data through"),
            ("freshness_column", "by column"),
            ("last_loaded_at", "last loaded"),
        ),
        table_id="table-freshness",
    )
    return (
        '<section id="section-header"><div class="header-grid">\n'
        f'<div><h2>Fleet</h2><p id="fleet-size">{fleet_line}</p>\n'
        f'<h2>Last run</h2><p id="last-run">{run_line}</p></div>\n'
        f"<div><h2>Data through</h2>{table}</div>\n</div></section>"
    )


def _top_failing(rows: list[Row]) -> str:
    head = (
        '<section id="section-top_failing_evses">\n<h2>EVSEs that fail most</h2>\n'
        '<p class="caption">The 20 EVSEs with the most failed commands, either side; rates '
        "over all their commands.</p>\n"
    )
    if not rows:
        return head + f'<p class="empty">{NO_DATA}.</p>\n</section>'
    data = _script_json(rows)
    return (
        head + _table(rows, TOP_COLUMNS, table_id="table-top_failing_evses") + "\n"
        f'<script type="application/json" id="data-top_failing_evses">{data}</script>\n'
        "</section>"
    )


def _table(rows: list[Row], columns: Iterable[tuple[str, str]], *, table_id: str) -> str:
    columns = tuple(columns)
    if not rows:
        return f'<p class="empty" id="{table_id}">{NO_DATA}.</p>'
    head = "".join(f"<th>{_text(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>" + "".join(_cell(key, row.get(key)) for key, _ in columns) + "</tr>\n" for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody></table>'


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "<td>-</td>"
    if key.endswith("_rate"):
        return f'<td class="num">{value:.1%}</td>'
    if key.endswith("_at"):
        return f"<td>{_when(value)}</td>"
    if isinstance(value, int | float):
        return f'<td class="num">{_number(value)}</td>'
    return f"<td>{_text(value)}</td>"


def _when(value: Any) -> str:
    """`2026-01-07T23:59:00Z` -> `2026-01-07 23:59 UTC`."""
    if not isinstance(value, str) or "T" not in value:
        return _text(value)
    return _text(value[:16].replace("T", " ") + " UTC")


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return _text(value)


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _script_json(value: Any) -> str:
    """JSON safe inside `<script>`: `<` escaped so no string can close the element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")
