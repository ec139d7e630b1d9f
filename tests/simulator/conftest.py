"""Fixtures of the simulator tests: a fresh server per test and an authenticated client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from pipelines.simulator import SimulatorConfig, SimulatorServer

BASE_CONFIG = SimulatorConfig(seed=7, n_evses=12, days=3.0, rate_limit=None, warm_up=False)


class Client:
    """A requests session with a bearer token and helpers to walk paginated lists."""

    def __init__(self, sim: SimulatorServer, **token_form: str) -> None:
        self.sim = sim
        self.session = requests.Session()
        token = get_token(sim, **token_form)
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.sim.base_url + path
        return self.session.get(url, timeout=10, **kwargs)

    def walk(
        self, path: str, params: dict[str, Any] | None = None, max_pages: int = 500
    ) -> tuple[list[dict[str, Any]], list[requests.Response]]:
        """Follow next links from the first page; return every row and every response."""
        rows: list[dict[str, Any]] = []
        responses = []
        response = self.get(path, params=params)
        while True:
            assert response.status_code == 200, response.text
            responses.append(response)
            rows.extend(response.json())
            nxt = response.links["next"]["url"]
            if nxt == "about:blank":
                return rows, responses
            assert len(responses) < max_pages, "pagination does not end"
            response = self.get(nxt)


def post_token(sim: SimulatorServer, secret: str | None = None, **form: str) -> requests.Response:
    """POST the token endpoint (client credentials unless `form` says otherwise) with HTTP
    Basic client authentication: the configured client, its secret unless `secret`."""
    data = {"grant_type": "client_credentials", **form}
    auth = (sim.config.client_id, sim.config.client_secret if secret is None else secret)
    return requests.post(sim.token_url, data=data, timeout=10, auth=auth)


def get_token(sim: SimulatorServer, **form: str) -> str:
    """Fetch an access token with HTTP Basic client authentication."""
    response = post_token(sim, **form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(BASE_CONFIG) as server:
        yield server


@pytest.fixture
def client(sim: SimulatorServer) -> Client:
    return Client(sim)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorServer]]:
    """Factory of started servers with config overrides (stopped after the test)."""
    servers: list[SimulatorServer] = []

    def factory(**overrides: Any) -> SimulatorServer:
        server = SimulatorServer(replace(BASE_CONFIG, **overrides)).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def make_client() -> Callable[..., Client]:
    """Factory of authenticated clients: ``make_client(sim, scope=...)``."""
    return Client
