"""Where the project's settings live, whatever the working directory.

dlt reads `.dlt/config.toml` and `.dlt/secrets.toml` from the working directory by default,
so a cron job started in `$HOME` (or `/`) would run without the project's settings. The
command line points dlt at the checkout's own `.dlt/` before anything reads a setting;
`DLT_PROJECT_DIR` (dlt's own variable) chooses another folder holding a `.dlt/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT_DIR_VARIABLE = "DLT_PROJECT_DIR"


def use_project_settings() -> Path:
    """Make dlt read `.dlt/` from the project folder (`DLT_PROJECT_DIR`, else this checkout);
    returns that folder. Relative warehouse paths are resolved against it too."""
    project = Path(os.environ.setdefault(PROJECT_DIR_VARIABLE, str(PROJECT_DIR))).resolve()
    Container()[PluggableRunContext].reload(str(project))
    return project


def project_dir() -> Path:
    """The folder whose `.dlt/` holds the settings (see `use_project_settings`)."""
    return Path(os.environ.get(PROJECT_DIR_VARIABLE, str(PROJECT_DIR))).resolve()


@contextmanager
def environment(settings: Mapping[str, str]) -> Iterator[None]:
    """`settings` as environment variables (dlt's first config provider) inside the block;
    each variable as it was before afterwards."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
