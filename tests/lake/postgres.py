"""A real, throw-away Postgres server for the lake's catalog tests.

Debian's `postgresql` package is installed when its binaries are missing (CI runs as root on
a fresh machine); the server runs as the unprivileged `postgres` user (it refuses root) on a
temporary data directory, listening only on 127.0.0.1 at a free port, with a password for
TCP connections so the catalog URL carries credentials as a real one does.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROLE = "lake_loader"
PASSWORD = "lake-loader-secret"
SERVICE_USER = "postgres"


class Unavailable(RuntimeError):
    """Postgres is not installed and cannot be installed here."""


@dataclass
class PostgresServer:
    """A running server and how to reach it."""

    bin_dir: Path
    data_dir: Path
    port: int
    timings: dict[str, float]

    def url(self, database: str) -> str:
        """A catalog connection string for `database`, as `[destination.ducklake.credentials]`
        takes it."""
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database owned by the loader role; returns its connection string."""
        self._psql(f'create database "{name}" owner {ROLE}')
        return self.url(name)

    def _psql(self, sql: str) -> None:
        psql = [str(self.bin_dir / "psql"), "-h", str(self.data_dir), "-p", str(self.port)]
        _as_service_user(
            [*psql, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql]
        )


def find_bin_dir() -> Path | None:
    """The newest installed Postgres's binaries (Debian keeps them per major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def install() -> float:
    """Install Debian's `postgresql`; returns the seconds it took."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable("Postgres is not installed and this is not a root Debian machine")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise Unavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    return time.monotonic() - started


@contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server (installed first when missing), stopped and removed afterwards."""
    timings: dict[str, float] = {}
    bin_dir = find_bin_dir()
    if bin_dir is None:
        timings["install"] = install()
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise Unavailable("postgresql installed, but no initdb under /usr/lib/postgresql")
    started = time.monotonic()
    # /tmp itself, not pytest's per-user folder: the server's user must be able to enter it
    data_dir = Path(tempfile.mkdtemp(prefix="evenergy-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            shutil.rmtree(data_dir, ignore_errors=True)
            raise Unavailable(f"no `{SERVICE_USER}` user to run the server as (not root)") from None
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    port = _free_port()
    password_file = data_dir / "pwfile"
    try:
        _as_service_user(["sh", "-c", f"umask 077; echo '{PASSWORD}' > {password_file}"])
        initdb = [str(bin_dir / "initdb"), "-D", str(data_dir / "db"), "-U", "postgres"]
        _as_service_user(
            [*initdb, "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]
        )
        options = f"-h 127.0.0.1 -p {port} -k {data_dir} -c fsync=off -c full_page_writes=off"
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data_dir / "db"), "-l", str(data_dir / "log")]
        _as_service_user([*pg_ctl, "-o", options, "-w", "-t", "60", "start"])
        server = PostgresServer(bin_dir, data_dir, port, timings)
        server._psql(f"create role {ROLE} login password '{PASSWORD}'")
        timings["start"] = time.monotonic() - started
        log.info("postgres on 127.0.0.1:%d: %s", port, timings)
        yield server
    finally:
        subprocess.run(
            _service_command(
                [str(bin_dir / "pg_ctl"), "-D", str(data_dir / "db"), "-m", "immediate", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(data_dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service_command(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVICE_USER, "--", *command]


def _as_service_user(command: list[str]) -> None:
    done = subprocess.run(_service_command(command), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
