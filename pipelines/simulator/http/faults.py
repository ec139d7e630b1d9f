"""Fault injection switches, settable from Python or ``POST /_sim/faults``.

All faults are off by default. Probabilities apply per API request (never to the token
endpoint nor to ``/_sim``); decisions come from an RNG seeded with ``fault_seed`` (re-seeded
by :meth:`Faults.configure` and :meth:`Faults.clear`), so a sequential client sees the same
faults on every run. After ``max_faults`` injected faults the API answers cleanly again.
"""

from __future__ import annotations

import random
import threading
from typing import Any

MALFORMED_KINDS = frozenset({"not_json", "not_list", "missing_key", "bad_timestamp"})
_FLOATS = (
    "error_5xx_rate",
    "malformed_rate",
    "slow_rate",
    "slow_seconds",
    "drop_rate",
    "link_loop_rate",
)
_OPTIONAL = {
    "token_lifetime_seconds": float,
    "token_expires_in_seconds": float,
    "rate_limit": int,
    "rate_window_seconds": float,
    "max_faults": int,
}


class Faults:
    """The fault switches and the deterministic decisions drawn from them.

    Attributes:
        error_5xx_rate: Answer 500/502/503 with a problem body.
        malformed_rate: Answer a malformed 200 list page (one of ``malformed_kinds``).
        malformed_kinds: Subset of ``not_json`` (truncated body), ``not_list`` (an object
            instead of the array), ``missing_key`` (one row lacks its key field),
            ``bad_timestamp`` (one row's timestamp is ``"not-a-date"``).
        slow_rate: Delay the answer by ``slow_seconds``.
        slow_seconds: The delay.
        drop_rate: Close the connection without any answer (does not use rate budget).
        link_loop_rate: Make a list page's ``next`` link point to the same page.
        token_lifetime_seconds: Override of the token lifetime (None: the config's).
        token_expires_in_seconds: The lifetime the token endpoint announces in
            ``expires_in`` (None: the real one). Longer than the real one, the API rejects
            tokens with 401 while the client still holds them valid.
        rate_limit: Override of the rate limit (None: the config's).
        rate_window_seconds: Override of the rate-limit window (None: the config's).
        max_faults: Stop injecting after this many faults (None: never stop).
        fault_seed: Seed of the decision RNG.
        injected: Faults injected so far, by kind.
    """

    def __init__(self) -> None:
        """Create switches with every fault off."""
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Turn every fault off, drop overrides, reset the counters and the RNG."""
        with self._lock:
            self.error_5xx_rate = self.malformed_rate = self.slow_rate = 0.0
            self.drop_rate = self.link_loop_rate = 0.0
            self.slow_seconds = 1.0
            self.malformed_kinds: frozenset[str] = MALFORMED_KINDS
            self.token_lifetime_seconds: float | None = None
            self.token_expires_in_seconds: float | None = None
            self.rate_limit: int | None = None
            self.rate_window_seconds: float | None = None
            self.max_faults: int | None = None
            self.fault_seed = 0
            self.injected: dict[str, int] = {}
            self._rng = random.Random(0)

    def configure(self, **settings: Any) -> None:
        """Set several switches at once (unknown names or bad values raise).

        Args:
            **settings: Attribute names and values; ``malformed_kinds`` takes any iterable.

        Raises:
            ValueError: For an unknown switch or an invalid value.
        """
        with self._lock:
            for name, value in settings.items():
                self._set(name, value)
            self._rng = random.Random(self.fault_seed)

    def _set(self, name: str, value: Any) -> None:
        """Validate and set one switch."""
        if name in _FLOATS:
            number = float(value)
            if number < 0 or (name.endswith("_rate") and number > 1):
                raise ValueError(f"{name} must be a probability")
            setattr(self, name, number)
        elif name in _OPTIONAL:
            setattr(self, name, None if value is None else _OPTIONAL[name](value))
        elif name == "malformed_kinds":
            kinds = frozenset(value)
            if not kinds or not kinds <= MALFORMED_KINDS:
                raise ValueError(f"malformed_kinds must be a non-empty subset of {MALFORMED_KINDS}")
            self.malformed_kinds = kinds
        elif name == "fault_seed":
            self.fault_seed = int(value)
        else:
            raise ValueError(f"unknown fault switch {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """The switches and counters, JSON-ready."""
        out: dict[str, Any] = {name: getattr(self, name) for name in (*_FLOATS, *_OPTIONAL)}
        out["malformed_kinds"] = sorted(self.malformed_kinds)
        out["fault_seed"] = self.fault_seed
        out["injected"] = dict(self.injected)
        return out

    @property
    def total_injected(self) -> int:
        """How many faults have been injected since the last clear."""
        return sum(self.injected.values())

    def _draw(self, rate: float, kind: str) -> bool:
        """Draw one decision and count it (caller holds the lock)."""
        if rate <= 0 or (self.max_faults is not None and self.total_injected >= self.max_faults):
            return False
        if self._rng.random() >= rate:
            return False
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return True

    def drop(self) -> bool:
        """Whether to close this request's connection without an answer."""
        with self._lock:
            return self._draw(self.drop_rate, "drop")

    def server_error(self) -> int | None:
        """A 5xx status to answer with, or None."""
        with self._lock:
            if self._draw(self.error_5xx_rate, "error_5xx"):
                return self._rng.choice((500, 502, 503))
            return None

    def delay(self) -> float:
        """Seconds to wait before answering (0 for no delay)."""
        with self._lock:
            return self.slow_seconds if self._draw(self.slow_rate, "slow") else 0.0

    def malformation(self, applicable: frozenset[str]) -> str | None:
        """Which malformation to apply to a list page, or None.

        Args:
            applicable: The kinds that make sense for this page.

        Returns:
            A kind among ``malformed_kinds & applicable``, or None.
        """
        with self._lock:
            kinds = sorted(self.malformed_kinds & applicable)
            if kinds and self._draw(self.malformed_rate, "malformed"):
                return self._rng.choice(kinds)
            return None

    def link_loop(self) -> bool:
        """Whether this page's next link should point back to the same page."""
        with self._lock:
            return self._draw(self.link_loop_rate, "link_loop")
