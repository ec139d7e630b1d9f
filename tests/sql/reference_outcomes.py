"""An independent, plain-Python statement of the dispatch measures, to check the SQL against.

It reads only the raw ``evenergy`` tables (never an ``analytics`` model), deduplicates them by
their keys itself, and classifies every dispatcher log with the definitions of the issue:

- ``outcome``: did the charger change what it was doing (``charging`` flipped, or the charge
  rate moved by at least R) within W after the dispatch, given a state before no older than S;
- ``compliance``: did the charger adopt the command's configured target (``is_enabled`` and,
  when enabling, its current limit within T);
- ``target_outcome``: did the charging state end up where the target asked (``held`` when it
  was already there, ``reached`` when it got there);
- ``failure_side``: ``charger`` when it did not comply, ``vehicle`` when it complied but the
  draw did not reach the target.

Where the definition leaves a point open, this module follows the reading that
``sql/marts/dispatch_effectiveness.sql`` documents, and each such place cites it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, NamedTuple

import duckdb

AttemptKey = tuple[str | None, str | None, datetime | None]
"""A dispatcher log's key: (charging_sub_session_id, internal_command_id, logged_at)."""

COMPARED_COLUMNS = (
    "outcome",
    "response_seconds",
    "compliance",
    "compliance_seconds",
    "target_outcome",
    "target_response_seconds",
    "failure_side",
)
"""The columns of ``analytics.dispatch_effectiveness`` this module computes."""


@dataclass(frozen=True)
class ReferenceParams:
    """The thresholds, as the issue states them.

    Attributes:
        response_window: W, the response window is (logged_at, logged_at + W].
        staleness: S, the state before may be at most this old.
        rate_change_watts: R, the smallest charge-rate change that counts, and the tolerance
            around a target rate.
        current_tolerance_milliamps: T, how far the current limit may sit from the target.
        nominal_voltage_volts: the voltage assumed when the charger reported none.
    """

    response_window: timedelta = timedelta(minutes=15)
    staleness: timedelta = timedelta(minutes=15)
    rate_change_watts: int = 500
    current_tolerance_milliamps: int = 1000
    nominal_voltage_volts: int = 230


DEFAULT_PARAMS = ReferenceParams()


class Sample(NamedTuple):
    """One deduplicated status log, reduced to what the measures read."""

    sampled_at: datetime
    is_charging: bool | None
    charge_rate_watts: int | None
    is_enabled: bool | None
    max_current_rating_milliamps: int | None
    voltage_millivolts: int | None


class Target(NamedTuple):
    """What a command asked the charger for (from its EVSE command log)."""

    is_enabled_target: bool | None
    max_load_target_milliamps: int | None


@dataclass(frozen=True)
class Attempt:
    """One deduplicated dispatcher log with its sub-session's EVSE."""

    charging_sub_session_id: str | None
    internal_command_id: str | None
    logged_at: datetime
    device_type: str | None
    reason_not_sent: str | None
    evse_id: str | None

    @property
    def key(self) -> AttemptKey:
        """The dispatcher log's key."""
        return (self.charging_sub_session_id, self.internal_command_id, self.logged_at)


@dataclass(frozen=True)
class ReferenceOutcome:
    """The measures of one dispatcher log, plus what they were derived from (for reports).

    The first seven attributes are :data:`COMPARED_COLUMNS`; the rest explain them.
    """

    outcome: str
    response_seconds: float | None
    compliance: str
    compliance_seconds: float | None
    target_outcome: str
    target_response_seconds: float | None
    failure_side: str | None
    evse_id: str | None
    device_type: str | None
    pre: Sample | None
    target: Target | None
    target_is_charging: bool | None
    target_charge_rate_watts: Fraction | None
    window: tuple[Sample, ...]

    def compared(self) -> dict[str, Any]:
        """The compared columns, by name."""
        return {name: getattr(self, name) for name in COMPARED_COLUMNS}


@dataclass(frozen=True)
class RawData:
    """The raw tables, deduplicated by key and indexed for the measures."""

    attempts: list[Attempt]
    samples_by_evse: dict[str, list[Sample]]
    targets_by_command: dict[str, Target]


# ---- reading the raw tables ------------------------------------------------------------------


def _fetch(conn: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = conn.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def latest_per_key(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Hashable]
) -> list[dict[str, Any]]:
    """Keep, for each key, the row of the latest load (highest ``(_dlt_load_id, _dlt_id)``).

    Args:
        rows: raw rows carrying ``_dlt_load_id`` and ``_dlt_id``.
        key: the row's key.

    Returns:
        One row per key.
    """
    kept: dict[Hashable, dict[str, Any]] = {}
    for row in rows:
        k = key(row)
        seen = kept.get(k)
        if seen is None or (row["_dlt_load_id"], row["_dlt_id"]) > (
            seen["_dlt_load_id"],
            seen["_dlt_id"],
        ):
            kept[k] = row
    return list(kept.values())


def load_raw(conn: duckdb.DuckDBPyConnection) -> RawData:
    """Read and deduplicate the raw ``evenergy`` tables the measures need.

    Args:
        conn: a connection to a warehouse holding the raw tables.

    Returns:
        The attempts, each EVSE's samples in ``sampled_at`` order, and each command's target.
    """
    lineage = "_dlt_load_id, _dlt_id"
    sub_sessions = latest_per_key(
        _fetch(conn, f"select id, evse_id, {lineage} from evenergy.charging_sub_sessions"),
        lambda r: r["id"],
    )
    evse_of_sub_session = {r["id"]: r["evse_id"] for r in sub_sessions}

    dispatcher_logs = latest_per_key(
        _fetch(
            conn,
            "select charging_sub_session_id, internal_command_id, logged_at, device_type, "
            f"reason_not_sent, {lineage} from evenergy.dispatcher_logs",
        ),
        lambda r: (r["charging_sub_session_id"], r["internal_command_id"], r["logged_at"]),
    )
    attempts = [
        Attempt(
            r["charging_sub_session_id"],
            r["internal_command_id"],
            r["logged_at"],
            r["device_type"],
            r["reason_not_sent"],
            evse_of_sub_session.get(r["charging_sub_session_id"]),
        )
        for r in dispatcher_logs
    ]

    status_logs = latest_per_key(
        _fetch(
            conn,
            "select evse_id, sampled_at, is_charging, charge_rate_watts, is_enabled, "
            f"max_current_rating_milliamps, voltage_millivolts, {lineage} "
            "from evenergy.status_logs",
        ),
        lambda r: (r["evse_id"], r["sampled_at"]),
    )
    samples_by_evse: dict[str, list[Sample]] = {}
    for r in status_logs:
        if r["evse_id"] is None or r["sampled_at"] is None:
            continue  # cannot be placed in any EVSE's timeline
        samples_by_evse.setdefault(r["evse_id"], []).append(
            Sample(
                r["sampled_at"],
                r["is_charging"],
                r["charge_rate_watts"],
                r["is_enabled"],
                r["max_current_rating_milliamps"],
                r["voltage_millivolts"],
            )
        )
    for samples in samples_by_evse.values():
        samples.sort(key=lambda s: s.sampled_at)

    command_logs = latest_per_key(
        _fetch(
            conn,
            "select evse_id, logged_at, internal_command_id, is_enabled_target, "
            f"max_load_target_milliamps, {lineage} from evenergy.evse_command_logs",
        ),
        lambda r: (r["evse_id"], r["logged_at"]),
    )
    # One target per command id. The definition says "joined on internal_command_id"; for an
    # id logged more than once (a retry) the SQL documents "the earliest command log carrying
    # its internal_command_id" (ties: lowest evse_id), and command logs without an id are
    # ignored (sql/marts/dispatch_effectiveness.sql, CTE command_targets).
    targets_by_command: dict[str, Target] = {}
    for r in sorted(
        (r for r in command_logs if r["internal_command_id"] is not None),
        key=lambda r: (r["logged_at"], r["evse_id"]),
    ):
        targets_by_command.setdefault(
            r["internal_command_id"],
            Target(r["is_enabled_target"], r["max_load_target_milliamps"]),
        )
    return RawData(attempts, samples_by_evse, targets_by_command)


# ---- three-valued logic (SQL semantics: None is unknown) ------------------------------------


def _and3(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or3(*values: bool | None) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _not3(value: bool | None) -> bool | None:
    return None if value is None else not value


def _eq3(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else a == b


def _within3(a: int | None, b: Fraction | None, limit: int) -> bool | None:
    return None if a is None or b is None else abs(a - b) <= limit


# ---- the measures ----------------------------------------------------------------------------


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def is_state_change(sample: Sample, pre: Sample, params: ReferenceParams) -> bool:
    """Whether a sample differs from the state before (the ``effective`` rule).

    ``is_charging`` both known and different, or ``charge_rate_watts`` both known and at
    least R apart; an unknown value never counts as a change.
    """
    flipped = (
        sample.is_charging is not None
        and pre.is_charging is not None
        and sample.is_charging != pre.is_charging
    )
    moved = (
        sample.charge_rate_watts is not None
        and pre.charge_rate_watts is not None
        and abs(sample.charge_rate_watts - pre.charge_rate_watts) >= params.rate_change_watts
    )
    return flipped or moved


def is_complying(sample: Sample, target: Target, params: ReferenceParams) -> bool:
    """Whether a sample shows the commanded configuration (the ``complied`` rule).

    ``is_enabled`` equal to the target and, when enabling, the current limit within T of the
    target; an unknown value does not comply.
    """
    if sample.is_enabled is None or sample.is_enabled != target.is_enabled_target:
        return False
    if not target.is_enabled_target:
        return True
    return (
        sample.max_current_rating_milliamps is not None
        and target.max_load_target_milliamps is not None
        and abs(sample.max_current_rating_milliamps - target.max_load_target_milliamps)
        <= params.current_tolerance_milliamps
    )


def matches_target(
    sample: Sample,
    target_is_charging: bool | None,
    target_rate: Fraction | None,
    params: ReferenceParams,
) -> bool | None:
    """Whether a sample's charging state matches the target: True, False, or None (unknown).

    ``is_charging`` equal to the target's and, when charging is asked for, the rate within R
    of the target rate. Three-valued, as the SQL documents it ("null when the sample cannot
    tell", CTE window_samples, column is_matching_target): e.g. ``is_charging`` unknown but a
    rate far from a charging target is a known mismatch, while ``is_charging`` unknown with a
    non-charging target is unknown.
    """
    return _and3(
        _eq3(sample.is_charging, target_is_charging),
        _or3(
            _not3(target_is_charging),
            _within3(sample.charge_rate_watts, target_rate, params.rate_change_watts),
        ),
    )


def _latest_voltage(samples: Sequence[Sample], upto: int) -> int | None:
    """The latest non-null voltage among ``samples[:upto]`` (samples in time order)."""
    for sample in reversed(samples[:upto]):
        if sample.voltage_millivolts is not None:
            return sample.voltage_millivolts
    return None


def classify(attempt: Attempt, raw: RawData, params: ReferenceParams) -> ReferenceOutcome:
    """Classify one dispatcher log.

    Args:
        attempt: the dispatcher log.
        raw: the deduplicated raw data.
        params: the thresholds.

    Returns:
        Its measures.
    """
    logged_at = attempt.logged_at
    samples = raw.samples_by_evse.get(attempt.evse_id, []) if attempt.evse_id is not None else []
    times = [s.sampled_at for s in samples]
    before = bisect_right(times, logged_at)  # samples[:before] have sampled_at <= logged_at
    window_end = bisect_right(times, logged_at + params.response_window)
    pre = samples[before - 1] if before > 0 else None
    window = tuple(samples[before:window_end])  # logged_at < sampled_at <= logged_at + W

    # ---- the target, joined on internal_command_id (never on time)
    found = (
        raw.targets_by_command.get(attempt.internal_command_id)
        if attempt.internal_command_id is not None
        else None
    )
    # A command log that does not say whether to enable, or enables without a current, is no
    # usable target: the SQL documents it as "usable target: says enable or not and, when
    # enabling, how much current" (CTE attempts, column has_target) and counts it no_target.
    has_target = (
        found is not None
        and found.is_enabled_target is not None
        and (not found.is_enabled_target or found.max_load_target_milliamps is not None)
    )
    target = found if has_target else None
    target_is_charging: bool | None = None
    target_rate: Fraction | None = None
    if target is not None:
        milliamps = target.max_load_target_milliamps
        target_is_charging = (
            bool(target.is_enabled_target) and milliamps is not None and (milliamps > 0)
        )
        if target_is_charging:
            assert milliamps is not None
            # "latest voltage at or before logged_at": the latest sample that reported one,
            # however old (the SQL: "the latest voltage the charger reported at or before
            # logged_at", CTE attempts_with_voltage); mA x mV / 1e6 = W, exactly.
            millivolts = _latest_voltage(samples, before)
            if millivolts is None:
                millivolts = params.nominal_voltage_volts * 1000
            target_rate = Fraction(milliamps * millivolts, 1_000_000)
        else:
            target_rate = Fraction(0)

    has_telemetry = (
        attempt.evse_id is not None
        and pre is not None
        and pre.sampled_at >= logged_at - params.staleness
        and len(window) > 0
    )
    sent = attempt.reason_not_sent is None

    # ---- outcome
    response_seconds = None
    if not sent:
        outcome = "not_sent"
    elif not has_telemetry:
        outcome = "no_telemetry"
    else:
        assert pre is not None
        change = next((s for s in window if is_state_change(s, pre, params)), None)
        if change is not None:
            outcome = "effective"
            response_seconds = _seconds(change.sampled_at, logged_at)
        else:
            outcome = "no_response"

    # ---- compliance (reads the window whatever the state before; no staleness rule)
    compliance_seconds = None
    if not sent:
        compliance = "not_sent"
    elif target is None:
        compliance = "no_target"
    elif not any(s.is_enabled is not None for s in window):
        compliance = "unknown"
    else:
        complying = next((s for s in window if is_complying(s, target, params)), None)
        if complying is not None:
            compliance = "complied"
            compliance_seconds = _seconds(complying.sampled_at, logged_at)
        else:
            compliance = "not_complied"

    # ---- target_outcome
    target_response_seconds = None
    if not sent:
        target_outcome = "not_sent"
    elif target is None:
        target_outcome = "no_target"
    elif not has_telemetry:
        target_outcome = "no_telemetry"
    else:
        assert pre is not None
        # "matched" before: known to match (an unknown state before is not held); "departs":
        # a sample known not to match (an unknown one does not depart); held takes precedence
        # over reached. The SQL documents all three: is_pre_matching_target is
        # coalesce(..., false), count_departures counts "not is_matching_target", and the
        # case tests held before reached (CTEs attempts_with_window and classified).
        matching = [matches_target(s, target_is_charging, target_rate, params) for s in window]
        pre_matches = matches_target(pre, target_is_charging, target_rate, params) is True
        if pre_matches and not any(m is False for m in matching):
            target_outcome = "held"
        else:
            first = next((s for s, m in zip(window, matching, strict=True) if m is True), None)
            if first is not None:
                target_outcome = "reached"
                target_response_seconds = _seconds(first.sampled_at, logged_at)
            else:
                target_outcome = "not_reached"

    if compliance == "not_complied":
        failure_side: str | None = "charger"
    elif compliance == "complied" and target_outcome == "not_reached":
        failure_side = "vehicle"
    else:
        failure_side = None

    return ReferenceOutcome(
        outcome=outcome,
        response_seconds=response_seconds,
        compliance=compliance,
        compliance_seconds=compliance_seconds,
        target_outcome=target_outcome,
        target_response_seconds=target_response_seconds,
        failure_side=failure_side,
        evse_id=attempt.evse_id,
        device_type=attempt.device_type,
        pre=pre,
        target=target,
        target_is_charging=target_is_charging,
        target_charge_rate_watts=target_rate,
        window=window,
    )


def reference_outcomes(
    conn: duckdb.DuckDBPyConnection, params: ReferenceParams = DEFAULT_PARAMS
) -> dict[AttemptKey, ReferenceOutcome]:
    """Classify every dispatcher log of the warehouse from its raw tables.

    Args:
        conn: a connection to a warehouse holding the raw ``evenergy`` tables.
        params: the thresholds (the issue's by default).

    Returns:
        The measures per dispatcher-log key, one entry per deduplicated dispatcher log.
    """
    raw = load_raw(conn)
    return {attempt.key: classify(attempt, raw, params) for attempt in raw.attempts}
