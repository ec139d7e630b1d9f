"""OAuth 2 client-credentials tokens for the ev.energy API.

requests-oauthlib's `BackendApplicationClient` + `OAuth2Session` fetch the token, the
client authenticating with HTTP Basic. A token is replaced a margin before it expires,
and once more when the API answers 401 (`refresh`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
from requests import RequestException, Response
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from pipelines.evenergy.errors import AuthenticationFailed, CredentialsRefused
from pipelines.evenergy.parsing import http_date
from pipelines.evenergy.settings import SCOPES, TOKEN_REFRESH_MARGIN

log = logging.getLogger(__name__)


class TokenSource:
    """Hands out a valid bearer token, fetching a new one when needed. Thread-safe."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        timeout_seconds: float = 30,
        margin: timedelta = TOKEN_REFRESH_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        on_new_token: Callable[[str], None] | None = None,
    ) -> None:
        self._token_url = token_url
        _allow_plain_http_on_loopback(token_url)
        self._on_new_token = on_new_token or (lambda token: None)
        self._auth = HTTPBasicAuth(client_id, client_secret)
        self._oauth = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
        self._oauth.register_compliance_hook("access_token_response", self._note_date)
        self.answered_at: datetime | None = None  # the token endpoint's `Date`, last answer
        self._timeout = timeout_seconds
        self._margin = margin.total_seconds()
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetch_count = 0

    def token(self) -> str:
        """A token that will not expire within the refresh margin."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def refresh(self, rejected: str) -> str:
        """Replace a token the API rejected with 401 (unless another thread already did)."""
        with self._lock:
            if self._token == rejected:
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        try:
            answer = self._oauth.fetch_token(
                self._token_url,
                auth=self._auth,
                include_client_id=False,
                scope=list(SCOPES),
                timeout=self._timeout,
            )
        except OAuth2Error as error:
            # oauthlib's message is the error code, e.g. "(invalid_client)": no secret in it.
            raise CredentialsRefused(
                f"token endpoint refused the client credentials: {error.error}"
            ) from None
        except RequestException as error:
            raise AuthenticationFailed(
                f"token endpoint {self._token_url} unreachable: {type(error).__name__}"
            ) from None
        lifetime = float(answer.get("expires_in") or 3600)
        # Short-lived tokens: never spend more than a tenth of the lifetime as margin.
        self._refresh_at = self._clock() + lifetime - min(self._margin, lifetime / 10)
        self._token = str(answer["access_token"])
        self._on_new_token(self._token)
        self.fetch_count += 1
        log.debug("fetched an access token valid for %.0f s", lifetime)

    def _note_date(self, response: Response) -> Response:
        """requests-oauthlib hands each token answer here before reading it."""
        self.answered_at = http_date(response.headers.get("Date")) or self.answered_at
        return response


def _allow_plain_http_on_loopback(token_url: str) -> None:
    """oauthlib refuses http:// token URLs unless told otherwise, process-wide, by this
    variable. The source only accepts http:// on loopback (the simulator), so it is set
    only then."""
    parts = urlsplit(token_url)
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
