"""Failures the command line reports as one line with an exit code, never a traceback.

Raise `RunFailed` (exit 1) or `SettingError` (exit 2) with a message that says what went
wrong and what to do about it; `pipelines.cli` prints the message and returns the code.

Everything else that can escape a command (dlt's wrappers, DuckDB's and the operating
system's errors) goes through `explain`, which turns it into one of the two: exit 2 when
the operator must change a setting or an argument, exit 1 when something outside the
configuration failed (a full disk, a damaged file, the API).
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path

from pipelines import exit_codes


class OperatorError(Exception):
    """A failure the operator can act on: one line, and the exit code that says its kind."""

    exit_code = exit_codes.FAILED


class RunFailed(OperatorError):
    """The run could not do its work (a held warehouse, a load that keeps failing)."""


class SettingError(OperatorError):
    """A setting is wrong or missing; the message names it."""

    exit_code = exit_codes.USAGE


class Unexpected(RunFailed):
    """An error nobody foresaw: one line, and `-v` shows the traceback."""


WAREHOUSE_SETTING = "destination.duckdb.credentials (env DESTINATION__DUCKDB__CREDENTIALS)"

# What the operating system or DuckDB says, wherever it appears in the chain of errors
# (dlt keeps a failed load job's error only as text), and what to tell the operator.
_DAMAGED = {
    "not a valid DuckDB database file": "not a DuckDB database",
    "Corrupt database file": "a block fails its checksum",
    "Could not read enough bytes": "truncated",
}
_ERRNO_TEXT = {
    errno.ENOSPC: "No space left on device",
    errno.EACCES: "Permission denied",
    errno.EROFS: "Read-only file system",
    errno.EISDIR: "Is a directory",
    errno.ENOTDIR: "Not a directory",
    errno.EEXIST: "File exists",
}
_context: dict[str, Path] = {}
_QUOTED_PATH = re.compile(r"""["'](/[^"'\n]+)["']""")


def explain(error: BaseException) -> OperatorError:
    """The one-line failure an error stands for, with its exit code.

    Looks through dlt's wrappers (`PipelineStepFailed`, failed load jobs, extraction errors)
    to the error that caused them, so the line names the cause, not the wrapper.
    """
    if isinstance(error, OperatorError):
        return error
    chain = list(causes(error))
    return (
        _from_types(chain)
        or _from_environment(chain)
        or _from_connection(chain)
        or _from_export(chain)
        or _from_dlt_step(chain)
        or Unexpected(f"unexpected error: {_describe(chain[-1])} (run with -v for the traceback)")
    )


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps, outermost first (dlt's `exception`/`inner_exc`
    attributes, then `__cause__` and `__context__`)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (
            getattr(current, "exception", None),
            getattr(current, "inner_exc", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _from_types(chain: list[BaseException]) -> OperatorError | None:
    """Errors whose type says what they are; the innermost known one wins."""
    for error in reversed(chain):
        found = _known(error)
        if found is not None:
            return found
    return None


def _known(error: BaseException) -> OperatorError | None:
    from dlt.common.configuration.exceptions import (
        ConfigFieldMissingException,
        ConfigurationException,
        ConfigValueCannotBeCoercedException,
    )

    from pipelines.evenergy import ConfigurationError
    from pipelines.evenergy.errors import ApiProblem, CredentialsRefused, EvEnergyError

    if isinstance(error, OperatorError):
        return error
    if isinstance(error, ConfigFieldMissingException):
        return SettingError(f"missing setting: {missing_settings(error)}")
    if isinstance(error, ConfigValueCannotBeCoercedException):
        setting = _setting_name(error.field_name, known_only=True)
        hint = getattr(error.hint, "__name__", str(error.hint))
        return SettingError(f"setting {setting}: {error.field_value!r} is not a valid {hint}")
    if isinstance(error, ConfigurationException | ConfigurationError):
        # dlt's message may span lines ("… loading config.toml from paths …:\n<the cause>")
        return SettingError(f"configuration: {' '.join(str(error).split())}")
    if isinstance(error, CredentialsRefused):
        return SettingError(
            f"{error}: check sources.evenergy.credentials.client_id and client_secret "
            "(env SOURCES__EVENERGY__CREDENTIALS__CLIENT_ID, "
            "SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET)"
        )
    if isinstance(error, ApiProblem) and error.status in (401, 403):
        return SettingError(
            f"the API refused the credentials ({_first_line(error)}): the OAuth application "
            "needs the scopes evse:read, charging_session:read, debug:read"
        )
    if isinstance(error, EvEnergyError):
        return RunFailed(f"failed: {_first_line(error)}")
    if isinstance(error, KeyboardInterrupt):
        return RunFailed("interrupted: the next run resumes from the last saved state")
    return None


def _from_environment(chain: list[BaseException]) -> OperatorError | None:
    """A full disk, a path that cannot be written, a damaged DuckDB file: told by errno
    where Python raised it, else by the text DuckDB or a failed load job carries."""
    for error in reversed(chain):
        if isinstance(error, OSError) and error.errno in _ERRNO_TEXT:
            path = error.filename or _path_in(str(error))
            return _environment_failure(_ERRNO_TEXT[error.errno], path)
    text = "\n".join(str(error) for error in chain)
    for code, words in _ERRNO_TEXT.items():
        if words in text:
            return _environment_failure(_ERRNO_TEXT[code], _path_in(_line_with(text, words)))
    if "Could not set lock on file" in text:
        line = _line_with(text, "Could not set lock on file")
        holder = re.search(r"PID (\d+)", line)
        return RunFailed(
            f"the warehouse {_path_in(line) or _context.get('warehouse', '')} is in use by "
            f"{'process ' + holder.group(1) if holder else 'another process'}: run again "
            "once it has finished"
        )
    for words, reason in _DAMAGED.items():
        if words in text:
            return damaged_warehouse(_path_in(_line_with(text, words)), reason)
    return None


def raise_setting(key: str, now: str) -> str:
    """The end of a one-line out-of-memory error: which `[destination.duckdb]` cap to raise."""
    return f" (raise [destination.duckdb] {key}, now {now}: DESTINATION__DUCKDB__{key.upper()})"


def remember_warehouse(path: Path) -> None:
    """The warehouse the command works on, for errors that do not name their file (DuckDB's
    checksum errors)."""
    _context["warehouse"] = path


def damaged_warehouse(path: object, reason: str) -> RunFailed:
    """A warehouse file DuckDB cannot read: what to do about it."""
    path = path or _context.get("warehouse") or ""
    return RunFailed(
        f"the warehouse {path} cannot be read ({reason}): restore it from a backup or "
        "move it away (the next run then starts a new one and backfills from "
        f"sources.evenergy.initial_start), or fix {WAREHOUSE_SETTING} if it names the wrong file"
    )


def _from_connection(chain: list[BaseException]) -> OperatorError | None:
    """DuckDB refused to open the warehouse for a reason other than its file (those are
    above): a `[destination.duckdb]` setting it does not accept, e.g. `memory_limit`."""
    import duckdb
    from dlt.destinations.exceptions import DestinationConnectionError

    if not any(isinstance(e, DestinationConnectionError) for e in chain):
        return None
    cause = chain[-1]
    if not isinstance(cause, duckdb.Error) or isinstance(cause, duckdb.IOException):
        return None
    return SettingError(
        f"DuckDB refused a [destination.duckdb] setting (e.g. memory_limit, env "
        f"DESTINATION__DUCKDB__MEMORY_LIMIT): {_first_line(cause)}"
    )


def _from_export(chain: list[BaseException]) -> OperatorError | None:
    """The export's own errors name what failed; the environment's (above) come first."""
    from pipelines.export import ExportError

    found = next((e for e in chain if isinstance(e, ExportError)), None)
    return RunFailed(f"export: {_first_line(found)}") if found is not None else None


def _from_dlt_step(chain: list[BaseException]) -> OperatorError | None:
    """dlt failed a step for a reason none of the above knows: name the step and the cause."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    step = next((e.step for e in chain if isinstance(e, PipelineStepFailed)), None)
    if step is None:
        return None
    return RunFailed(f"failed in {step}: {_describe(chain[-1])} (run with -v for the traceback)")


def _environment_failure(reason: str, path: str | None) -> OperatorError:
    where = f" {path}" if path else ""
    if reason == "No space left on device":
        return RunFailed(
            f"disk full writing{where}: free space on its file system and run again "
            "(a load left unfinished is completed first)"
        )
    if reason == "Is a directory":
        return SettingError(
            f"{where.strip() or 'a path'} is a directory, not a file: fix the path setting "
            f"({WAREHOUSE_SETTING} for the warehouse)"
        )
    if reason in ("Not a directory", "File exists"):
        return SettingError(
            f"a file is in the way of{where}, where a directory is needed: move it, or change "
            "the setting that names the path (DLT_DATA_DIR, --to or [export] directory, "
            f"{WAREHOUSE_SETTING})"
        )
    return SettingError(
        f"cannot write{where} ({reason}): make it writable by this user (uid {os.getuid()}), "
        "or change the setting that names it (DLT_DATA_DIR for dlt's working directory, --to "
        "or [export] directory for exports)"
    )


def missing_settings(error: object) -> str:
    """`sources.evenergy.credentials.client_secret (env SOURCES__...)` for each missing key
    of a dlt `ConfigFieldMissingException`."""
    names = []
    fields: list[str] = getattr(error, "fields", [])
    traces: dict[str, list[object]] = getattr(error, "traces", {})
    for field in fields:
        nested = [
            inner
            for trace in traces.get(field, [])
            for inner in getattr(trace, "traces", {})  # a nested spec: its own missing keys
        ]
        for path in [f"{field}.{inner}" for inner in nested] or [field]:
            names.append(_setting_name(path))
    return ", ".join(names)


def _setting_name(path: str, known_only: bool = False) -> str:
    """`sources.evenergy.page_size (env SOURCES__EVENERGY__PAGE_SIZE)`: dlt names a field
    without its section; the source's are the ones the operator sets (with `known_only`,
    a field that is not one of the source's keeps its bare name)."""
    if known_only:
        import inspect

        from pipelines.evenergy import evenergy

        if path.split(".")[0] not in inspect.signature(evenergy).parameters:
            return path
    setting = f"sources.evenergy.{path}"
    return f"{setting} (env {setting.upper().replace('.', '__')})"


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {_first_line(error)}"


def _line_with(text: str, words: str) -> str:
    return next(line for line in text.splitlines() if words in line)


def _path_in(line: str) -> str | None:
    found = _QUOTED_PATH.search(line)
    return found.group(1) if found else None
