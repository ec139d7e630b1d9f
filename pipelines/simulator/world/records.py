"""Compact storage of a generated history.

Status logs are stored column-wise in ``array`` columns (about 40 bytes a row); nullable
values use sentinels (``-1`` for booleans, :data:`NULL_INT` for integers). Command logs,
dispatch attempts and sub-sessions are far fewer and kept as small slotted records.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field

from pipelines.simulator.world.fleet import EvseSpec

NULL_INT = -(2**31)
NULL_BOOL = -1
EVSE_DEVICE = "EVSE"
VEHICLE_DEVICE = "VEHICLE"


class StatusTable:
    """The status logs of one charger, as parallel columns sorted by ``sampled_at``."""

    __slots__ = (
        "charging",
        "enabled",
        "inlet",
        "logged",
        "max_ma",
        "meter",
        "plugged",
        "rate",
        "rssi",
        "sampled",
        "soc",
        "voltage",
    )

    def __init__(self) -> None:
        """Create empty columns."""
        self.sampled = array("q")
        self.logged = array("q")
        self.plugged = array("b")
        self.charging = array("b")
        self.rate = array("i")
        self.meter = array("q")
        self.enabled = array("b")
        self.max_ma = array("i")
        self.rssi = array("b")
        self.inlet = array("i")
        self.voltage = array("i")
        self.soc = array("b")

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.sampled)

    def drop_sampled_between(self, start: int, end: int) -> None:
        """Remove the rows sampled in [start, end) (an outage: they never arrive).

        Args:
            start: First instant removed.
            end: First instant kept after the removed span.
        """
        first, last = bisect.bisect_left(self.sampled, start), bisect.bisect_left(self.sampled, end)
        for name in self.__slots__:
            del getattr(self, name)[first:last]

    def find_last_at_or_before(self, t: int) -> int:
        """Index of the last row sampled at or before t (-1 if none).

        Args:
            t: The instant.

        Returns:
            A row index, or -1.
        """
        return bisect.bisect_right(self.sampled, t) - 1

    def find(self, sampled_us: int) -> int | None:
        """Index of the row sampled exactly at ``sampled_us``.

        Args:
            sampled_us: The sample time.

        Returns:
            The row index, or None.
        """
        i = bisect.bisect_left(self.sampled, sampled_us)
        return i if i < len(self.sampled) and self.sampled[i] == sampled_us else None


@dataclass(slots=True)
class CommandRecord:
    """One command sent to a charger (a row of ``/evses/{id}/command_logs``)."""

    logged_us: int
    internal_command_id: str | None
    is_enabled_target: bool
    max_load_target_ma: int | None
    reason: str


@dataclass(slots=True)
class DispatchRecord:
    """One dispatch attempt (a dispatcher log) with what really happened to it."""

    sub_session_id: str
    internal_command_id: str
    logged_us: int
    schedule_valid_us: int
    schedule_created_us: int
    device_type: str
    reason_not_sent: str | None
    is_enabled_target: bool
    max_load_target_ma: int | None
    noop: bool
    evse_id: str | None
    vehicle_id: str
    applied: bool = False
    applied_us: int | None = None
    command_logged_us: int | None = None


@dataclass(slots=True)
class SubSessionRecord:
    """One charging sub-session, with its energy curve.

    The curve holds breakpoints ``(t, meter_wh, charging_us, power_w)`` written whenever the
    power changes, so the energy delivered up to any instant is a bisect and a product.
    """

    id: str
    mode: str
    start_us: int
    end_us: int
    spec: EvseSpec
    on_evse: bool
    battery_wh: int
    price_pence_per_kwh: int
    co2_g_per_kwh: int
    tariff_id: str | None
    carbon_feed_id: str | None
    solar_mode_type: str | None
    labels: tuple[str, ...]
    place: tuple[str, tuple[float, float] | None, str | None, str | None]
    bp_t: list[int] = field(default_factory=list)
    bp_wh: list[float] = field(default_factory=list)
    bp_chg: list[int] = field(default_factory=list)
    bp_power: list[float] = field(default_factory=list)
    attempts: list[DispatchRecord] = field(default_factory=list)
    device_type: str = EVSE_DEVICE

    def add_breakpoint(self, t: int, meter_wh: float, charging_us: int, power_w: float) -> None:
        """Record the state of the energy curve at ``t`` (replacing one at the same instant).

        Args:
            t: The instant.
            meter_wh: Cumulative energy of the charger (or car) at t.
            charging_us: Cumulative time spent charging at t.
            power_w: Power from t onwards.
        """
        if self.bp_t and self.bp_t[-1] == t:
            self.bp_power[-1] = power_w
            return
        self.bp_t.append(t)
        self.bp_wh.append(meter_wh)
        self.bp_chg.append(charging_us)
        self.bp_power.append(power_w)

    def delivered_at(self, now_us: int) -> tuple[float, int]:
        """Energy delivered and time spent charging since the start, as of ``now_us``.

        Args:
            now_us: The instant (clamped to the sub-session's end).

        Returns:
            ``(watt_hours, charging_microseconds)``.
        """
        if not self.bp_t or now_us <= self.start_us:
            return 0.0, 0
        t = min(now_us, self.end_us)
        i = bisect.bisect_right(self.bp_t, t) - 1
        dt = t - self.bp_t[i]
        power = self.bp_power[i]
        wh = self.bp_wh[i] + power * dt / 3.6e9 - self.bp_wh[0]
        chg = self.bp_chg[i] + (dt if power > 0 else 0) - self.bp_chg[0]
        return wh, chg


@dataclass(slots=True)
class History:
    """Everything generated for one charger (and its car's on-the-go charging)."""

    spec: EvseSpec
    status: StatusTable
    commands: list[CommandRecord]
    sub_sessions: list[SubSessionRecord]
    command_logged: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Sort command logs by ``logged_at`` and index them for bisecting."""
        self.commands.sort(key=lambda c: c.logged_us)
        previous = None
        for command in self.commands:  # the cursor is logged_at: keep it unique per charger
            if previous is not None and command.logged_us <= previous:
                command.logged_us = previous + 1
            previous = command.logged_us
        self.command_logged = [c.logged_us for c in self.commands]
