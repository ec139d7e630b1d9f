"""The lake holds what the DuckDB file holds, row for row, from the same simulator: after a
first run, an incremental run that brings late uploads, and a run with nothing new; with a
SQLite catalog and with a Postgres catalog. With the Postgres catalog (the shared warehouse
the issue is about) the models are built and compared too, after the first and the
incremental run (dbt's SQL does not depend on the catalog; two builds a stage cost ~25 s, and
after the no-op run they would only repeat the incremental build with nothing new): a reader
during each lake build sees the models as before or as published, never a mix, and a build
that then fails its tests stays unseen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes, lake
from pipelines.export import export_warehouse
from pipelines.lake_models import published_snapshot
from pipelines.nightly import build_and_export
from pipelines.publish import published_path
from pipelines.simulator import SimulatorServer
from pipelines.status import status_report
from pipelines.warehouse import check_schema
from tests.lake import readers
from tests.lake.conftest import LakeHarness
from tests.lake.rows import file_rows, model_rows, raw_rows
from tests.pipelines.conftest import Harness
from tests.pipelines.test_evenergy_pipeline import _late_rows, _moment_with_late_rows

GAP = timedelta(hours=20)


@pytest.mark.slow
def test_lake_equals_the_file_after_first_incremental_and_noop_runs(
    simulator: SimulatorServer, catalog: str, tmp_path: Path
):
    file_side = Harness(simulator, tmp_path / "file")
    lake_side = LakeHarness(simulator, tmp_path / "lake", catalog)
    with_models = catalog.startswith("postgres")
    first = _moment_with_late_rows(file_side, GAP)
    late = _late_rows(file_side, first, first + GAP)
    simulator.clock.set(first)

    for stage in ("first run", "incremental run with late uploads", "no-op run"):
        if stage.startswith("incremental"):
            simulator.clock.set(first + GAP)
        assert not file_side.run().report.partial
        outcome = lake_side.run()
        assert not outcome.report.partial, outcome.report.errors

        want = file_rows(file_side.database)
        with lake_side.connect() as conn:
            got = raw_rows(conn)
            assert check_schema(conn) is None
        assert all(want.values()), f"{stage}: the file run loaded an empty table"
        for table in want:
            assert got[table] == want[table], (
                f"{stage}: {table} differs: lake {len(got[table])} rows, file {len(want[table])}"
            )
        if with_models and not stage.startswith("no-op"):
            _assert_models_equal(file_side, lake_side, stage)

    with lake_side.connect() as conn:
        conn.execute("set timezone = 'UTC'")
        status = set(
            conn.execute("select evse_id, sampled_at from evenergy.status_logs").fetchall()
        )
    assert late and late <= status, "the late uploads should be in the lake"
    if with_models:
        _assert_readers_read_the_published_models(file_side, lake_side, tmp_path)
        _assert_a_failing_build_stays_unseen(lake_side)


def _assert_models_equal(file_side: Harness, lake_side: LakeHarness, stage: str) -> None:
    """Build (incrementally after the first stage) and publish on both; the models the
    readers see are equal. A reader of the lake during its build and publish sees the
    models as they were or as published, never a mix (the first publish: none, then all)."""
    assert build_and_export(file_side.database, None) == exit_codes.OK, stage
    with lake_side.connect() as conn:
        before = readers.fingerprint(conn)
    with readers.reading(lake_side.lake()) as seen:
        assert build_and_export(lake_side.lake(), None) == exit_codes.OK, stage
    with lake_side.connect() as conn:
        after = readers.fingerprint(conn)
    assert len(seen()) > 5, f"{stage}: only {len(seen())} reads during the build"
    mixed = {str(s) for s in seen() if s not in (before, after)}
    assert mixed == set(), f"{stage}: a reader saw a state between two publishes"
    with duckdb.connect(str(published_path(file_side.database)), read_only=True) as conn:
        want = model_rows(conn)
    with lake_side.connect() as conn:
        got = model_rows(conn)
    assert len(want) > 10 and want["dispatch_effectiveness"], f"{stage}: no models built"
    assert sorted(got) == sorted(want), f"{stage}: other models on the lake"
    for model in want:
        assert got[model] == want[model], (
            f"{stage}: {model} differs: lake {len(got[model])} rows, file {len(want[model])}"
        )


def _assert_readers_read_the_published_models(
    file_side: Harness, lake_side: LakeHarness, tmp_path: Path
) -> None:
    """The export and `status` read the lake's published views as they read the file's
    published copy."""
    from_file = export_warehouse(file_side.database, tmp_path / "file-export")
    from_lake = export_warehouse(lake_side.lake(), tmp_path / "lake-export")
    assert [(t.name, t.rows) for t in from_lake] == [(t.name, t.rows) for t in from_file]
    report = status_report(lake_side.lake())
    with lake_side.connect() as conn:
        published = published_snapshot(conn)
        rows = conn.execute("select count(*) from evenergy.status_logs").fetchall()[0][0]
    assert published is not None and report["published"]["snapshot"] == published
    assert report["tables"]["status_logs"]["rows"] == rows > 0


def _assert_a_failing_build_stays_unseen(lake_side: LakeHarness) -> None:
    """An EVSE deleted from the raw table: the rebuilt dispatch_effectiveness no longer finds
    it and its relationships test fails (after several models were rebuilt). A reader during
    the build, and after it, sees the models as last published."""
    the_lake = lake_side.lake()
    with lake_side.connect() as conn:
        before = readers.fingerprint(conn)
        built_before = readers.fingerprint(conn, "analytics__build")
    with lake.connect(the_lake, read_only=False) as conn:
        conn.execute(
            "delete from evenergy.evses where id = (select evse_id from "
            "analytics.dispatch_effectiveness where evse_id is not null limit 1)"
        )
    with readers.reading(the_lake) as seen:
        code = build_and_export(the_lake, None, full_refresh=True)
    assert code == exit_codes.CHECKS_FAILED
    with lake_side.connect() as conn:
        after = readers.fingerprint(conn)
        built_after = readers.fingerprint(conn, "analytics__build")
    assert built_after != built_before, "the failing build should have rewritten models"
    assert len(seen()) > 5, f"only {len(seen())} reads during the build"
    assert {str(s) for s in seen() if s != before} == set(), "a reader saw other models"
    assert after == before
