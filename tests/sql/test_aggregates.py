"""The aggregate marts on the hand-built fixture, against numbers worked out by hand.

The per-attempt classification they sum is listed in test_dispatch_effectiveness.py; the sums,
rates and quantiles below were counted from that table (quantiles with linear interpolation:
the p90 of 300, 300, 600, 900 is 600 + 0.7 x 300 = 810).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.sql.conftest import N, at, rows_by_key

MEASURE_COLUMNS = (
    "count_attempts",
    "count_sent",
    "count_not_sent",
    "count_no_telemetry",
    "count_effective",
    "count_no_response",
    "effectiveness_rate",
    "median_response_seconds",
    "p90_response_seconds",
    "count_no_target",
    "count_compliance_unknown",
    "count_complied",
    "count_not_complied",
    "compliance_rate",
    "median_compliance_seconds",
    "count_target_no_telemetry",
    "count_target_held",
    "count_target_reached",
    "count_target_not_reached",
    "target_success_rate",
    "median_target_response_seconds",
    "count_charger_failures",
    "count_vehicle_failures",
)

D1, D2 = date(2024, 6, 1), date(2024, 6, 2)

# (date, device_type): the measures, in MEASURE_COLUMNS order
DAILY: dict[tuple[date, str], tuple[Any, ...]] = {
    # D01 D03 D04 D05 D06 D07 D08 D12 D13 D14 D15 D16
    (D1, "EVSE"): (
        12, 11, 1, 3, 4, 4, 4 / 8, 450.0, 810.0,
        6, 0, 5, 0, 5 / 5, 300.0,
        1, 1, 1, 2, 2 / 4, 300.0,
        0, 2,
    ),
    # D02: vehicle-only, nothing measurable, every rate null
    (D1, "VEHICLE"): (
        1, 1, 0, 1, 0, 0, N, N, N,
        1, 0, 0, 0, N, N,
        0, 0, 0, 0, N, N,
        0, 0,
    ),
    # D09 D10 D11 D17 D19 D20 D21
    (D2, "EVSE"): (
        7, 7, 0, 0, 4, 3, 4 / 7, 300.0, 510.0,
        3, 1, 1, 2, 1 / 3, 600.0,
        0, 0, 2, 2, 2 / 4, 450.0,
        2, 0,
    ),
    # D18
    (D2, "VEHICLE"): (
        1, 1, 0, 0, 1, 0, 1.0, 300.0, 300.0,
        1, 0, 0, 0, N, N,
        0, 0, 0, 0, N, N,
        0, 0,
    ),
}  # fmt: skip

# evse_id: cpid, make_name, model_name, first_attempt_at, last_attempt_at, then the measures
EVSES: dict[str, tuple[Any, ...]] = {
    # D01 D06 D07 D08 D09 D18; the earlier load's misspelt make is gone
    "evse_a": (
        "CP-A", "Zappi", "zappi v2", at("1 09:30"), at("2 13:00"),
        6, 5, 1, 0, 3, 2, 3 / 5, 300.0, 780.0,
        5, 0, 0, 0, N, N,
        0, 0, 0, 0, N, N,
        0, 0,
    ),
    # D03 D04 D05 D10 D11 D12
    "evse_b": (
        "CP-B", "Wallbox", "Pulsar", at("1 08:10"), at("2 10:00"),
        6, 6, 0, 3, 2, 1, 2 / 3, 600.0, 600.0,
        5, 0, 1, 0, 1.0, 300.0,
        1, 0, 0, 0, N, N,
        0, 0,
    ),
    # D13 D14 D16 D21
    "evse_c": (
        "CP-C", "Ohme", "Home Pro", at("1 18:00"), at("2 18:00"),
        4, 4, 0, 0, 2, 2, 0.5, 300.0, 300.0,
        0, 0, 4, 0, 1.0, 300.0,
        0, 1, 2, 1, 3 / 4, 450.0,
        0, 1,
    ),
    # D17
    "evse_d": (
        "CP-D", "Ohme", "ePod", at("2 20:00"), at("2 20:00"),
        1, 1, 0, 0, 1, 0, 1.0, 300.0, 300.0,
        0, 1, 0, 0, N, N,
        0, 0, 1, 0, 1.0, 300.0,
        0, 0,
    ),
    # D15
    "evse_e": (
        "CP-E", "EO", "Mini", at("1 21:30"), at("1 21:30"),
        1, 1, 0, 0, 1, 0, 1.0, 300.0, 300.0,
        0, 0, 1, 0, 1.0, 300.0,
        0, 0, 0, 1, 0.0, N,
        0, 1,
    ),
    # D19 D20: the charger that ignores commands
    "evse_f": (
        "CP-F", "Acme", "Volt 1", at("2 21:00"), at("2 22:00"),
        2, 2, 0, 0, 0, 2, 0.0, N, N,
        0, 0, 0, 2, 0.0, N,
        0, 0, 0, 2, 0.0, N,
        2, 0,
    ),
}  # fmt: skip

EVSE_COLUMNS = ("cpid", "make_name", "model_name", "first_attempt_at", "last_attempt_at")

# (evse_id, date): make_name, count_samples, max_gap_seconds,
#                  median_late_arrival_seconds, max_late_arrival_seconds, is_charging_null_share
HEALTH: dict[tuple[str, date], tuple[Any, ...]] = {
    # 10:15 to 10:55
    ("evse_a", D1): ("Zappi", 11, 2400.0, 30.0, 30.0, 0.0),
    # day 1 12:05 to day 2 11:55: a silence across midnight counts on the later day
    ("evse_a", D2): ("Zappi", 4, 85800.0, 30.0, 30.0, 0.0),
    # 08:12 to 08:55
    ("evse_b", D1): ("Wallbox", 7, 2580.0, 30.0, 30.0, 0.0),
    # day 1 11:10 to day 2 09:00; the 09:58 sample's latest load arrived 2 h late, with nulls
    ("evse_b", D2): ("Wallbox", 5, 78600.0, 30.0, 7200.0, 0.4),
    # 18:58 ... 19:05, 20:55
    ("evse_c", D1): ("Ohme", 7, 6600.0, 30.0, 30.0, 0.0),
    ("evse_c", D2): ("Ohme", 3, 74700.0, 30.0, 30.0, 0.0),
    ("evse_d", D2): ("Ohme", 2, 600.0, 30.0, 30.0, 0.0),
    ("evse_e", D1): ("EO", 2, 600.0, 30.0, 30.0, 0.0),
    # uploads 10 minutes late
    ("evse_f", D2): ("Acme", 5, 2700.0, 600.0, 600.0, 0.0),
    # a single sample: no gap; 3 hours late; is_charging unknown
    ("evse_g", D1): ("Hypervolt", 1, N, 10800.0, 10800.0, 1.0),
    # silent on the last loaded day (the fleet grid): present, zero samples
    ("evse_e", D2): ("EO", 0, N, N, N, N),
    ("evse_g", D2): ("Hypervolt", 0, N, N, N, N),
}

HEALTH_COLUMNS = (
    "make_name",
    "count_samples",
    "max_gap_seconds",
    "median_late_arrival_seconds",
    "max_late_arrival_seconds",
    "is_charging_null_share",
)


def _close(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual.keys() == expected.keys()
    for column, value in expected.items():
        if isinstance(value, float):
            assert actual[column] == pytest.approx(value), column
        else:
            assert actual[column] == value, column


def test_daily_dispatch_effectiveness(built_shared):
    rows = rows_by_key(
        built_shared, "select * from analytics.daily_dispatch_effectiveness", key_columns=2
    )
    assert set(rows) == set(DAILY)
    for key, values in DAILY.items():
        expected = dict(zip(MEASURE_COLUMNS, values, strict=True))
        _close({c: rows[key][c] for c in MEASURE_COLUMNS}, expected)


def test_evse_dispatch_effectiveness(built_shared):
    rows = rows_by_key(built_shared, "select * from analytics.evse_dispatch_effectiveness")
    # only EVSEs with an attempt; evse_g has none, and a vehicle-only attempt has no EVSE
    assert set(rows) == set(EVSES)
    for evse_id, values in EVSES.items():
        expected = dict(zip(EVSE_COLUMNS + MEASURE_COLUMNS, values, strict=True))
        _close({c: rows[evse_id][c] for c in expected}, expected)


def test_the_charger_that_ignores_commands_stands_out(built_shared):
    worst = built_shared.execute(
        "select evse_id from analytics.evse_dispatch_effectiveness "
        "where count_not_complied > 0 order by compliance_rate, evse_id"
    ).fetchall()
    assert worst == [("evse_f",)]


def test_evse_reporting_health(built_shared):
    rows = rows_by_key(built_shared, "select * from analytics.evse_reporting_health", key_columns=2)
    assert set(rows) == set(HEALTH)
    for key, values in HEALTH.items():
        expected = dict(zip(HEALTH_COLUMNS, values, strict=True))
        _close({c: rows[key][c] for c in HEALTH_COLUMNS}, expected)
    assert rows[("evse_b", D2)]["first_sampled_at"] == at("2 09:00")
    assert rows[("evse_b", D2)]["last_sampled_at"] == at("2 10:05")
    # the newest sample is 2 22:05: day 2's end plus the 6 h upload delay is still ahead
    assert {key: row["is_provisional"] for key, row in rows.items()} == {
        key: key[1] == D2 for key in HEALTH
    }


def test_daily_fleet_reporting(built_shared):
    rows = rows_by_key(built_shared, "select * from analytics.daily_fleet_reporting")
    # day 1: evse_a, b, c, e and g have appeared, all report; day 2: evse_d and f join,
    # evse_e and g are silent
    assert {d: (r["count_fleet_evses"], r["count_reporting_evses"]) for d, r in rows.items()} == {
        D1: (5, 5),
        D2: (7, 5),
    }
    assert rows[D2]["share_reporting"] == pytest.approx(5 / 7)
    assert (rows[D1]["is_provisional"], rows[D2]["is_provisional"]) == (False, True)
    daily = built_shared.execute(
        "select date, count_fleet_evses, count_reporting_evses, share_reporting, is_provisional "
        "from analytics.daily_dispatch_effectiveness order by all"
    ).fetchall()
    assert daily == [
        (D1, 5, 5, 1.0, False),
        (D1, 5, 5, 1.0, False),
        (D2, 7, 5, pytest.approx(5 / 7), True),
        (D2, 7, 5, pytest.approx(5 / 7), True),
    ]


# (date, device_type, make_name): count_attempts, count_complied, count_not_complied,
#   count_charger_failures, count_vehicle_failures; from the classification in
#   test_dispatch_effectiveness.py
BY_MAKE: dict[tuple[date, str, str], tuple[int, ...]] = {
    (D1, "EVSE", "Zappi"): (4, 0, 0, 0, 0),  # D01 D06 D07 D08
    (D1, "EVSE", "Wallbox"): (4, 1, 0, 0, 0),  # D03 D04 D05 D12
    (D1, "EVSE", "Ohme"): (3, 3, 0, 0, 1),  # D13 D14 D16
    (D1, "EVSE", "EO"): (1, 1, 0, 0, 1),  # D15
    (D1, "VEHICLE", "(unknown)"): (1, 0, 0, 0, 0),  # D02: no EVSE
    (D2, "EVSE", "Zappi"): (1, 0, 0, 0, 0),  # D09
    (D2, "EVSE", "Wallbox"): (2, 0, 0, 0, 0),  # D10 D11
    (D2, "EVSE", "Ohme"): (2, 1, 0, 0, 0),  # D17 (unknown) D21
    (D2, "EVSE", "Acme"): (2, 0, 2, 2, 0),  # D19 D20
    (D2, "VEHICLE", "Zappi"): (1, 0, 0, 0, 0),  # D18: a vehicle command on evse_a
}


def test_daily_dispatch_effectiveness_by_make(built_shared):
    rows = rows_by_key(
        built_shared, "select * from analytics.daily_dispatch_effectiveness_by_make", key_columns=3
    )
    columns = (
        "count_attempts",
        "count_complied",
        "count_not_complied",
        "count_charger_failures",
        "count_vehicle_failures",
    )
    assert {k: tuple(r[c] for c in columns) for k, r in rows.items()} == BY_MAKE
    # the same measures as the daily mart, summed over the makes
    totals = built_shared.execute(
        "select date, device_type, sum(count_attempts), sum(count_complied) "
        "from analytics.daily_dispatch_effectiveness_by_make group by all "
        "except select date, device_type, count_attempts, count_complied "
        "from analytics.daily_dispatch_effectiveness"
    ).fetchall()
    assert totals == []
