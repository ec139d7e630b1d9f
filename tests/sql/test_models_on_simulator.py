"""The dispatch models on a realistic simulated fleet, loaded through the real pipeline.

Two independent checks of ``analytics.dispatch_effectiveness``:

- against :mod:`tests.sql.reference_outcomes`, a plain-Python implementation of the measures
  over the raw ``evenergy`` tables: every row must agree on every measure;
- against the simulator's ground truth (``World.dispatch_truth``): for sent EVSE commands that
  asked for a change, ``compliance`` must agree with whether the charger applied the command
  (the issue's acceptance figure, at least 98 %); the state-change ``outcome``'s agreement
  with ``applied`` is measured on the same set, reported, and held above a floor (it was
  76.1 / 74.3 / 64.6 % on seeds 7 / 11 / 2024: a drop means the measure changed).

Run with ``-s`` to see the agreement figures; they are also recorded as junit properties.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from pipelines.models import build_models
from pipelines.simulator import SimulatorConfig, SimulatorServer
from tests.pipelines.conftest import START, Harness
from tests.sql.reference_outcomes import (
    COMPARED_COLUMNS,
    DEFAULT_PARAMS,
    AttemptKey,
    ReferenceOutcome,
    is_complying,
    reference_outcomes,
)

SEEDS = (7, 11, 2024)
N_EVSES = 30
DAYS = 4.0
FIRST_RUN = START + timedelta(days=2, hours=1)
NOW = START + timedelta(days=3)
KEY = ("charging_sub_session_id", "internal_command_id", "logged_at")
MIN_COMPLIANCE_AGREEMENT = 0.98
# the state-change outcome's agreement, per seed: 1.5 points under what it measured
MIN_OUTCOME_AGREEMENT = {7: 0.746, 11: 0.728, 2024: 0.631}


@dataclass
class Fleet:
    """A simulated fleet loaded by the pipeline, with the models built on it."""

    seed: int
    now: datetime
    truth: list[dict[str, Any]]
    model_rows: list[dict[str, Any]]
    reference: dict[AttemptKey, ReferenceOutcome]
    uploads: dict[str, list[tuple[datetime, datetime]]]
    """Per EVSE, every status log of the whole simulated period: (sampled_at, logged_at)."""
    grid: dict[tuple[str, Any], int]
    """analytics.evse_reporting_health: (evse_id, date) -> count_samples."""

    def window_settled(self, evse_id: str, logged_at: datetime, window: timedelta) -> bool:
        """Whether every sample of (logged_at, logged_at + window] was uploaded by ``now``."""
        return all(
            uploaded <= self.now
            for sampled, uploaded in self.uploads.get(evse_id, [])
            if logged_at < sampled <= logged_at + window
        )

    def rows_by_key(self) -> dict[AttemptKey, dict[str, Any]]:
        """The model's rows by key (the key is asserted unique elsewhere)."""
        return {tuple(row[c] for c in KEY): row for row in self.model_rows}


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    """30 chargers over 3 days of a 4-day world, loaded over HTTP in two nightly runs, the
    models built and checked."""
    seed = request.param
    config = SimulatorConfig(
        seed=seed,
        n_evses=N_EVSES,
        start=START,
        days=DAYS,
        now=FIRST_RUN,
        rate_limit=None,
        offline_evses=1,  # one EVSE silent for a whole UTC day: a zero row of the grid
    )
    with SimulatorServer(config) as simulator:
        harness = Harness(simulator, tmp_path_factory.mktemp(f"fleet{seed}"))
        # two nightly runs: the second merges late uploads, ended sub-sessions and re-reads
        for moment in (FIRST_RUN, NOW):
            simulator.clock.set(moment)
            outcome = harness.run()
            assert not outcome.report.partial, outcome.report.errors
        now = simulator.clock.now()
        world = simulator.world
        truth = world.dispatch_truth(now)
        uploads = {
            evse["id"]: [
                (datetime.fromisoformat(r["sampled_at"]), datetime.fromisoformat(r["logged_at"]))
                for r in world.status_logs(evse["id"], config.horizon)
            ]
            for evse in world.evses(config.horizon)
        }
    conn = duckdb.connect(str(harness.database))
    try:
        build_models(conn)
        result = conn.execute("select * from analytics.dispatch_effectiveness")
        names = [d[0] for d in result.description]
        model_rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        reference = reference_outcomes(conn, DEFAULT_PARAMS)
        grid = {
            (evse_id, day): count
            for evse_id, day, count in conn.execute(
                "select evse_id, date, count_samples from analytics.evse_reporting_health"
            ).fetchall()
        }
        yield Fleet(seed, now, truth, model_rows, reference, uploads, grid)
    finally:
        conn.close()


# ---- the fleet x day grid against the simulator ----------------------------------------------


def test_the_fleet_grid_has_every_evse_day_from_first_sample_to_the_last_loaded_day(
    fleet: Fleet,
) -> None:
    """One row per EVSE and UTC day from its first status log to the newest loaded day, with
    the day's sample count, zero on a silent day: computed here from the simulator's own
    record of what was uploaded by the last run."""
    visible = {
        evse_id: [sampled for sampled, uploaded in rows if uploaded <= fleet.now]
        for evse_id, rows in fleet.uploads.items()
    }
    visible = {evse_id: samples for evse_id, samples in visible.items() if samples}
    last_day = max(max(samples) for samples in visible.values()).astimezone(UTC).date()
    expected: dict[tuple[str, Any], int] = {}
    for evse_id, samples in visible.items():
        days = Counter(sample.astimezone(UTC).date() for sample in samples)
        day = min(days)
        while day <= last_day:
            expected[(evse_id, day)] = days.get(day, 0)
            day += timedelta(days=1)
    assert fleet.grid == expected
    first_days = {min(s).astimezone(UTC).date() for s in visible.values()}
    assert len(first_days) > 1 or fleet.seed != 7  # seed 7 has an EVSE joining part-way
    silent = [key for key, count in expected.items() if count == 0]
    assert silent, "the offline EVSE's silent day"
    assert all(fleet.grid.get(key) == 0 for key in silent)


# ---- the models against the reference implementation ----------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equal, or numbers within a microsecond (the SQL's seconds are doubles)."""
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)
    return a == b


def _describe(reference: ReferenceOutcome) -> str:
    """The reference's measures and what it derived them from, for a failure message."""
    rate = reference.target_charge_rate_watts
    window = "\n".join(f"        {s}" for s in reference.window)
    return (
        f"    reference: {reference.compared()}\n"
        f"    evse {reference.evse_id} ({reference.device_type}); pre {reference.pre}\n"
        f"    target {reference.target}, charging {reference.target_is_charging}, "
        f"rate {None if rate is None else float(rate)}\n"
        f"    window samples:\n{window}"
    )


@pytest.mark.slow
def test_every_dispatcher_log_has_exactly_one_row(fleet: Fleet) -> None:
    keys = [tuple(row[c] for c in KEY) for row in fleet.model_rows]
    duplicated = [k for k, n in Counter(keys).items() if n > 1]
    assert not duplicated, f"keys with more than one row: {duplicated[:5]}"

    raw = set(fleet.reference)  # the raw dispatcher logs, deduplicated by key
    assert set(keys) == raw, (
        f"missing: {sorted(raw - set(keys), key=repr)[:5]}, "
        f"extra: {sorted(set(keys) - raw, key=repr)[:5]}"
    )
    exposed = {
        (
            t["charging_sub_session_id"],
            t["internal_command_id"],
            datetime.fromisoformat(t["logged_at"]),
        )
        for t in fleet.truth
    }
    assert set(keys) == exposed, "the model's rows are not the simulator's dispatcher logs"


def _differences(
    model_rows: list[dict[str, Any]], reference: dict[AttemptKey, ReferenceOutcome]
) -> list[str]:
    """One description per dispatcher log whose model row disagrees with the reference."""
    rows = {tuple(row[c] for c in KEY): row for row in model_rows}
    differing = []
    for key, expected in sorted(reference.items(), key=lambda item: repr(item[0])):
        row = rows.get(key)
        if row is None:
            differing.append(f"{key}: no model row\n{_describe(expected)}")
            continue
        columns = [c for c in COMPARED_COLUMNS if not _same(row[c], expected.compared()[c])]
        if columns:
            sql = {c: row[c] for c in COMPARED_COLUMNS}
            differing.append(
                f"{key}: differs on {columns}\n    sql:       {sql}\n{_describe(expected)}"
            )
    return differing


def test_reference_agrees_with_the_models_on_the_hand_built_rows(
    built_shared: duckdb.DuckDBPyConnection,
) -> None:
    """The reference itself, on the edge cases of tests/sql/conftest.py (duplicate loads,
    boundaries exactly at W, S, R and T, null samples, retried commands)."""
    result = built_shared.execute("select * from analytics.dispatch_effectiveness")
    names = [d[0] for d in result.description]
    model_rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    reference = reference_outcomes(built_shared)
    assert len(reference) == len(model_rows) == 21
    differing = _differences(model_rows, reference)
    assert not differing, "\n".join(differing[:5])


@pytest.mark.slow
def test_measures_match_the_reference_implementation(fleet: Fleet) -> None:
    differing = _differences(fleet.model_rows, fleet.reference)
    # the classification covers every kind of attempt, or the comparison proves little
    outcomes = Counter(r.outcome for r in fleet.reference.values())
    compliance = Counter(r.compliance for r in fleet.reference.values())
    targets = Counter(r.target_outcome for r in fleet.reference.values())
    print(
        f"\nseed {fleet.seed}: {len(fleet.reference)} attempts; {dict(outcomes)}; "
        f"{dict(compliance)}; {dict(targets)}"
    )
    assert not differing, (
        f"{len(differing)} of {len(fleet.reference)} rows differ from the reference; first ones:\n"
        + "\n".join(differing[:5])
    )
    assert set(outcomes) == {"not_sent", "no_telemetry", "effective", "no_response"}
    assert set(compliance) == {"not_sent", "no_target", "unknown", "complied", "not_complied"}
    assert set(targets) >= {
        "not_sent",
        "no_target",
        "no_telemetry",
        "held",
        "reached",
        "not_reached",
    }


# ---- the models against the simulator's ground truth ------------------------------------------


@dataclass
class TruthAgreement:
    """How the model's measures agree with the simulator's ``applied`` flag.

    Attributes:
        commands: size of the comparison set.
        compliance_agreeing: commands where ``compliance == 'complied'`` iff applied.
        outcome_agreeing: commands where ``outcome == 'effective'`` iff applied.
        applied_after_window: commands of the set applied, but later than W (counted as not
            applied).
        excluded: why other sent EVSE-bound commands were left out, with counts.
        outcome_matrix: (outcome, applied) -> count over the comparison set.
        compliance_disagreements: the keys where compliance disagrees, for the report.
    """

    commands: int = 0
    compliance_agreeing: int = 0
    outcome_agreeing: int = 0
    applied_after_window: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    outcome_matrix: Counter[tuple[str, bool]] = field(default_factory=Counter)
    compliance_disagreements: list[tuple[AttemptKey, str, dict[str, Any]]] = field(
        default_factory=list
    )

    @property
    def compliance_rate(self) -> float:
        """Share of the set where compliance agrees with applied."""
        return self.compliance_agreeing / self.commands if self.commands else math.nan

    @property
    def outcome_rate(self) -> float:
        """Share of the set where the state-change outcome agrees with applied."""
        return self.outcome_agreeing / self.commands if self.commands else math.nan

    def summary(self) -> str:
        """One line with both figures and the size of the set."""
        return (
            f"compliance agrees with applied for {self.compliance_rate:.2%} and outcome "
            f"(effective <=> applied) for {self.outcome_rate:.2%} of {self.commands} sent, "
            f"non-no-op EVSE commands with in-window is_enabled telemetry "
            f"({self.applied_after_window} applied only after W) "
            f"(excluded: {dict(self.excluded)}; outcome x applied: {dict(self.outcome_matrix)})"
        )


def truth_agreement(fleet: Fleet) -> TruthAgreement:
    """Compare ``compliance`` and ``outcome`` with the simulator's ``applied`` flag.

    The comparison set: sent (``reason_not_sent`` null), EVSE-bound attempts whose target
    differs from the charger's configured state just before, whose response window is
    settled, and whose window holds telemetry reporting ``is_enabled`` (``compliance`` is
    complied or not_complied, not unknown: legacy integrations never report it).

    Differs from the state before: both the truth's ``noop`` is false (the target differs from
    the configured state the simulator had when the dispatch was made) and the latest status
    log at or before ``logged_at`` does not already comply with the target (rare: it happens
    when an earlier command, applied up to 6 min after it, was still pending; attempts of one
    sub-session are 20 min apart, but a new sub-session's first one can follow the previous
    sub-session's last within minutes).

    Settled: every status log the charger will ever report with ``sampled_at`` in the window
    was uploaded by ``now`` (the simulator's truth, read to its horizon), so a window cut short
    by the end of the load is not counted against the model; without this, commands made in
    the last minutes before ``now``, or on a batch integration in the last hours, are applied
    but their loaded window shows only the state before.

    ``applied`` is compared as "applied within W of logged_at" (``applied_at <= logged_at +
    W``), what the models can observe. In the simulator an EVSE applies a command 20 s - 6 min
    after it or never, so this equals ``applied``; the exceptions are counted anyway
    (``applied_after_window`` stays 0 unless the simulator changes).

    Args:
        fleet: the loaded fleet.

    Returns:
        The figures.
    """
    window = DEFAULT_PARAMS.response_window
    rows = fleet.rows_by_key()
    agreement = TruthAgreement()
    for truth in fleet.truth:
        if not truth["sent"] or truth["device_type"] != "EVSE":
            continue
        logged_at = datetime.fromisoformat(truth["logged_at"])
        key = (truth["charging_sub_session_id"], truth["internal_command_id"], logged_at)
        row = rows[key]
        reference = fleet.reference[key]
        pre, target = reference.pre, reference.target
        if truth["noop"]:
            agreement.excluded["no-op"] += 1
        elif pre is not None and target is not None and is_complying(pre, target, DEFAULT_PARAMS):
            agreement.excluded["state before already at target"] += 1
        elif not fleet.window_settled(truth["evse_id"], logged_at, window):
            agreement.excluded["window not settled"] += 1
        elif row["compliance"] not in ("complied", "not_complied"):
            agreement.excluded[f"compliance {row['compliance']}"] += 1
        else:
            applied_at = truth["applied_at"]
            applied = bool(truth["applied"]) and (
                applied_at is not None and datetime.fromisoformat(applied_at) <= logged_at + window
            )
            agreement.applied_after_window += bool(truth["applied"]) and not applied
            agreement.commands += 1
            complied = row["compliance"] == "complied"
            agreement.compliance_agreeing += complied == applied
            agreement.outcome_agreeing += (row["outcome"] == "effective") == applied
            agreement.outcome_matrix[(row["outcome"], applied)] += 1
            if complied != applied:
                agreement.compliance_disagreements.append((key, row["compliance"], truth))
    return agreement


@pytest.mark.slow
def test_compliance_agrees_with_the_simulators_truth(
    fleet: Fleet, record_property: Callable[[str, object], None]
) -> None:
    agreement = truth_agreement(fleet)
    print(f"\nseed {fleet.seed}: {agreement.summary()}")
    for key, compliance, truth in agreement.compliance_disagreements[:5]:
        print(f"    disagreement {key}: {compliance}, truth {truth}")
    record_property(f"seed{fleet.seed}_commands", agreement.commands)
    record_property(f"seed{fleet.seed}_compliance_agreement", round(agreement.compliance_rate, 4))
    record_property(f"seed{fleet.seed}_outcome_agreement", round(agreement.outcome_rate, 4))

    assert agreement.commands >= 300, agreement.summary()
    assert agreement.compliance_rate >= MIN_COMPLIANCE_AGREEMENT, agreement.summary()
    assert agreement.outcome_rate >= MIN_OUTCOME_AGREEMENT[fleet.seed], agreement.summary()
