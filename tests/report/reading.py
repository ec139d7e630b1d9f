"""Reading a written report back: each chart's Vega-Lite spec and the rows it draws."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest


def embedded_json(page: str, element_id: str) -> Any:
    """The JSON inside `<script type="application/json" id=ELEMENT_ID>`."""
    match = re.search(
        rf'<script type="application/json" id="{re.escape(element_id)}">(.*?)</script>',
        page,
        re.DOTALL,
    )
    assert match, f"no {element_id} in the report"
    return json.loads(match.group(1))


def chart_rows(report: Path, chart: str) -> list[dict[str, Any]]:
    """The rows the named chart draws: its single dataset, however Altair placed it."""
    spec = embedded_json(report.read_text(), f"spec-{chart}")
    datasets: list[Any] = []
    _collect_data(spec, spec.get("datasets", {}), datasets)
    distinct = {json.dumps(rows, sort_keys=True) for rows in datasets}
    assert len(distinct) == 1, f"{chart} draws {len(distinct)} datasets"
    return datasets[0]


def _collect_data(node: Any, named: dict[str, Any], found: list[Any]) -> None:
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, dict):
            found.append(named[data["name"]] if "name" in data else data["values"])
        for key, value in node.items():
            if key not in ("data", "datasets"):
                _collect_data(value, named, found)
    elif isinstance(node, list):
        for item in node:
            _collect_data(item, named, found)


def assert_same_rows(actual: list[dict], expected: list[dict], keys: tuple[str, ...]) -> None:
    """Same rows (floats within 1e-9), compared in key order; the lists' order is not checked."""

    def order(rows: list[dict]) -> list[dict]:
        return sorted(rows, key=lambda row: tuple(str(row[k]) for k in keys))

    assert actual, "the chart has no rows: the fixture should give it some"
    assert len(actual) == len(expected), (len(actual), len(expected))
    for got, want in zip(order(actual), order(expected), strict=True):
        assert set(got) == set(want), (sorted(got), sorted(want))
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value, abs=1e-9), (column, got, want)
            else:
                assert got[column] == value, (column, got, want)
