"""The lake holds what the DuckDB file holds, row for row, from the same simulator: after a
first run, an incremental run that brings late uploads, and a run with nothing new; with a
SQLite catalog and with a Postgres catalog."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipelines.simulator import SimulatorServer
from pipelines.warehouse import check_schema
from tests.lake.conftest import LakeHarness
from tests.lake.rows import file_rows, raw_rows
from tests.pipelines.conftest import Harness
from tests.pipelines.test_evenergy_pipeline import _late_rows, _moment_with_late_rows

GAP = timedelta(hours=20)


def test_lake_equals_the_file_after_first_incremental_and_noop_runs(
    simulator: SimulatorServer, catalog: str, tmp_path: Path
):
    file_side = Harness(simulator, tmp_path / "file")
    lake_side = LakeHarness(simulator, tmp_path / "lake", catalog)
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

    with lake_side.connect() as conn:
        conn.execute("set timezone = 'UTC'")
        status = set(
            conn.execute("select evse_id, sampled_at from evenergy.status_logs").fetchall()
        )
    assert late and late <= status, "the late uploads should be in the lake"
