"""Locks: two overlapping cron runs never load at once, and a held warehouse is waited for.

`RunLock` is `flock` on a file beside the warehouse: the kernel releases it when the holder
exits, even when it is killed, so a crashed run never leaves a stale lock behind.

`wait_for_warehouse` is for the other holders: DuckDB lets one process write a file, and any
other process with it open (an analyst's notebook, read-only or not) blocks the load. The
run waits a bounded time (`[warehouse] held_wait_seconds`) for it to go away, then stops
with one line naming the process, before anything is loaded.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from pathlib import Path
from types import TracebackType

import duckdb

from pipelines.config import WarehouseSettings, load
from pipelines.errors import RunFailed, SettingError

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.5
# DuckDB: 'Could not set lock on file "...": Conflicting lock is held in <exe> (PID 123)...'
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class AlreadyRunning(RuntimeError):
    """Another run holds the lock."""


class RunLock:
    """Exclusive, non-blocking, process-lifetime lock on `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(f"another run (pid {holder}) holds {self.path}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def held_wait_seconds() -> float:
    """`[warehouse] held_wait_seconds` (env `WAREHOUSE__HELD_WAIT_SECONDS`), default 120."""
    seconds = load(WarehouseSettings).held_wait_seconds
    if not seconds >= 0:
        raise SettingError(
            f"warehouse.held_wait_seconds must be a number of seconds >= 0, not {seconds!r}"
        )
    return seconds


def wait_for_warehouse(database: Path, timeout_seconds: float | None = None) -> None:
    """Return once no other process holds the DuckDB file `database` (or it does not exist).

    Args:
        database: the working warehouse.
        timeout_seconds: how long to wait; default `held_wait_seconds()`.

    Raises:
        RunFailed: when another process still holds it after the wait (the message names
            its process id and what to do).
    """
    if not database.is_file():
        return
    timeout = held_wait_seconds() if timeout_seconds is None else timeout_seconds
    deadline = time.monotonic() + timeout
    logged = False
    while True:
        try:
            duckdb.connect(str(database)).close()
            return
        except duckdb.IOException as err:
            holder = _HOLDER.search(str(err))
            if holder is None:  # not a lock conflict: the caller reports it
                raise
        pid, program = holder["pid"], Path(holder["program"]).name
        if time.monotonic() >= deadline:
            raise RunFailed(
                f"the warehouse {database} is held by process {pid} ({program}) and was still "
                f"held after {timeout:g} s: close that session (analysts read the published "
                "copy: `evenergy-etl sql`) or stop the process, then run again "
                "([warehouse] held_wait_seconds sets the wait)"
            )
        if not logged:
            log.info("warehouse held by process %s (%s): waiting up to %g s", pid, program, timeout)
            logged = True
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
