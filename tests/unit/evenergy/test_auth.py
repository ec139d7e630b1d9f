"""Client-credentials tokens: HTTP Basic, refresh before expiry, refresh on 401."""

import base64
import json
from urllib.parse import parse_qs

import pytest

from pipelines.evenergy.auth import TokenSource
from pipelines.evenergy.errors import AuthenticationFailed
from tests.unit.fake_http import FakeHttp


class TokenEndpoint:
    def __init__(self, expires_in=36000):
        self.issued = 0
        self.expires_in = expires_in

    def __call__(self, request):
        auth = request.headers.get("Authorization", "")
        if auth != "Basic " + base64.b64encode(b"cid:s3cret-value").decode():
            return 401, {"Content-Type": "application/json"}, b'{"error": "invalid_client"}'
        form = parse_qs(request.body.decode())
        assert form["grant_type"] == ["client_credentials"]
        self.issued += 1
        body = {
            "access_token": f"token-{self.issued}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "evse:read",
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_token_is_fetched_with_http_basic_and_reused():
    endpoint = TokenEndpoint()
    with FakeHttp(endpoint) as fake:
        tokens = TokenSource(fake.url + "/o/token/", "cid", "s3cret-value")
        assert tokens.token() == "token-1"
        assert tokens.token() == "token-1"
    assert endpoint.issued == 1
    assert b"s3cret-value" not in fake.requests[0].body  # the secret travels only in Basic auth


def test_token_is_replaced_a_margin_before_expiry():
    endpoint, clock = TokenEndpoint(expires_in=3600), Clock()
    with FakeHttp(endpoint) as fake:
        tokens = TokenSource(fake.url + "/o/token/", "cid", "s3cret-value", clock=clock)
        assert tokens.token() == "token-1"
        clock.now += 3600 - 61
        assert tokens.token() == "token-1"
        clock.now += 2  # inside the 60 s margin
        assert tokens.token() == "token-2"


def test_refresh_after_401_replaces_only_the_rejected_token():
    endpoint = TokenEndpoint()
    with FakeHttp(endpoint) as fake:
        tokens = TokenSource(fake.url + "/o/token/", "cid", "s3cret-value")
        first = tokens.token()
        assert tokens.refresh(first) == "token-2"
        assert tokens.refresh(first) == "token-2"  # another thread already refreshed it
    assert endpoint.issued == 2


def test_refused_credentials_raise_without_the_secret():
    with FakeHttp(TokenEndpoint()) as fake:
        tokens = TokenSource(fake.url + "/o/token/", "cid", "wrong-secret-value")
        with pytest.raises(AuthenticationFailed) as failure:
            tokens.token()
    assert "invalid_client" in str(failure.value)
    assert "wrong-secret-value" not in str(failure.value)
