"""Fault injection over real HTTP: whatever the simulator throws at the pipeline, the
warehouse ends up equal, row for row, to a fault-free run's. No row lost, none doubled."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from pipelines.evenergy.client import RetryPolicy
from pipelines.simulator import SimulatorServer
from pipelines.simulator.http.problems import ApiError
from tests.pipelines.conftest import Harness, simulator_config
from tests.pipelines.warehouse import differences

# fault switches, and source settings that make the fault bite (e.g. a short timeout)
FAULTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "5xx answers": ({"error_5xx_rate": 0.3}, {}),
    "truncated JSON": ({"malformed_rate": 0.2, "malformed_kinds": ["not_json"]}, {}),
    "object instead of a list": ({"malformed_rate": 0.2, "malformed_kinds": ["not_list"]}, {}),
    "rows missing key fields": ({"malformed_rate": 0.3, "malformed_kinds": ["missing_key"]}, {}),
    "unparsable timestamps": ({"malformed_rate": 0.3, "malformed_kinds": ["bad_timestamp"]}, {}),
    "slow answers past the timeout": (
        {"slow_rate": 0.2, "slow_seconds": 1.5},
        {"request_timeout_seconds": 0.5},
    ),
    "dropped connections": ({"drop_rate": 0.2}, {}),
    "next link loops": ({"link_loop_rate": 0.3}, {}),
    # announced for an hour, so the client never replaces them early: only 401s tell it
    "tokens expiring every second": (
        {
            "token_lifetime_seconds": 1.0,
            "token_expires_in_seconds": 3600,
            "slow_rate": 0.1,
            "slow_seconds": 0.3,
        },
        {},
    ),
    "tiny rate limit (429s)": (
        {"rate_limit": 40, "rate_window_seconds": 1.0},
        {"rate_window": "1s"},
    ),
}
MAX_RUNS = 6
BACKOFF_SCALE = 0.1


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's backoff with a tenth of its base delay. Its full jitter already draws each
    wait anywhere from 0 to the ceiling, so this shortens the waits and changes nothing else:
    the simulator draws each fault per request, not per second, and every failed request is
    still retried, up to the same number of attempts. The waits were most of this module's
    time (its 80 s took 36 s of CPU)."""
    delay = RetryPolicy.delay

    def shorter(policy: RetryPolicy, attempt: int) -> float:
        base = policy.base_delay_seconds * BACKOFF_SCALE
        return delay(dataclasses.replace(policy, base_delay_seconds=base), attempt)

    monkeypatch.setattr(RetryPolicy, "delay", shorter)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_warehouse_equals_the_fault_free_run(fault: str, clean_warehouse: Path, tmp_path: Path):
    switches, settings = FAULTS[fault]
    with SimulatorServer(simulator_config()) as simulator:
        simulator.faults.configure(fault_seed=11, max_faults=40, **switches)
        harness = Harness(simulator, tmp_path)
        rejected = _count_rejected_tokens(simulator)
        runs = []
        for _ in range(MAX_RUNS):
            outcome = harness.run(**settings)
            runs.append(outcome)
            if not outcome.report.partial and _faults_spent(simulator, switches):
                break
        injected = dict(simulator.faults.injected)

    if "token_expires_in_seconds" in switches:
        # the API rejected tokens the client held valid; each 401 was met by a refresh
        assert any(e.status == 401 for e in rejected), f"{fault}: the API never answered 401"
        assert not runs[0].report.partial, runs[0].report.errors[:2]
    limited = any(r.budget.rate_limited or r.budget.reserve_waits for r in runs)
    assert injected or limited, f"{fault}: nothing injected"
    assert differences(harness.database, clean_warehouse) == {}, (
        f"{fault}: warehouse differs after {len(runs)} runs; injected {injected}; "
        f"errors {[r.report.errors[:2] for r in runs]}"
    )


def _count_rejected_tokens(simulator: SimulatorServer) -> list[ApiError]:
    """The 401s the simulator answers from now on (its token check, wrapped to record them)."""
    rejected: list[ApiError] = []
    check = simulator.tokens.check

    def recording_check(authorization: str | None, scope: str | None) -> None:
        try:
            check(authorization, scope)
        except ApiError as error:
            rejected.append(error)
            raise

    simulator.tokens.check = recording_check
    return rejected


def _faults_spent(simulator: SimulatorServer, switches: dict[str, Any]) -> bool:
    """Rate-limit and token switches never run out; the others stop at max_faults."""
    if "rate_limit" in switches or "token_lifetime_seconds" in switches:
        return True
    return sum(simulator.faults.injected.values()) >= 40
