"""Timestamps, ids from URLs, durations."""

from datetime import UTC, datetime, timedelta

import pytest

from pipelines.evenergy.parsing import (
    format_timestamp,
    http_date,
    id_from_url,
    parse_duration,
    parse_start,
    parse_timestamp,
    ref_id,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-17T09:39:45.984584Z", datetime(2024, 4, 17, 9, 39, 45, 984584, tzinfo=UTC)),
        ("2024-04-17T09:39:45Z", datetime(2024, 4, 17, 9, 39, 45, tzinfo=UTC)),
        ("2024-04-17T10:39:45+01:00", datetime(2024, 4, 17, 9, 39, 45, tzinfo=UTC)),
        ("2024-04-17T09:39:45", datetime(2024, 4, 17, 9, 39, 45, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_to_utc(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "bad", ["not-a-date", "", "2024-13-01T00:00:00Z", 1713346785, None, "2024-04-17"]
)
def test_bad_timestamps_raise(bad):
    with pytest.raises(ValueError):
        parse_timestamp(bad)


def test_format_round_trips():
    value = datetime(2026, 11, 1, 17, 5, 12, 123456, tzinfo=UTC)
    assert format_timestamp(value) == "2026-11-01T17:05:12.123456Z"
    assert parse_timestamp(format_timestamp(value)) == value


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.ev.energy/v2/evses/evse01HSH04KDEWF6Z4DB2J77J74K5",
            "evse01HSH04KDEWF6Z4DB2J77J74K5",
        ),
        (
            "https://api.ev.energy/v2/evses/evse01HSH04KDEWF6Z4DB2J77J74K5/",
            "evse01HSH04KDEWF6Z4DB2J77J74K5",
        ),
        (
            "https://api.ev.energy/v2/vehicles/vhcl01HRFF3SEVSCRAV9B3CHVDFN0H?expand=trim",
            "vhcl01HRFF3SEVSCRAV9B3CHVDFN0H",
        ),
    ],
)
def test_id_from_url(url, expected):
    assert id_from_url(url) == expected


def test_id_from_url_without_path_raises():
    with pytest.raises(ValueError):
        id_from_url("https://api.ev.energy/")


def test_ref_id_takes_expanded_objects_and_urls():
    assert ref_id({"id": "emod1", "url": "https://x/evse_models/emod1"}) == "emod1"
    assert ref_id("https://x/v2/evse_models/emod2") == "emod2"
    assert ref_id(17) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("6h", 21600), ("7d", 604800), ("30", 30), (45, 45)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["six hours", "6x", "-1h", ""])
def test_bad_durations_raise(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_initial_start_is_a_timestamp_or_a_duration_before_now():
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert parse_start("2026-11-01T00:00:00Z", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_start("7d", now) == datetime(2026, 11, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "moment"),
    [
        ("Sun, 06 Dec 2026 21:00:05 GMT", datetime(2026, 12, 6, 21, 0, 5, tzinfo=UTC)),
        ("Sun, 06 Dec 2026 22:00:05 +0100", datetime(2026, 12, 6, 21, 0, 5, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_http_date_is_the_apis_clock_or_none(header, moment):
    assert http_date(header) == moment
