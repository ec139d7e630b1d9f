"""Simulated time as integer microseconds since the Unix epoch, and its ISO 8601 rendering.

Every timestamp inside the simulator is an ``int`` of microseconds (UTC): cheap to store in
``array('q')`` columns, to compare and to bisect. Only the rows of the page being served are
rendered to strings, always as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

_EPOCH = datetime(1970, 1, 1)  # naive on purpose: naive isoformat() is the fast path
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Convert a datetime to microseconds since the epoch (naive datetimes are taken as UTC).

    Args:
        moment: The datetime to convert.

    Returns:
        Microseconds since 1970-01-01T00:00:00Z.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH_UTC
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(us: int) -> datetime:
    """Convert microseconds since the epoch to an aware UTC datetime.

    Args:
        us: Microseconds since the epoch.

    Returns:
        The matching timezone-aware datetime in UTC.
    """
    return _EPOCH_UTC + timedelta(microseconds=us)


def iso(us: int) -> str:
    """Render microseconds since the epoch as the API does: ISO 8601, UTC, ``Z``, microseconds.

    Args:
        us: Microseconds since the epoch.

    Returns:
        A string such as ``2026-11-01T17:05:12.123456Z``.
    """
    return (_EPOCH + timedelta(microseconds=us)).isoformat(timespec="microseconds") + "Z"


def iso_or_none(us: int | None) -> str | None:
    """Render like :func:`iso`, passing ``None`` through.

    Args:
        us: Microseconds since the epoch, or None.

    Returns:
        The ISO string, or None.
    """
    return None if us is None else iso(us)


def parse_timestamp(text: str) -> int:
    """Parse an ISO 8601 timestamp (``Z`` or offset, with or without fractions) to microseconds.

    A timestamp without an offset is taken as UTC.

    Args:
        text: The timestamp text, e.g. ``2026-11-01T17:05:12Z`` or ``2026-11-01T18:05:12+01:00``.

    Returns:
        Microseconds since the epoch.

    Raises:
        ValueError: If the text is not an ISO 8601 date-time.
    """
    text = text.strip()
    if text[-6:-5] == " ":  # an unencoded "+" in a query string decodes to a space
        text = text[:-6] + "+" + text[-5:]
    if len(text) < 10 or text[4:5] != "-":
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    return to_us(datetime.fromisoformat(text))
