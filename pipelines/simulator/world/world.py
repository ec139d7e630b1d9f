"""The simulated world: the fleet, each charger's lazily generated history, and the ground
truth that tests compare the API with.

Ground-truth methods scan everything with plain filters (no bisect, no cursors), so they are
an independent statement of what the API should return at a given simulated ``now``.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from pipelines.simulator.config import SimulatorConfig
from pipelines.simulator.world import render
from pipelines.simulator.world.fleet import EvseSpec, build_fleet
from pipelines.simulator.world.history import generate_history
from pipelines.simulator.world.records import DispatchRecord, History, SubSessionRecord
from pipelines.simulator.world.render_session import sub_session as render_sub_session
from pipelines.simulator.world.times import US_PER_SECOND, to_us

logger = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://api.ev.energy/v2"


class World:
    """A deterministic fleet of chargers and everything that happened to them."""

    def __init__(self, config: SimulatorConfig, base_url: str = DEFAULT_BASE_URL) -> None:
        """Draw the fleet (cheap); histories are generated on first access.

        Args:
            config: The simulator configuration (seed, fleet size, period).
            base_url: API base URL used in rendered resources.
        """
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.start_us = to_us(config.start)
        self.horizon_us = to_us(config.horizon)
        self.interval_us = config.sample_interval_seconds * US_PER_SECOND
        self.specs = build_fleet(
            config.seed, config.n_evses, self.start_us, self.horizon_us, config.offline_evses
        )
        self.specs_by_id = {s.id: s for s in self.specs}
        self.sorted_specs = sorted(self.specs, key=lambda s: s.id)
        self.sorted_ids = [s.id for s in self.sorted_specs]
        self._histories: dict[int, History] = {}
        self._lock = threading.Lock()
        self._sessions: list[SubSessionRecord] | None = None
        self._sessions_by_id: dict[str, tuple[int, SubSessionRecord]] = {}
        self._neg_starts: list[int] = []

    def history(self, spec: EvseSpec) -> History:
        """The charger's history, generated on first access (thread-safe).

        Args:
            spec: The charger.

        Returns:
            Its history.
        """
        found = self._histories.get(spec.index)
        if found is not None:
            return found
        with self._lock:
            found = self._histories.get(spec.index)
            if found is None:
                found = generate_history(spec, self.config.seed, self.horizon_us, self.interval_us)
                self._histories[spec.index] = found
        return found

    def generate_all(self) -> float:
        """Generate every history now (idempotent).

        Returns:
            Seconds it took.
        """
        began = time.perf_counter()
        for spec in self.specs:
            self.history(spec)
        self.sessions()
        elapsed = time.perf_counter() - began
        logger.debug("world of %d chargers generated in %.2f s", len(self.specs), elapsed)
        return elapsed

    def sessions(self) -> list[SubSessionRecord]:
        """Every sub-session of the world, newest first by ``(start, id)``.

        Returns:
            The sorted sub-sessions (built once, after every history).
        """
        if self._sessions is None:
            everything = [s for spec in self.specs for s in self.history(spec).sub_sessions]
            everything.sort(key=lambda s: (s.start_us, s.id), reverse=True)
            with self._lock:
                self._sessions_by_id = {s.id: (i, s) for i, s in enumerate(everything)}
                self._neg_starts = [-s.start_us for s in everything]
                self._sessions = everything
        return self._sessions

    def session_neg_starts(self) -> list[int]:
        """Negated starts of :meth:`sessions` (ascending, for bisecting by start).

        Returns:
            ``[-start_us, ...]`` in the order of :meth:`sessions`.
        """
        self.sessions()
        return self._neg_starts

    def session_by_id(self, sub_session_id: str) -> tuple[int, SubSessionRecord] | None:
        """Look up a sub-session and its position in :meth:`sessions`.

        Args:
            sub_session_id: The ``csub...`` id.

        Returns:
            ``(position, record)`` or None.
        """
        self.sessions()
        return self._sessions_by_id.get(sub_session_id)

    def visible_spec(self, evse_id: str, now_us: int) -> EvseSpec | None:
        """The charger with this id if it has joined by now.

        Args:
            evse_id: The ``evse...`` id.
            now_us: The simulated clock.

        Returns:
            The charger, or None (unknown or not joined yet).
        """
        spec = self.specs_by_id.get(evse_id)
        return spec if spec is not None and spec.joined_us <= now_us else None

    def evse_url(self, spec: EvseSpec) -> str:
        """The charger's absolute URL."""
        return f"{self.base_url}/evses/{spec.id}"

    def latest_status_index(self, spec: EvseSpec, now_us: int) -> int | None:
        """Index of the newest (by ``sampled_at``) status log visible at now.

        Args:
            spec: The charger.
            now_us: The simulated clock.

        Returns:
            The row index, or None.
        """
        tb = self.history(spec).status
        i = tb.find_last_at_or_before(now_us)
        while i >= 0 and tb.logged[i] > now_us:
            i -= 1
        return i if i >= 0 else None

    def render_evse(self, spec: EvseSpec, now_us: int, expand: frozenset[str]) -> dict[str, Any]:
        """Render a charger as the API shows it at now.

        Args:
            spec: The charger.
            now_us: The simulated clock.
            expand: Requested expansions.

        Returns:
            The EVSE resource.
        """
        latest: str | dict[str, Any] | None = None
        i = self.latest_status_index(spec, now_us)
        if i is not None:
            row = render.status_log(self.history(spec).status, i, self.evse_url(spec), spec)
            latest = row if "latest_status_log" in expand else row["url"]
        return render.evse(spec, self.base_url, latest, expand)

    # ---- ground truth ------------------------------------------------------------------

    def evses(self, now: datetime) -> list[dict[str, Any]]:
        """Every charger visible at now, by id.

        Args:
            now: The simulated instant.

        Returns:
            EVSE resources as ``GET /evses`` renders them.
        """
        now_us = to_us(now)
        return [
            self.render_evse(s, now_us, frozenset())
            for s in self.sorted_specs
            if s.joined_us <= now_us
        ]

    def status_logs(self, evse_id: str, now: datetime) -> list[dict[str, Any]]:
        """Every status log of a charger logged by now, newest ``sampled_at`` first.

        Args:
            evse_id: The charger id.
            now: The simulated instant.

        Returns:
            Status-log resources.
        """
        spec, now_us = self.specs_by_id[evse_id], to_us(now)
        tb, url = self.history(spec).status, self.evse_url(spec)
        rows = [
            render.status_log(tb, i, url, spec) for i in range(len(tb)) if tb.logged[i] <= now_us
        ]
        return rows[::-1]

    def command_logs(self, evse_id: str, now: datetime) -> list[dict[str, Any]]:
        """Every command log of a charger logged by now, newest first.

        Args:
            evse_id: The charger id.
            now: The simulated instant.

        Returns:
            Command-log resources.
        """
        spec, now_us = self.specs_by_id[evse_id], to_us(now)
        url = self.evse_url(spec)
        rows = [
            render.command_log(c, url) for c in self.history(spec).commands if c.logged_us <= now_us
        ]
        return rows[::-1]

    def sub_sessions(self, now: datetime) -> list[dict[str, Any]]:
        """Every sub-session started by now, newest first (``end`` null while ongoing).

        Args:
            now: The simulated instant.

        Returns:
            Charging sub-session resources.
        """
        now_us = to_us(now)
        return [
            render_sub_session(s, self.base_url, now_us)
            for s in self.sessions()
            if s.start_us <= now_us
        ]

    def dispatcher_logs(self, sub_session_id: str, now: datetime) -> list[dict[str, Any]]:
        """Every dispatcher log of a sub-session logged by now, newest first.

        Args:
            sub_session_id: The sub-session id.
            now: The simulated instant.

        Returns:
            Dispatcher-log resources.
        """
        found = self.session_by_id(sub_session_id)
        if found is None:
            return []
        now_us = to_us(now)
        rows = [
            render.dispatcher_log(a, self.base_url)
            for a in found[1].attempts
            if a.logged_us <= now_us
        ]
        return rows[::-1]

    def dispatch_records(self) -> list[DispatchRecord]:
        """Every dispatch attempt of the world, in ``logged_at`` order."""
        attempts = [a for s in self.sessions() for a in s.attempts]
        attempts.sort(key=lambda a: (a.logged_us, a.internal_command_id))
        return attempts

    def dispatch_truth(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Ground truth of every dispatch attempt (optionally only those logged by now).

        Args:
            now: Keep attempts logged at or before this instant (None: the whole history).

        Returns:
            One dict per attempt: sub-session, internal command id, logged_at, device type,
            sent, applied, applied_at, targets, noop, evse_id, vehicle_id, command_logged_at.
        """
        limit = None if now is None else to_us(now)
        return [
            render.dispatch_truth(a)
            for a in self.dispatch_records()
            if limit is None or a.logged_us <= limit
        ]
