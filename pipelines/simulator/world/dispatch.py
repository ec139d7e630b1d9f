"""The smart-charging dispatcher: dispatch attempts, the commands they send, and whether the
device applies them.

During a managed sub-session (SMART, MANAGED_OTG) the dispatcher makes an attempt every
20-60 minutes; a BOOST sub-session starts with one start command. An attempt targets either
the charger (EVSE) or the car (VEHICLE: on-the-go sub-sessions and ~10% of the others). About
15% of attempts ask for the state the device already has; about 5% are not sent (and never
while a flaky charger is offline). A sent EVSE command is logged 1-10 s later in the command
logs and applied 20 s - 6 min later unless the model ignores it; a vehicle command is applied
with probability 0.85 and changes the draw, not the charger's configured state.
"""

from __future__ import annotations

from pipelines.simulator.world.catalog import FULL_CURRENT_MA
from pipelines.simulator.world.ids import uuid4
from pipelines.simulator.world.physics import (
    APPLY,
    ATTEMPT,
    NO_LIMIT,
    REFRESH,
    SEG_START,
    Simulation,
)
from pipelines.simulator.world.plans import BOOST, MANAGED_MODES, UNMANAGED_HOME
from pipelines.simulator.world.records import (
    EVSE_DEVICE,
    VEHICLE_DEVICE,
    CommandRecord,
    DispatchRecord,
    SubSessionRecord,
)
from pipelines.simulator.world.times import US_PER_DAY, US_PER_MINUTE, US_PER_SECOND

Target = tuple[bool, int | None]
_EVSE_TARGETS: tuple[Target, ...] = (
    (False, None),
    (True, FULL_CURRENT_MA),
    (True, 16_000),
    (True, 6_000),
)
_VEHICLE_TARGETS: tuple[Target, ...] = ((False, None), (True, None), (True, 16_000), (True, 6_000))
_TARGET_WEIGHTS = (35, 40, 15, 10)
_REASONS = {(False, None): "STOP_CHARGE", (True, FULL_CURRENT_MA): "START_CHARGE"}
_NOT_SENT = {
    EVSE_DEVICE: ("SCHEDULE_UNCHANGED", "DEVICE_OFFLINE", "COMMAND_RATE_LIMITED"),
    VEHICLE_DEVICE: ("SCHEDULE_UNCHANGED", "VEHICLE_ASLEEP", "DEVICE_OFFLINE"),
}


class Dispatcher:
    """Drives dispatch attempts and other commands on a :class:`Simulation`."""

    def __init__(self, sim: Simulation) -> None:
        """Register the dispatcher's event handlers on the simulation.

        Args:
            sim: The simulation.
        """
        self.sim, self.rng = sim, sim.rng
        sim.handlers[SEG_START] = self.on_segment_start
        sim.handlers[ATTEMPT] = self.on_attempt
        sim.handlers[REFRESH] = self.on_refresh

    def _state(self, device: str) -> Target:
        """The device's current state, written as a target.

        Args:
            device: EVSE or VEHICLE.

        Returns:
            ``(enabled, milliamps or None)``.
        """
        sim = self.sim
        if device == EVSE_DEVICE:
            return (True, sim.charger_ma) if sim.enabled else (False, None)
        if not sim.veh_allowed:
            return False, None
        return True, None if sim.veh_limit == NO_LIMIT else sim.veh_limit

    def _choose(self, device: str, boost: bool) -> tuple[Target, bool]:
        """Choose an attempt's target.

        Args:
            device: EVSE or VEHICLE.
            boost: Whether this is the start command of a BOOST sub-session.

        Returns:
            The target and whether it equals the device's current state.
        """
        state = self._state(device)
        targets = _EVSE_TARGETS if device == EVSE_DEVICE else _VEHICLE_TARGETS
        if boost:
            return targets[1], targets[1] == state
        if self.rng.random() < 0.15:
            return state, True
        options = [(t, w) for t, w in zip(targets, _TARGET_WEIGHTS, strict=True) if t != state]
        target = self.rng.choices([t for t, _ in options], [w for _, w in options])[0]
        return target, False

    def on_segment_start(self, record: SubSessionRecord) -> None:
        """Open a sub-session and schedule its first dispatch attempt (or command).

        Args:
            record: The sub-session.
        """
        sim, rng = self.sim, self.rng
        sim.begin_segment(record)
        if not record.on_evse or (sim.enabled and rng.random() < 0.10):
            record.device_type = VEHICLE_DEVICE
        t = sim.t
        if record.mode in MANAGED_MODES:
            sim.push(t + int(rng.uniform(0, 120) * US_PER_SECOND), ATTEMPT, (record, False))
        elif record.mode == BOOST:
            sim.push(t + int(rng.uniform(1, 30) * US_PER_SECOND), ATTEMPT, (record, True))
        elif record.mode == UNMANAGED_HOME and self._state(EVSE_DEVICE) != (True, FULL_CURRENT_MA):
            self._command(t, uuid4(rng), (True, FULL_CURRENT_MA), "SMART_CHARGE_DISABLED")

    def on_attempt(self, payload: tuple[SubSessionRecord, bool]) -> None:
        """Make one dispatch attempt, then schedule the next one of a managed sub-session.

        Args:
            payload: ``(sub_session, is_boost_start)``.
        """
        record, boost = payload
        sim, rng, t = self.sim, self.rng, self.sim.t
        device = record.device_type
        target, noop = self._choose(device, boost)
        reason: str | None = None
        if device == EVSE_DEVICE and sim.offline(t):
            reason = "DEVICE_OFFLINE"
        elif rng.random() < 0.05:
            reason = rng.choice(_NOT_SENT[device])
        valid = t - t % (30 * US_PER_MINUTE)
        attempt = DispatchRecord(
            record.id,
            uuid4(rng),
            t,
            valid,
            valid - int(rng.uniform(1, 30) * US_PER_MINUTE),
            device,
            reason,
            target[0],
            target[1],
            noop,
            record.spec.id if record.on_evse else None,
            record.spec.vehicle_id,
        )
        record.attempts.append(attempt)
        if reason is None:
            self._send(attempt, target)
        nxt = t + int(rng.uniform(20, 60) * US_PER_MINUTE)
        if not boost and nxt < record.end_us - US_PER_MINUTE:
            sim.push(nxt, ATTEMPT, payload)

    def _send(self, attempt: DispatchRecord, target: Target) -> None:
        """Deliver a sent attempt: log the EVSE command, decide whether the device applies it.

        Args:
            attempt: The dispatch attempt (updated with what happened).
            target: The target state.
        """
        sim, rng, t = self.sim, self.rng, attempt.logged_us
        if attempt.device_type == EVSE_DEVICE:
            reason = _REASONS.get(target, "SCHEDULED_CHARGING")
            cmd = self._log(t, attempt.internal_command_id, target, reason)
            attempt.command_logged_us = cmd.logged_us
            applied = rng.random() >= sim.spec.model.ignore_rate
            delay = rng.uniform(20, 360)
        else:
            applied = rng.random() < 0.85
            delay = rng.uniform(30, 300)
        if applied:
            attempt.applied = True
            attempt.applied_us = t + int(delay * US_PER_SECOND)
            sim.push(attempt.applied_us, APPLY, (attempt.device_type, *target))

    def _log(self, t: int, command_id: str | None, target: Target, reason: str) -> CommandRecord:
        """Write a command log 1-10 s after t.

        Args:
            t: When the command was issued.
            command_id: Its internal command id (None for some system commands).
            target: The target state.
            reason: The command-log reason.

        Returns:
            The command log record.
        """
        logged = self.sim.command_time(t + int(self.rng.uniform(1, 10) * US_PER_SECOND))
        cmd = CommandRecord(logged, command_id, target[0], target[1], reason)
        self.sim.commands.append(cmd)
        return cmd

    def _command(self, t: int, command_id: str | None, target: Target, reason: str) -> None:
        """Send a command that is not a dispatch (no dispatcher log); the model may ignore it.

        Args:
            t: When it is issued.
            command_id: Its internal command id, or None.
            target: The target state.
            reason: The command-log reason.
        """
        self._log(t, command_id, target, reason)
        if self.rng.random() >= self.sim.spec.model.ignore_rate:
            delay = int(self.rng.uniform(20, 120) * US_PER_SECOND)
            self.sim.push(t + delay, APPLY, (EVSE_DEVICE, *target))

    def commission(self) -> None:
        """Send the COMMISSIONING command of a charger that joins (always applied)."""
        sim, rng = self.sim, self.rng
        t = sim.spec.joined_us
        self._log(t, uuid4(rng), (True, FULL_CURRENT_MA), "COMMISSIONING")
        sim.push(
            t + int(rng.uniform(20, 40) * US_PER_SECOND),
            APPLY,
            (EVSE_DEVICE, True, FULL_CURRENT_MA),
        )

    def schedule_refreshes(self) -> None:
        """Schedule about one REFRESH_SCHEDULES command a day (re-asserts the current state)."""
        sim, rng = self.sim, self.rng
        t = sim.spec.joined_us + int(rng.uniform(0.2, 1.0) * US_PER_DAY)
        while t < sim.horizon:
            sim.push(t, REFRESH, None)
            t += int(rng.uniform(0.6, 1.4) * US_PER_DAY)

    def on_refresh(self, payload: None) -> None:
        """Log a REFRESH_SCHEDULES command asking for the current state (no internal id).

        Args:
            payload: Unused.
        """
        del payload
        self._log(self.sim.t, None, self._state(EVSE_DEVICE), "REFRESH_SCHEDULES")
