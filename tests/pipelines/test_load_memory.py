"""The nightly load in bounded memory (issue 15): a night merges into a history that needed
more than DuckDB's cap with dlt's own dedupe, and a load that fails loses nothing."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

import pipelines.evenergy as source_module
import pipelines.evenergy_pipeline as runner_module
from pipelines.errors import RunFailed
from pipelines.evenergy_pipeline import load_evenergy, make_pipeline
from pipelines.simulator import SimulatorServer
from tests.pipelines.conftest import START, Harness, simulator_config
from tests.pipelines.expected import assert_warehouse_matches, expected_rows, warehouse_rows

# A cap below the default: the night below (about 140k status logs) needs more than this with
# dlt's ROW_NUMBER() dedupe of its staging table and DuckDB's default threads, and less
# than half of it without them.
SMALL_CAP = "32MB"


@pytest.fixture(scope="module")
def week_old(tmp_path_factory: pytest.TempPathFactory):
    """A simulator with a day of history for 70 EVSEs, loaded, then the clock 3 days on: a
    night of about 60k status logs."""
    config = simulator_config(n_evses=70, days=5.0, now=START + timedelta(days=1))
    with SimulatorServer(config) as simulator:
        loaded = Harness(simulator, tmp_path_factory.mktemp("week-old"))
        with pytest.MonkeyPatch.context() as old_version:
            _old_load(old_version)  # the history as the version before issue 15 loaded it
            outcome = loaded.run()
        assert not outcome.report.partial
        simulator.clock.advance(timedelta(days=3))
        yield loaded


def _copy(harness: Harness, to: Path) -> Harness:
    shutil.copytree(harness.workdir, to)
    return Harness(harness.simulator, to)


def _old_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The load as it was before issue 15: dlt's own dedupe of the staging table, DuckDB's
    default threads and insertion order."""
    old_merge = {key: value for key, value in source_module.MERGE.items() if key != "deduplicated"}
    monkeypatch.setattr(source_module, "MERGE", old_merge)
    monkeypatch.setattr(runner_module, "LOAD_DUCKDB_SETTINGS", {})


def _completed_loads(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as conn:
        (count,) = conn.execute(
            "select count(*) from evenergy._dlt_loads where status = 0"
        ).fetchone() or (0,)
    return int(count)


def _night(harness: Harness, monkeypatch: pytest.MonkeyPatch, cap: str):
    monkeypatch.setenv("DESTINATION__DUCKDB__MEMORY_LIMIT", cap)
    return harness.run()


@pytest.fixture(scope="module")
def failed(week_old: Harness, tmp_path_factory: pytest.TempPathFactory):
    """The night, merged the way dlt does by default, under the cap, on a copy of `week_old`:
    the run's one line and the completed loads before it, and its files, the start of the
    tests of what follows such a failure (each on a copy: the run costs seconds)."""
    night = _copy(week_old, tmp_path_factory.mktemp("old") / "night")
    completed_before = _completed_loads(night.database)
    with pytest.MonkeyPatch.context() as old_version:
        _old_load(old_version)
        with pytest.raises(RunFailed) as failure:
            _night(night, old_version, SMALL_CAP)
    return night, str(failure.value), completed_before


def test_the_night_needed_more_than_the_cap_with_dlts_own_dedupe(failed):
    """The baseline: the same night, merged the way dlt does by default, fails under the cap
    (so the next test's night really is one the old load could not merge)."""
    _, message, _ = failed
    assert "memory limit" in message, message


def test_a_night_merges_under_the_cap_and_loads_exactly_the_simulators_rows(
    week_old, tmp_path, monkeypatch
):
    night = _copy(week_old, tmp_path / "new")
    outcome = _night(night, monkeypatch, SMALL_CAP)
    assert not outcome.report.partial
    assert outcome.report.rows["status_logs"] > 50_000  # a real night, not an empty one
    assert_warehouse_matches(night.database, expected_rows(night.simulator, START))


def test_a_failed_load_then_a_lost_working_directory_loses_and_duplicates_nothing(failed, tmp_path):
    """A load job fails part-way (DuckDB out of memory in the status-log merge, after other
    tables' jobs completed); dlt's working directory is then deleted. The next run restores
    the cursors from the last completed load and reads the night again: every row, once."""
    after_failure, message, completed_before = failed
    assert "memory limit" in message, message
    night = _copy(after_failure, tmp_path / "failed")
    # The failed package is not a completed load. (Whether its state row landed before the
    # failing job depends on the order dlt lists the package's files in; either way only
    # completed loads' state is restored.)
    assert _completed_loads(night.database) == completed_before
    shutil.rmtree(night.pipelines_dir)
    outcome = night.run()
    assert not outcome.report.partial
    assert_warehouse_matches(night.database, expected_rows(night.simulator, START))
    rows = warehouse_rows(night.database)
    assert all(len(set(table)) == len(table) for table in rows.values())


def test_a_package_that_fails_again_stops_with_one_line_then_loads_once_fixed(
    failed, tmp_path, monkeypatch
):
    """The failed package is kept; a rerun under the same cause fails the same way with the
    same one line (no new extraction); once the limit is raised it loads and the run goes on."""
    after_failure, message, _ = failed
    night = _copy(after_failure, tmp_path / "wedged")
    _old_load(monkeypatch)
    messages = [message]
    with pytest.raises(RunFailed) as failure:
        _night(night, monkeypatch, SMALL_CAP)
    messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "\n" not in messages[0] and "DESTINATION__DUCKDB__MEMORY_LIMIT" in messages[0]
    assert make_pipeline(str(night.pipelines_dir), str(night.database)).has_pending_data
    monkeypatch.setenv("DESTINATION__DUCKDB__MEMORY_LIMIT", "512MB")
    pipeline = make_pipeline(str(night.pipelines_dir), str(night.database))
    outcome = load_evenergy(pipeline, **night.source_args())
    assert not outcome.report.partial
    assert not pipeline.has_pending_data
    assert_warehouse_matches(night.database, expected_rows(night.simulator, START))
