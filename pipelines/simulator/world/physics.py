"""Event-driven physics of one charger and the car plugged into it.

The charger has a configured state (``enabled``, ``charger_ma``) that EVSE commands set; the
car has a battery, a state of charge and an on-board current limit; a vehicle-bound command
sets a vehicle-side override (``veh_allowed``, ``veh_limit``) without touching the charger.
Power is piecewise constant between events::

    power = min(charger_ma, car_ma, veh_limit) x 230 V   if plugged, enabled, allowed, not full
            0                                             otherwise

Energy is integrated exactly between events (including the instant the car becomes full),
every power change is written as a breakpoint of the current sub-session's energy curve, and
status logs sample the state every ``interval`` (+-15 s).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Any

from pipelines.simulator.world.fleet import EvseSpec
from pipelines.simulator.world.lag import LagModel
from pipelines.simulator.world.plans import EpisodePlan
from pipelines.simulator.world.records import (
    EVSE_DEVICE,
    CommandRecord,
    StatusTable,
    SubSessionRecord,
)
from pipelines.simulator.world.sampling import Sampler
from pipelines.simulator.world.times import US_PER_SECOND

SEG_END, PLUG_OUT, PLUG_IN, SEG_START, APPLY, ATTEMPT, REFRESH = range(7)
"""Event kinds, in the order they are handled when they fall on the same instant."""
NO_LIMIT = 10**9
WATTS_PER_MA = 0.23  # at the nominal 230 V
_US_PER_HOUR_F = 3.6e9


class Simulation:
    """One charger (or one public charger for on-the-go sessions) through time."""

    def __init__(
        self,
        spec: EvseSpec,
        rng: random.Random,
        horizon_us: int,
        table: StatusTable | None = None,
        lag: LagModel | None = None,
        interval_us: int = 300 * US_PER_SECOND,
    ) -> None:
        """Set up the initial state; nothing runs until :meth:`run`.

        Args:
            spec: The charger (its car, model and integration).
            rng: The charger's random source.
            horizon_us: End of the history; nothing happens after it.
            table: Where to write status logs (None for on-the-go charging: no samples).
            lag: The integration lag model (required with a table).
            interval_us: Status-log cadence.
        """
        self.spec, self.rng, self.horizon = spec, rng, horizon_us
        self.table, self.lag, self.interval = table, lag, interval_us
        self.t = spec.joined_us
        self.heap: list[tuple[int, int, int, Any]] = []
        self._seq = 0
        self.enabled, self.charger_ma = spec.initially_enabled, 32_000
        self.veh_allowed, self.veh_limit = True, NO_LIMIT
        self.plugged, self.car_ma = False, spec.car_max_ma
        self.cap_wh, self.soc_wh = float(spec.battery_wh), 0.0
        self.meter_wh, self.charging_us = float(rng.randrange(1_000_000, 9_000_000)), 0
        self.power, self.eff_ma = 0.0, 0
        self.seg: SubSessionRecord | None = None
        self.commands: list[CommandRecord] = []
        self._command_times: set[int] = set()
        self.offline_spells: list[tuple[int, int, int]] = []
        self.rssi = -60 - rng.randrange(25)
        self.handlers: dict[int, Callable[[Any], None]] = {
            PLUG_IN: self.on_plug_in,
            PLUG_OUT: self.on_plug_out,
            SEG_END: self.on_segment_end,
            APPLY: self.on_apply,
        }

    def push(self, t: int, kind: int, payload: Any) -> None:
        """Schedule an event.

        Args:
            t: When it happens.
            kind: The event kind (also its priority at equal times).
            payload: Whatever the handler needs.
        """
        self._seq += 1
        heapq.heappush(self.heap, (t, kind, self._seq, payload))

    def add_episode(self, episode: EpisodePlan, records: list[SubSessionRecord]) -> None:
        """Schedule a plug-in episode and its sub-sessions.

        Args:
            episode: The episode plan.
            records: One sub-session record per segment of the episode, in order.
        """
        self.push(episode.plug_in_us, PLUG_IN, episode)
        self.push(episode.plug_out_us, PLUG_OUT, episode)
        for record in records:
            self.push(record.start_us, SEG_START, record)
            self.push(record.end_us, SEG_END, record)

    def command_time(self, t: int) -> int:
        """A command-log timestamp at or just after t, unique for this charger.

        Args:
            t: The wanted timestamp.

        Returns:
            A timestamp no other command log of this charger has.
        """
        while t in self._command_times:
            t += 1
        self._command_times.add(t)
        return t

    def offline(self, t: int) -> bool:
        """Whether the charger is in an offline spell at t.

        Args:
            t: The instant.

        Returns:
            True while a flaky charger is offline.
        """
        return any(start <= t < end for start, end, _ in self.offline_spells)

    def set_power(self) -> None:
        """Recompute the power from the state; record a breakpoint if it changed."""
        if self.plugged and self.enabled and self.veh_allowed and self.soc_wh < self.cap_wh:
            ma = min(self.charger_ma, self.car_ma, self.veh_limit)
        else:
            ma = 0
        self.eff_ma = ma
        power = ma * WATTS_PER_MA
        if power != self.power:
            self.power = power
            if self.seg is not None:
                self.seg.add_breakpoint(self.t, self.meter_wh, self.charging_us, power)

    def advance(self, t: int) -> None:
        """Integrate energy up to t (stopping the draw the instant the car is full).

        Args:
            t: The new current time (not before the current one).
        """
        dt = t - self.t
        if dt > 0 and self.power > 0:
            wh = self.power * dt / _US_PER_HOUR_F
            room = self.cap_wh - self.soc_wh
            if wh >= room:
                dt_full = int(room * _US_PER_HOUR_F / self.power)
                self.t += dt_full
                self.meter_wh += room
                self.soc_wh = self.cap_wh
                self.charging_us += dt_full
                self.set_power()
            else:
                self.meter_wh += wh
                self.soc_wh += wh
                self.charging_us += dt
        self.t = max(self.t, t)

    def on_plug_in(self, episode: EpisodePlan) -> None:
        """A car is plugged in.

        Args:
            episode: The episode (its arrival state of charge; on-the-go charger power).
        """
        self.plugged = True
        self.soc_wh = self.cap_wh * episode.arrival_soc
        self.set_power()

    def on_plug_out(self, episode: EpisodePlan) -> None:
        """The car is unplugged: vehicle-side overrides end with the episode.

        Args:
            episode: The episode.
        """
        del episode
        self.plugged = False
        self.veh_allowed, self.veh_limit = True, NO_LIMIT
        self.set_power()

    def begin_segment(self, record: SubSessionRecord) -> None:
        """A sub-session starts: reset vehicle overrides and open its energy curve.

        Args:
            record: The sub-session.
        """
        self.seg = record
        self.veh_allowed, self.veh_limit = True, NO_LIMIT
        self.set_power()
        record.add_breakpoint(self.t, self.meter_wh, self.charging_us, self.power)

    def on_segment_end(self, record: SubSessionRecord) -> None:
        """A sub-session ends: close its energy curve.

        Args:
            record: The sub-session.
        """
        record.add_breakpoint(self.t, self.meter_wh, self.charging_us, 0.0)
        if self.seg is record:
            self.seg = None

    def on_apply(self, payload: tuple[str, bool, int | None]) -> None:
        """A device applies a command.

        Args:
            payload: ``(device_type, is_enabled_target, max_load_target_ma)``; an EVSE keeps
                its current limit when the target has none, a vehicle then lifts its limit.
        """
        device, enabled, target_ma = payload
        if device == EVSE_DEVICE:
            self.enabled = enabled
            if target_ma is not None:
                self.charger_ma = target_ma
        else:
            self.veh_allowed = enabled
            self.veh_limit = NO_LIMIT if target_ma is None else target_ma
        self.set_power()

    def run(self) -> None:
        """Process every event and status sample up to the horizon."""
        sampler = Sampler(self) if self.table is not None else None
        next_sample = sampler.next_time() if sampler else self.horizon + 1
        heap, horizon, handlers = self.heap, self.horizon, self.handlers
        while True:
            te = heap[0][0] if heap else horizon + 1
            if next_sample <= te:
                if next_sample > horizon or sampler is None:
                    break
                self.advance(next_sample)
                sampler.emit(next_sample)
                next_sample = sampler.next_time()
            else:
                if te > horizon:
                    break
                t, kind, _, payload = heapq.heappop(heap)
                self.advance(t)
                handlers[kind](payload)
        self.advance(horizon)
