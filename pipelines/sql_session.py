"""`evenergy-etl sql`: a read-only SQL session on the published copy.

Analysts never open the working warehouse (a session there would block the nightly load);
they get the published copy, read-only. With the `duckdb` command-line shell installed (the
`duckdb-cli` package, in this project's dev tools) it runs that; otherwise a minimal
line-based shell on DuckDB's Python module does: statements end with `;`, `.quit` or end of
input leaves.

On a lake there is no copy: the session attaches the lake read-only and reads its last
committed snapshot (the models as last published). It always uses the Python shell there: the
packaged extensions match the Python module's DuckDB, not necessarily the shell's, and the
ATTACH of a Postgres catalog carries its password, which a shell's arguments would show in
`ps`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines import exit_codes
from pipelines.errors import RunFailed
from pipelines.lake import Lake, Warehouse, connect_warehouse
from pipelines.logs import emit
from pipelines.publish import published_path

CLI = "duckdb"
PROMPT, CONTINUATION = "evenergy> ", "     ...> "
_QUIT = {".quit", ".exit", "\\q"}


def open_session(database: Warehouse, query: str | None = None, use_cli: bool = True) -> int:
    """Run the SQL session (or one query) on the published copy of `database`, or on the lake.

    Args:
        database: the working warehouse, or the lake.
        query: run this one query and return, instead of a session.
        use_cli: use the `duckdb` shell when it is installed.

    Returns:
        The exit code: 0, or 1 when the query (or the shell) failed.

    Raises:
        RunFailed: when there is no published copy yet.
    """
    if isinstance(database, Lake):
        return _python_session(database, query)
    published = published_path(database)
    if not published.is_file():
        raise RunFailed(
            f"no published copy at {published} yet: run `evenergy-etl run` (or `models`) first"
        )
    shell = find_cli() if use_cli else None
    if shell is not None:
        command = [shell, "-readonly", str(published)]
        return subprocess.run([*command, "-c", query] if query else command, check=False).returncode
    return _python_session(published, query)


def _python_session(source: Warehouse, query: str | None) -> int:
    with connect_warehouse(source, read_only=True) as conn:
        if query is not None:
            return exit_codes.OK if run_statement(conn, query) else exit_codes.FAILED
        emit(f"read-only SQL on {source}; end statements with ';', .quit leaves")
        failed = [not run_statement(conn, s) for s in statements(_prompted_lines())]
    # a script piped in fails when a statement did; a person at the prompt saw each error
    return exit_codes.FAILED if any(failed) and not sys.stdin.isatty() else exit_codes.OK


def find_cli() -> str | None:
    """The `duckdb` shell: on PATH, or beside this Python (the project's own environment)."""
    beside = Path(sys.executable).with_name(CLI)
    return shutil.which(CLI) or (str(beside) if beside.is_file() else None)


def run_statement(conn: duckdb.DuckDBPyConnection, statement: str) -> bool:
    """Run one statement and print its result as a table; False (and one line) on an error."""
    try:
        relation = conn.sql(statement)
        if relation is not None:
            emit(str(relation).rstrip("\n"))
    except duckdb.Error as err:
        emit(f"error: {str(err).splitlines()[0]}")
        return False
    return True


def statements(lines: Iterable[str]) -> Iterable[str]:
    """Complete statements from input lines: up to each `;`; stops at `.quit`."""
    pending: list[str] = []
    for line in lines:
        if not pending and line.strip() in _QUIT:
            return
        pending.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(pending).strip()
            pending = []
            if statement.rstrip(";").strip():
                yield statement
    if "\n".join(pending).strip():
        yield "\n".join(pending)


def _prompted_lines() -> Iterable[str]:
    interactive = sys.stdin.isatty()
    first = True
    while True:
        try:
            line = input(PROMPT if first else CONTINUATION) if interactive else input()
        except EOFError:
            return
        first = line.rstrip().endswith(";") or not line.strip()
        yield line
