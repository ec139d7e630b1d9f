"""Exceptions of the ev.energy client. Messages never carry a token or a secret."""

from __future__ import annotations

from typing import Any


class EvEnergyError(Exception):
    """Base of every error this source raises."""


class ApiProblem(EvEnergyError):
    """The API answered with an RFC 9457 problem document (or an error without one)."""

    def __init__(self, status: int, title: str, detail: str, url: str, type_: str = "") -> None:
        self.status, self.title, self.detail, self.url, self.type = (
            status,
            title,
            detail,
            url,
            type_,
        )
        super().__init__(f"HTTP {status} {title}: {detail} ({url})")

    @classmethod
    def from_body(cls, status: int, body: Any, url: str) -> ApiProblem:
        """Build from a decoded problem+json body, tolerating bodies that are not one."""
        if not isinstance(body, dict):
            return cls(status, "Error", "no problem document in the response", url)
        return cls(
            status,
            str(body.get("title") or "Error"),
            str(body.get("detail") or body.get("error") or ""),
            url,
            str(body.get("type") or ""),
        )


class AuthenticationFailed(EvEnergyError):
    """The token endpoint refused the client credentials, or a fresh token was refused."""


class CredentialsRefused(AuthenticationFailed):
    """The token endpoint answered that the client id or secret is wrong: configuration."""


class MalformedPage(EvEnergyError):
    """A 200 answer whose body is not the JSON the endpoint documents."""


class PaginationLoop(EvEnergyError):
    """A next link pointed back at a page already read."""


class ApiUnavailable(EvEnergyError):
    """Connection errors, timeouts or 5xx answers outlasted the retry policy."""


class ExtractionStopped(EvEnergyError):
    """The run must stop extracting (budget or deadline); what was fetched is still loaded."""


class RateLimitBudgetExhausted(ExtractionStopped):
    """The rate-limit window has no requests left beyond the configured reserve."""


class DeadlineReached(ExtractionStopped):
    """The run's deadline (`max_duration`) has passed or will before a wait ends."""


def is_fatal(error: EvEnergyError) -> bool:
    """Errors that no other partition can escape: the credentials or the scopes are wrong."""
    if isinstance(error, AuthenticationFailed):
        return True
    return isinstance(error, ApiProblem) and error.status in (401, 403)
