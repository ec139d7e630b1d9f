"""``python -m pipelines.simulator``: run the simulator in the foreground (for subprocesses)."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime

from pipelines.simulator.config import SimulatorConfig
from pipelines.simulator.http.server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m pipelines.simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--evses", type=int, default=20)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--start", type=datetime.fromisoformat, default=None)
    parser.add_argument("--rate-limit", type=int, default=1000, help="0 for unlimited")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    kwargs = {"start": args.start} if args.start else {}
    config = SimulatorConfig(
        seed=args.seed,
        n_evses=args.evses,
        days=args.days,
        rate_limit=args.rate_limit or None,
        **kwargs,
    )
    serve(config, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
