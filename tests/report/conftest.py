"""Fixtures of the report tests: a hand-built analytics warehouse, its report, a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.report import write_report
from tests.report.browser import find_chromium
from tests.report.fixtures import FixtureSize, build_fixture_warehouse


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory) -> Path:
    """12 EVSEs (6 models, one with no make) over 5 days, 3 dispatches per EVSE-day."""
    return build_fixture_warehouse(
        tmp_path_factory.mktemp("report") / "warehouse.duckdb", FixtureSize()
    )


@pytest.fixture(scope="session")
def fixture_report(fixture_warehouse, tmp_path_factory) -> Path:
    return write_report(fixture_warehouse, tmp_path_factory.mktemp("report-out"))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; installed with apt-get when missing (as root), else a clear skip."""
    binary = find_chromium()
    if binary is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=900, check=False
            )
            if done.returncode != 0:
                pytest.skip(
                    f"chromium missing and `{' '.join(command)}` failed: {done.stderr.strip()[-300:]}"
                )
        binary = find_chromium()
    if binary is None:
        pytest.skip(
            "chromium missing and cannot be installed here (needs root and apt-get): apt-get install chromium"
        )
    return binary
