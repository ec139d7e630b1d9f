"""Where a benchmark's results go: a timestamped JSON file and `latest.json`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from bench.process import PROJECT_ROOT

log = logging.getLogger(__name__)

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"


def write_results(result: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """Write `result` as `bench-<UTC timestamp>.json` and `latest.json` in `directory`.

    Returns:
        The timestamped file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stamp = str(result["started_at"]).replace(":", "").replace("-", "")
    text = json.dumps(result, indent=2, sort_keys=False, default=str) + "\n"
    path = directory / f"bench-{stamp}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    log.info("results written to %s and %s", path, directory / "latest.json")
    return path
