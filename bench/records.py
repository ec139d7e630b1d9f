"""One scenario's figures as a JSON-ready record: rows, requests against the minimum,
seconds per phase, throughput and peak RSS, with the simulator's own request count."""

from __future__ import annotations

from typing import Any

from bench.process import ChildResult


def run_record(
    label: str,
    child: ChildResult,
    server: dict[str, Any] | None = None,
    minimum: dict[str, int] | None = None,
    minimum_with_lookback: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Combine a measurement with its ground truth.

    Args:
        label: what the row of the table says.
        child: the measurement process's result and peak RSS.
        server: `/_sim/state` read right after the run (counters reset right before it).
        minimum: fewest requests per table (strict definition).
        minimum_with_lookback: fewest requests per table re-reading the status lookback.
    """
    result = child.result
    rows_total = sum(result.get("rows", {}).values())
    wall = float(result.get("wall_seconds") or 0.0)
    record: dict[str, Any] = {
        "label": label,
        "rows": result.get("rows", {}),
        "rows_total": rows_total,
        "wall_seconds": wall,
        "seconds": result.get("seconds", {}),
        "rows_per_second": round(rows_total / wall, 1) if wall > 0 else None,
        "peak_rss_mb": child.peak_rss_mb,
        "process_seconds": child.process_seconds,
        "cpu_seconds": child.cpu_seconds,
    }
    for key in (
        "partial",
        "errors",
        "pool_full_discards",
        "transient_load_errors",
        "peak_rss_mb_by_phase",
    ):
        if key in result:
            record[key] = result[key]
    if "requests" in result:
        record.update(_requests(result, server, minimum, minimum_with_lookback))
    return record


def _requests(
    result: dict[str, Any],
    server: dict[str, Any] | None,
    minimum: dict[str, int] | None,
    minimum_with_lookback: dict[str, int] | None,
) -> dict[str, Any]:
    made = int(result.get("requests_made", sum(result["requests"].values())))
    figures: dict[str, Any] = {"requests": result["requests"], "requests_total": made}
    if server is not None:
        figures["server_requests"] = server.get("requests_by_endpoint", {})
        figures["server_requests_total"] = int(server.get("request_count", 0))
        figures["requests_match_server"] = figures["server_requests_total"] == made
    if minimum is not None:
        least = sum(minimum.values())
        figures["minimum"] = minimum
        figures["minimum_total"] = least
        figures["over_minimum_pct"] = round(100 * (made - least) / least, 2) if least else None
        figures["over_minimum_by_table"] = {
            table: int(result["requests"].get(table, 0)) - count for table, count in minimum.items()
        }
    if minimum_with_lookback is not None:
        figures["minimum_with_lookback"] = minimum_with_lookback
        figures["minimum_with_lookback_total"] = sum(minimum_with_lookback.values())
    return figures
