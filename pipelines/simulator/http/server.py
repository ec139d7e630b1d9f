"""The simulator server: a threaded HTTP server on loopback wired to a world, a clock, fault
switches, a token store and a rate limiter; and :func:`serve`, its blocking entry point."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Self

from pipelines.simulator.config import SimulatorConfig
from pipelines.simulator.http.auth import TokenStore
from pipelines.simulator.http.faults import Faults
from pipelines.simulator.http.handler import SimulatorHandler
from pipelines.simulator.http.ratelimit import RateLimiter
from pipelines.simulator.world.clock import Clock
from pipelines.simulator.world.world import World

logger = logging.getLogger(__name__)


class _HttpServer(ThreadingHTTPServer):
    """Threaded HTTP server: one daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Serving:
    """A server a ``with`` block starts and stops: subclasses define ``start`` (returning
    self) and ``stop``. Shared by the in-process server and the bench's server process."""

    def start(self) -> Self:
        """Start serving; returns self."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a ``with`` block."""
        self.stop()


class SimulatorServer(Serving):
    """The simulated ev.energy API, served in a background thread.

    Binds its socket on construction (``port=0`` picks a free port), so ``base_url`` is known
    before :meth:`start`. Use it as a context manager::

        with SimulatorServer(SimulatorConfig(seed=7)) as sim:
            requests.post(sim.token_url, ...)
    """

    def __init__(self, config: SimulatorConfig, port: int = 0, host: str = "127.0.0.1") -> None:
        """Bind the server and build the world (histories are generated lazily or on start).

        Args:
            config: The configuration.
            port: TCP port (0: any free port).
            host: Interface to listen on.
        """
        self.config = config
        handler = type("BoundSimulatorHandler", (SimulatorHandler,), {"sim": self})
        self._httpd = _HttpServer((host, port), handler)
        self.host, self.port = host, int(self._httpd.server_address[1])
        self.host_port = f"{host}:{self.port}"
        self.base_url = f"http://{self.host_port}/v2"
        self.token_url = f"http://{self.host_port}/o/token/"
        self.admin_url = f"http://{self.host_port}/_sim"
        self.world = World(config, self.base_url)
        self.clock = Clock(
            config.initial_now, config.start, config.horizon, config.follow_wall_clock
        )
        self.faults = Faults()
        self.tokens = TokenStore(config.client_id, config.client_secret)
        self.limiter = RateLimiter(config.max_retry_after_seconds)
        self._counts: dict[str, int] = {}
        self._count_lock = threading.Lock()
        self.token_request_count = 0
        self._thread: threading.Thread | None = None

    # ---- counters ----------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """API requests received (every answer and dropped connection; not token, not admin)."""
        return sum(self._counts.values())

    def requests_by_endpoint(self) -> dict[str, int]:
        """API requests received by endpoint, e.g. ``{"evses": 1, "status_logs": 20}``."""
        with self._count_lock:
            return dict(self._counts)

    def count_request(self, endpoint: str) -> None:
        """Count one API request.

        Args:
            endpoint: The endpoint name.
        """
        with self._count_lock:
            self._counts[endpoint] = self._counts.get(endpoint, 0) + 1

    def count_token_request(self) -> None:
        """Count one token-endpoint request."""
        with self._count_lock:
            self.token_request_count += 1

    def reset_counters(self) -> None:
        """Zero the request counters (API and token)."""
        with self._count_lock:
            self._counts = {}
            self.token_request_count = 0

    def reset_rate_limit(self) -> None:
        """Forget the requests in the rate-limit window."""
        self.limiter.reset()

    # ---- effective settings ------------------------------------------------------------

    def rate_limit(self) -> tuple[int | None, float]:
        """The effective ``(limit, window_seconds)``, fault overrides first."""
        faults = self.faults
        limit = faults.rate_limit if faults.rate_limit is not None else self.config.rate_limit
        window = faults.rate_window_seconds or self.config.rate_window_seconds
        return limit, window

    def token_lifetime(self) -> float:
        """The effective token lifetime in seconds, fault override first."""
        override = self.faults.token_lifetime_seconds
        return override if override is not None else self.config.token_lifetime_seconds

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        """Serve in a background thread (and warm the world up if configured).

        Returns:
            self, for chaining.
        """
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
            if self.config.warm_up:
                threading.Thread(
                    target=self.world.generate_all, name="simulator-warm-up", daemon=True
                ).start()
            logger.debug("simulator serving %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()


def serve(
    config: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    on_ready: Callable[[SimulatorServer], None] | None = None,
) -> None:
    """Run the simulator in the foreground until Ctrl-C or SIGTERM.

    Args:
        config: The configuration.
        host: Interface to listen on.
        port: TCP port.
        on_ready: Called once the socket is bound and serving (e.g. to print its URLs).

    Raises:
        OSError: The port cannot be bound (in use, or privileged).
    """
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        logger.info("signal %d received, stopping the simulator", signum)
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = (
        {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        if in_main
        else {}
    )
    try:
        server = SimulatorServer(config, port=port, host=host).start()
    except OSError:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise
    logger.info(
        "ev.energy simulator: API %s, token %s, admin %s",
        server.base_url,
        server.token_url,
        server.admin_url,
    )
    if on_ready is not None:
        on_ready(server)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
