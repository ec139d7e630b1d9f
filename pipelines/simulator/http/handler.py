"""The HTTP request handler: token endpoint, admin endpoints, and the API pipeline
(count -> drop fault -> rate limit -> version -> Accept -> auth -> 5xx/slow faults -> endpoint
-> malformed/link-loop faults -> answer)."""

from __future__ import annotations

import logging
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, unquote

import orjson

from pipelines.simulator.http import api
from pipelines.simulator.http.admin import handle_admin
from pipelines.simulator.http.answer import Answer
from pipelines.simulator.http.links import link_header, page_url
from pipelines.simulator.http.malform import applicable_kinds, malform
from pipelines.simulator.http.problems import PROBLEM_CONTENT_TYPE, ApiError
from pipelines.simulator.http.ratelimit import Decision

if TYPE_CHECKING:
    from pipelines.simulator.http.server import SimulatorServer

logger = logging.getLogger(__name__)
JSON = "application/json"
_SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def accepts_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header allows ``application/json``.

    Args:
        accept: The header value, or None (anything goes).

    Returns:
        True unless every media range excludes JSON.
    """
    if not accept:
        return True
    for part in accept.split(","):
        media, *options = (x.strip() for x in part.split(";"))
        q = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    q = float(option[2:])
                except ValueError:
                    q = 0.0
        if q > 0 and media.lower() in ("*/*", "application/*", JSON):
            return True
    return False


class SimulatorHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms stalls between small writes
    wbufsize = 1 << 16  # headers and body leave in one write when the handler flushes

    server_version = "evenergy-sim/1"
    sim: SimulatorServer  # set on the subclass built by the server

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header of every answer: the simulated clock, as the real API's is its
        own (a client reads the API's time from it)."""
        if timestamp is None:
            timestamp = self.sim.clock.now_us() / 1_000_000
        return super().date_time_string(timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        """Send access logs to ``logging`` at DEBUG level instead of stderr."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        """Handle POST (token and admin endpoints)."""
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch("POST", self.rfile.read(length) if length else b"")

    def _dispatch(self, method: str, body: bytes) -> None:
        """Route a request to the token, admin or API pipeline."""
        path, _, query = self.path.partition("?")
        if path.startswith("/_sim"):
            status, payload = handle_admin(self.sim, method, path, query, body)
            self._send(status, orjson.dumps(payload), JSON, {})
        elif path.rstrip("/") == "/o/token":
            self._token(method, body)
        else:
            self._api(method, unquote(path), query)

    def _token(self, method: str, body: bytes) -> None:
        """``POST /o/token/``."""
        self.sim.count_token_request()
        if method != "POST":
            self._send(405, orjson.dumps({"error": "method_not_allowed"}), JSON, {})
            return
        answer = self.sim.tokens.issue(
            self.headers.get("Authorization"),
            body,
            self.sim.token_lifetime(),
            self.sim.faults.token_expires_in_seconds,
        )
        headers = {"Cache-Control": "no-store"}
        if answer.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="api"'
        self._send(answer.status, orjson.dumps(answer.body), JSON, headers)

    def _api(self, method: str, path: str, query: str) -> None:
        """The API pipeline."""
        sim = self.sim
        route = api.route(path[3:] if path.startswith("/v2/") or path == "/v2" else "/?")
        sim.count_request(route.endpoint)
        if sim.faults.drop():
            self.close_connection = True
            return
        decision = sim.limiter.acquire(*sim.rate_limit())
        headers = {
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": str(decision.remaining),
        }
        try:
            answer = self._answer(method, route, query, decision)
        except ApiError as err:
            headers.update(err.headers)
            self._send(err.status, orjson.dumps(err.document(path)), PROBLEM_CONTENT_TYPE, headers)
            return
        self._send_answer(answer, path, query, headers)

    def _answer(self, method: str, route: api.Route, query: str, decision: Decision) -> Answer:
        """Run the checks, the request faults and the endpoint; raise ApiError on error."""
        sim = self.sim
        self._check(method, route, decision)
        status = sim.faults.server_error()
        if status is not None:
            raise ApiError(
                status, _SERVER_ERRORS[status], "Simulated server failure.", "server-error"
            )
        delay = sim.faults.delay()
        if delay:
            time.sleep(delay)
        parsed = parse_qs(query, keep_blank_values=True)
        return route.handler(sim.world, parsed, sim.clock.now_us())

    def _check(self, method: str, route: api.Route, decision: Decision) -> None:
        """Rate limit, version, Accept, auth and method checks, in that order."""
        if not decision.allowed:
            raise ApiError(
                429,
                "Too Many Requests",
                f"Request was rate limited. Try again in {decision.retry_after} seconds",
                "rate-limit-exceeded",
                {"Retry-After": str(decision.retry_after)},
            )
        version = self.headers.get("EvEnergy-Version")
        if version is not None and version.strip() not in ("2", "2.0"):
            raise ApiError(
                400,
                "Unsupported version",
                f"Unsupported version requested: {version}",
                "unsupported-version",
            )
        if not accepts_json(self.headers.get("Accept")):
            raise ApiError(
                406,
                "Not Acceptable",
                "Could not satisfy the request Accept header.",
                "not-acceptable",
            )
        self.sim.tokens.check(self.headers.get("Authorization"), route.scope)
        if method != "GET":
            raise ApiError(
                405, "Method Not Allowed", f"Method {method} not allowed.", "method-not-allowed"
            )

    def _send_answer(self, answer: Answer, path: str, query: str, headers: dict[str, str]) -> None:
        """Serialize an answer (applying list faults) and send it."""
        faults = self.sim.faults
        body: Any = answer.body
        kind = None
        if isinstance(body, list):
            kind = faults.malformation(applicable_kinds(answer))
        if answer.paginated:
            headers["Link"] = self._link(answer, path, query, faults.link_loop())
        payload = malform(answer, kind) if kind is not None else orjson.dumps(body)
        self._send(200, payload, JSON, headers)

    def _link(self, answer: Answer, path: str, query: str, loop: bool) -> str:
        """The Link header of a list page."""
        origin = f"http://{self.headers.get('Host') or self.sim.host_port}"
        pairs = parse_qsl(query, keep_blank_values=True)
        prev = (
            page_url(origin, path, pairs, ("page_before", answer.first_cursor or ""))
            if answer.has_previous
            else None
        )
        nxt = (
            page_url(origin, path, pairs, ("page_after", answer.last_cursor or ""))
            if answer.has_next
            else None
        )
        if loop:
            nxt = f"{origin}{self.path}"
        return link_header(prev, nxt)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        """Write a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("EvEnergy-Version", "2")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
