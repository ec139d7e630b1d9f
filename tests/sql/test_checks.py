"""The dbt data tests (YAML and sql/tests/): silent on good data, loud on each kind of breakage.

The breakages run each test's SQL as dbt compiled it for the fixture build (the manifest's
``compiled_code``, exactly what ``dbt build`` runs) on a broken copy of the built warehouse, so
one dbt build serves every case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.models import SQL_DIR
from pipelines.transform import work_dir

DISPATCH_KEY = "charging_sub_session_id__internal_command_id__logged_at"


@pytest.fixture(scope="module")
def manifest(built_path: Path) -> dict[str, Any]:
    """dbt's manifest of the fixture build (target/ beside the warehouse)."""
    path = work_dir(built_path) / "target" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compiled_tests(manifest: dict[str, Any]) -> dict[str, str]:
    """Every data test's name and its compiled SELECT of offending rows."""
    tests = {
        node["name"]: node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
    }
    assert all(tests.values()), "the build compiled every test"
    return tests


def _models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def _failing(conn: duckdb.DuckDBPyConnection, tests: dict[str, str]) -> dict[str, int]:
    failing = {}
    for name, sql in tests.items():
        rows = conn.execute(f"select count(*) from (\n{sql}\n) as offending").fetchall()[0][0]
        if rows:
            failing[name] = rows
    return failing


def test_every_test_passes_on_the_fixture(built_shared, compiled_tests):
    assert len(compiled_tests) >= 60
    assert _failing(built_shared, compiled_tests) == {}


def _key(model: dict[str, Any]) -> list[str]:
    """The key a model file states in its header (``-- key: (a, b)`` or ``-- key: a``)."""
    raw = (SQL_DIR / model["original_file_path"]).read_text(encoding="utf-8")
    match = re.search(r"^-- key: \(?([a-z_, ]+?)\)?$", raw, re.MULTILINE)
    assert match, f"{model['name']} states no key"
    return [c.strip() for c in match.group(1).split(",")]


def test_every_key_is_tested_unique_and_not_null(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    for name, model in _models(manifest).items():
        if name == "model_parameters":  # one row, no key: model_parameters__one_row
            assert any(t["name"] == "model_parameters__one_row" for t in tests)
            continue
        key = _key(model)
        on_model = [t for t in tests if t.get("attached_node") == model["unique_id"]]
        kinds = {
            (t["test_metadata"]["name"], t.get("column_name"))
            for t in on_model
            if t.get("test_metadata")
        }
        assert {("not_null", column) for column in key} <= kinds, name
        if len(key) == 1:
            assert ("unique", key[0]) in kinds, name
        else:
            unique = [
                t["test_metadata"]["kwargs"]["columns"]
                for t in on_model
                if t.get("test_metadata", {}).get("name") == "unique_key"
            ]
            assert unique == [key], name


def test_every_column_is_described(manifest, built_shared):
    for name, model in _models(manifest).items():
        columns = [
            r[0]
            for r in built_shared.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [model["schema"], name],
            ).fetchall()
        ]
        assert columns, name
        described = {c: d["description"] for c, d in model["columns"].items()}
        assert list(described) == columns, name
        assert all(described.values()), name
        assert model["description"], name


def test_every_model_file_states_its_grain():
    for path in (SQL_DIR / "models").rglob("*.sql"):
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header.startswith(f"-- {path.stem}: one row"), path


# a deliberate breakage of the built tables, and exactly the tests it must trip
BREAKAGES = [
    (
        "insert into analytics.dispatch_effectiveness "
        "select * from analytics.dispatch_effectiveness where internal_command_id = 'cmd-06'",
        {
            f"unique_key_dispatch_effectiveness_{DISPATCH_KEY}": 1,
            "dispatch_effectiveness__one_row_per_dispatcher_log": 1,
            # the daily marts were built before the duplicate
            "daily_dispatch_effectiveness__total_matches_attempts": 1,
            "daily_dispatch_effectiveness_by_make__total_matches_attempts": 1,
        },
    ),
    (
        "update analytics.dispatch_effectiveness set outcome = 'maybe' "
        "where internal_command_id = 'cmd-07'",
        {
            "accepted_values_dispatch_effectiveness_outcome__not_sent__no_telemetry__effective__no_response": 1
        },
    ),
    (
        "update analytics.dispatch_effectiveness set compliance = null "
        "where internal_command_id = 'cmd-07'",
        {"not_null_dispatch_effectiveness_compliance": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set target_outcome = 'close' "
        "where internal_command_id = 'cmd-13'",
        {
            "accepted_values_dispatch_effectiveness_target_outcome__not_sent__no_target__no_telemetry__held__reached__not_reached": 1
        },
    ),
    (
        "update analytics.dispatch_effectiveness set failure_side = 'grid' "
        "where internal_command_id = 'cmd-19'",
        {
            "accepted_values_dispatch_effectiveness_failure_side__charger__vehicle": 1,
            "dispatch_effectiveness__failure_side_follows_compliance": 1,
        },
    ),
    (
        "update analytics.dispatch_effectiveness set failure_side = null "
        "where internal_command_id = 'cmd-16'",
        {"dispatch_effectiveness__failure_side_follows_compliance": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set response_seconds = 901 "
        "where internal_command_id = 'cmd-06'",
        {"dispatch_effectiveness__seconds_within_window": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set compliance_seconds = null "
        "where internal_command_id = 'cmd-21'",
        {"dispatch_effectiveness__seconds_within_window": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set outcome = 'effective', "
        "response_seconds = 60 where internal_command_id = 'cmd-02'",
        {"dispatch_effectiveness__telemetry_needs_evse": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set logged_at = null "
        "where internal_command_id = 'cmd-02'",
        {"not_null_dispatch_effectiveness_logged_at": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set evse_id = 'evse_nobody' "
        "where internal_command_id = 'cmd-19'",
        {"relationships_dispatch_effectiveness_evse_id__evse_id__ref_stg_evses_": 1},
    ),
    (
        "update analytics.daily_dispatch_effectiveness set count_effective = count_effective + 1 "
        "where device_type = 'VEHICLE'",
        {"daily_dispatch_effectiveness__counts_add_up": 2},
    ),
    (
        "update analytics.daily_dispatch_effectiveness set count_attempts = count_attempts + 1, "
        "count_no_telemetry = count_no_telemetry + 1, count_no_target = count_no_target + 1, "
        "count_sent = count_sent + 1 where device_type = 'VEHICLE' and date = '2024-06-01'",
        {"daily_dispatch_effectiveness__total_matches_attempts": 1},
    ),
    (
        "insert into analytics.daily_dispatch_effectiveness "
        "select * from analytics.daily_dispatch_effectiveness where device_type = 'VEHICLE'",
        {
            "unique_key_daily_dispatch_effectiveness_date__device_type": 2,
            "daily_dispatch_effectiveness__total_matches_attempts": 1,
        },
    ),
    (
        "update analytics.daily_dispatch_effectiveness_by_make set count_complied = 9 "
        "where make_name = 'Acme'",
        {"daily_dispatch_effectiveness_by_make__counts_add_up": 1},
    ),
    (
        "update analytics.evse_dispatch_effectiveness set compliance_rate = 1.5 "
        "where evse_id = 'evse_f'",
        {"evse_dispatch_effectiveness__counts_add_up": 1},
    ),
    (
        "update analytics.evse_dispatch_effectiveness set evse_id = 'evse_a' "
        "where evse_id = 'evse_b'",
        {"unique_evse_dispatch_effectiveness_evse_id": 1},
    ),
    (
        "update analytics.evse_reporting_health set is_charging_null_share = -0.1 "
        "where evse_id = 'evse_g' and count_samples > 0",
        {"evse_reporting_health__values_in_range": 1},
    ),
    (
        "update analytics.evse_reporting_health set date = null "
        "where evse_id = 'evse_g' and count_samples > 0",
        {
            "not_null_evse_reporting_health_date": 1,
            "evse_reporting_health__complete_grid": 1,
        },
    ),
    (
        # a silent day missing from the grid
        "delete from analytics.evse_reporting_health where evse_id = 'evse_e' and count_samples = 0",
        {"evse_reporting_health__complete_grid": 1},
    ),
    (
        "insert into analytics.evse_reporting_health "
        "select * from analytics.evse_reporting_health where evse_id = 'evse_g'",
        {
            "unique_key_evse_reporting_health_evse_id__date": 2,
            "evse_reporting_health__complete_grid": 1,
        },
    ),
    (
        "update analytics.daily_fleet_reporting set count_reporting_evses = 6 "
        "where date = '2024-06-02'",
        {"daily_fleet_reporting__counts_in_range": 1},
    ),
    (
        "insert into analytics.model_parameters select * from analytics.model_parameters",
        {"model_parameters__one_row": 1},
    ),
    (
        "insert into analytics.table_freshness select * from analytics.table_freshness "
        "where table_name = 'evses'",
        {"unique_table_freshness_table_name": 1},
    ),
]


@pytest.mark.parametrize(("breakage", "expected"), BREAKAGES)
def test_a_broken_mart_trips_its_test(built, compiled_tests, breakage, expected):
    assert expected.keys() <= compiled_tests.keys()
    built.execute(breakage)
    assert _failing(built, compiled_tests) == expected
