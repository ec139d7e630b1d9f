"""Parsing of single API values: timestamps and ids inside resource URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from pendulum.parsing import parse_iso8601


def parse_timestamp(value: Any) -> datetime:
    """Parse an ISO 8601 timestamp from the API into an aware UTC datetime.

    pendulum's strict ISO 8601 parser; a timestamp without an offset is taken as UTC,
    which is what the API means by one.

    Raises:
        ValueError: the value is not an ISO 8601 timestamp string.
    """
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp string: {value!r}")
    parsed = parse_iso8601(value)
    if not isinstance(parsed, datetime):  # a bare date or a duration is not a timestamp
        raise ValueError(f"not a timestamp: {value!r}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_optional_timestamp(value: str | None) -> datetime | None:
    """A timestamp kept in state, where None (or empty) means "none yet"."""
    return parse_timestamp(value) if value else None


def format_timestamp(value: datetime) -> str:
    """Render a datetime the way the API writes them: UTC, microseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def http_date(value: str | None) -> datetime | None:
    """An HTTP `Date` header (RFC 9110, `Sun, 06 Dec 2026 21:00:00 GMT`) as an aware UTC
    datetime; None when absent or unreadable (the API's clock is then unknown)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def id_from_url(url: str) -> str:
    """The id of a resource from its absolute URL: the last non-empty path segment.

    >>> id_from_url("https://api.ev.energy/v2/evses/evse01HSH04KDEWF6Z4DB2J77J74K5/")
    'evse01HSH04KDEWF6Z4DB2J77J74K5'
    """
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments:
        raise ValueError(f"no id in URL {url!r}")
    return segments[-1]


def ref_id(value: Any) -> str | None:
    """The id of a related resource, given as a URL or inlined by `expand=`."""
    if isinstance(value, dict):
        return value.get("id")
    if isinstance(value, str):
        return id_from_url(value)
    return None


def ref_url(value: Any) -> str | None:
    """The URL of a related resource, given as a URL or inlined by `expand=`."""
    if isinstance(value, dict):
        return value.get("url")
    return value if isinstance(value, str) else None


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | float | int) -> timedelta:
    """A duration from config: seconds as a number, or `90s`, `15m`, `6h`, `7d`.

    Raises:
        ValueError: anything else, or a negative duration.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        number, unit = text[:-1], text[-1:]
        if unit.isdigit():
            number, unit = text, "s"
        try:
            seconds = float(number) * _UNITS[unit]
        except (KeyError, ValueError):
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 6h, 7d)") from None
    if seconds < 0:
        raise ValueError(f"negative duration: {value!r}")
    return timedelta(seconds=seconds)


def parse_start(value: str, now: datetime) -> datetime:
    """`initial_start` from config: an ISO 8601 timestamp, or a duration before `now`."""
    try:
        return parse_timestamp(value)
    except ValueError:
        return now - parse_duration(value)
