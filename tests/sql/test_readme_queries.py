"""The example queries of sql/README.md run on an export of the fixture and find what they claim."""

from __future__ import annotations

import os
import re

import duckdb
import pytest

from pipelines.export import export_models
from pipelines.models import SQL_DIR

QUERIES = re.findall(r"```sql\n(.*?)```", (SQL_DIR / "README.md").read_text(), re.DOTALL)


@pytest.fixture
def exports(built, tmp_path, monkeypatch):
    export_models(built, tmp_path / "exports")
    monkeypatch.chdir(tmp_path / "exports")  # the queries use paths relative to the export


def _run(query: str) -> list[tuple]:
    # "last week" / "last 30 days" of the fixture, whose days are 2024-06-01 and 2024-06-02
    query = query.replace("current_date", "date '2024-06-03'")
    with duckdb.connect() as reader:
        return reader.execute(query).fetchall()


def test_there_are_three_examples():
    assert len(QUERIES) == 3


def test_effectiveness_by_make_last_week(exports):
    rows = {r[0]: r[1:] for r in _run(QUERIES[0])}
    assert rows["Acme"] == (2, 0.0, 0.0, None)  # evse_f: ignored both commands
    assert rows["Ohme"][:3] == (5, 3 / 5, 1.0)  # evse_c and evse_d
    assert next(iter(rows)) == "Acme"  # the worst compliance first


def test_evses_whose_commands_never_take(exports):
    assert [r[0] for r in _run(QUERIES[1])] == ["evse_f"]
    assert os.getcwd().endswith("exports")


def test_late_arrival_by_integration(exports):
    rows = {r[0]: r[1:] for r in _run(QUERIES[2])}
    assert rows["Acme"][2] == 600.0  # evse_f uploads 10 minutes late
    assert rows["Wallbox"][4] == 7200.0  # one sample 2 hours late
    assert next(iter(rows)) == "Hypervolt"  # 3 hours late, the latest first
