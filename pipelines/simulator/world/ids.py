"""Deterministic identifiers: ULID-like resource ids and UUIDs drawn from a seeded RNG."""

from __future__ import annotations

import random
import uuid

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(rng: random.Random, time_us: int) -> str:
    """Build a 26-character Crockford base32 ULID from a timestamp and 80 random bits.

    Like a real ULID, ids built from later timestamps sort after earlier ones.

    Args:
        rng: The random source (seeded, so ids are reproducible).
        time_us: The creation time in microseconds since the epoch.

    Returns:
        A 26-character uppercase Crockford base32 string.
    """
    value = ((time_us // 1000) << 80) | rng.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def resource_id(prefix: str, rng: random.Random, time_us: int) -> str:
    """Build an API resource id such as ``evse01HSH04KDEWF6Z4DB2J77J74K5``.

    Args:
        prefix: The four-letter type prefix (``evse``, ``csub``, ``vhcl`` ...).
        rng: The random source.
        time_us: The creation time in microseconds since the epoch.

    Returns:
        The prefix followed by a 26-character ULID.
    """
    return prefix + ulid(rng, time_us)


def uuid4(rng: random.Random) -> str:
    """Draw a version-4 UUID string from a seeded RNG.

    Args:
        rng: The random source.

    Returns:
        A canonical lowercase UUID string.
    """
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
