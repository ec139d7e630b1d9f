"""``evenergy-etl docs``: dbt's documentation of the models as one self-contained HTML file.

``dbt docs generate --static`` renders the project (every model, column, test and source with
its description, and the lineage graph) and the warehouse's catalog (column types, row
counts) into a single HTML file with its data inlined: it opens from disk, offline, with no
server.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from pipelines import transform
from pipelines.errors import RunFailed
from pipelines.lake import Warehouse

logger = logging.getLogger(__name__)

DOCS_FILE = "evenergy-models.html"


def write_docs(to: Path, database: Warehouse | None = None) -> Path:
    """Write the models' documentation into the directory ``to``.

    Args:
        to: the output directory (created when missing).
        database: the warehouse whose catalog the docs describe; default: the configured one
            (``[destination.duckdb] credentials``).

    Returns:
        The HTML file written, ``to/evenergy-models.html``.

    Raises:
        RunFailed: when dbt cannot generate the docs.
    """
    if database is None:
        from pipelines.evenergy_pipeline import make_pipeline
        from pipelines.nightly import warehouse_of

        database = warehouse_of(make_pipeline())
    from pipelines.lake import connect_warehouse
    from pipelines.warehouse import ensure_tables

    with connect_warehouse(database) as conn:
        ensure_tables(conn)  # the sources must exist for the catalog
    try:
        # no compile: the incremental models query the build state when compiled; the
        # lineage and descriptions come from parsing alone
        result = transform.invoke(database, "docs", "generate", "--static", "--no-compile")
    except transform.DbtFailed as err:
        raise RunFailed(f"{err}; check that the warehouse {database} is readable") from err
    if not result.success:
        raise RunFailed(
            f"dbt docs generate failed for {database}; see its log in "
            f"{transform.work_dir(database) / 'logs'}"
        )
    static = transform.work_dir(database) / "target" / "static_index.html"
    to.mkdir(parents=True, exist_ok=True)
    target = to / DOCS_FILE
    shutil.copyfile(static, target)
    logger.info("docs: %s (%d bytes)", target, target.stat().st_size)
    return target
