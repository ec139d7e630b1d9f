"""Failures the command line reports as one line with an exit code, never a traceback.

Raise `RunFailed` (exit 1) or `SettingError` (exit 2) with a message that says what went
wrong and what to do about it; `pipelines.cli` prints the message and returns the code.
"""

from __future__ import annotations

from pipelines import exit_codes


class OperatorError(Exception):
    """A failure the operator can act on: one line, and the exit code that says its kind."""

    exit_code = exit_codes.FAILED


class RunFailed(OperatorError):
    """The run could not do its work (a held warehouse, a load that keeps failing)."""


class SettingError(OperatorError):
    """A setting is wrong or missing; the message names it."""

    exit_code = exit_codes.USAGE
