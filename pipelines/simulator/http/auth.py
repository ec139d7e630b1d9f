"""OAuth 2 client credentials: the token endpoint's logic and bearer-token checking.

Tokens are random and expire after their lifetime of WALL-clock time (not simulated time).
A client may ask for a subset of the scopes with the ``scope`` form field; by default a
token carries every scope the simulated API knows.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from pipelines.simulator.http.problems import ApiError, unauthorized

ALL_SCOPES = ("evse:read", "charging_session:read", "debug:read")


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """The token endpoint's answer: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Decode an HTTP Basic ``Authorization`` header.

    Args:
        header: The header value, or None.

    Returns:
        ``(client_id, client_secret)`` or None.
    """
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


class TokenStore:
    """Issues and checks bearer tokens."""

    def __init__(
        self, client_id: str, client_secret: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Create the store.

        Args:
            client_id: The only accepted client id.
            client_secret: Its secret.
            clock: Wall-clock source (monotonic seconds).
        """
        self._client = (client_id, client_secret)
        self._clock = clock
        self._tokens: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def issue(
        self,
        authorization: str | None,
        body: bytes,
        lifetime: float,
        announced: float | None = None,
    ) -> TokenAnswer:
        """Handle ``POST /o/token/``.

        Args:
            authorization: The request's ``Authorization`` header.
            body: The form-encoded request body.
            lifetime: Token lifetime in seconds.
            announced: The lifetime ``expires_in`` announces, if not the real one (a fault).

        Returns:
            200 with a token, 400 ``unsupported_grant_type`` / ``invalid_scope``, or 401
            ``invalid_client``.
        """
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        creds = _basic_credentials(authorization) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if not (
            secrets.compare_digest(creds[0], self._client[0])
            and secrets.compare_digest(creds[1], self._client[1])
        ):
            return TokenAnswer(401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return TokenAnswer(400, {"error": "unsupported_grant_type"})
        wanted = form.get("scope", "").split() or list(ALL_SCOPES)
        if any(s not in ALL_SCOPES for s in wanted):
            return TokenAnswer(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._tokens = {k: v for k, v in self._tokens.items() if v[0] > now}
            self._tokens[token] = (now + lifetime, frozenset(wanted))
        return TokenAnswer(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": max(1, math.ceil(lifetime if announced is None else announced)),
                "scope": " ".join(wanted),
            },
        )

    def check(self, authorization: str | None, scope: str | None) -> None:
        """Check a bearer token.

        Args:
            authorization: The request's ``Authorization`` header.
            scope: The scope the endpoint needs, or None.

        Raises:
            ApiError: 401 when missing, unknown or expired; 403 when lacking the scope.
        """
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthorized("Authentication credentials were not provided.")
        entry = self._tokens.get(authorization[7:].strip())
        if entry is None or entry[0] <= self._clock():
            raise unauthorized("Invalid or expired token.")
        if scope is not None and scope not in entry[1]:
            raise ApiError(
                403, "Forbidden", "You do not have permission to perform this action.", "forbidden"
            )

    def revoke_all(self) -> None:
        """Invalidate every token issued so far."""
        with self._lock:
            self._tokens = {}
