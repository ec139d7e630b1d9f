"""RFC 9457 problem documents and the exception that carries them through the handler."""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://api.ev.energy/v2/problems"
PROBLEM_CONTENT_TYPE = "application/problem+json"
RATE_LIMIT_TYPE = f"{PROBLEM_BASE}/rate-limit-exceeded/"


class ApiError(Exception):
    """An error answer of the API, rendered as a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        slug: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Create the error.

        Args:
            status: HTTP status.
            title: Short summary of the problem type.
            detail: Explanation specific to this occurrence.
            slug: Last path segment of the problem type URL.
            headers: Extra response headers (e.g. ``Retry-After``).
        """
        super().__init__(detail)
        self.status, self.title, self.detail, self.slug = status, title, detail, slug
        self.headers = headers or {}

    def document(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document.

        Args:
            instance: The request path, if known.

        Returns:
            ``type``, ``status``, ``title``, ``detail`` and optionally ``instance``.
        """
        doc: dict[str, Any] = {
            "type": f"{PROBLEM_BASE}/{self.slug}/",
            "status": self.status,
            "title": self.title,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        return doc


def bad_parameter(name: str, value: str) -> ApiError:
    """400 for a filter parameter whose value cannot be understood.

    Args:
        name: Parameter name.
        value: The offending value.

    Returns:
        The error.
    """
    return ApiError(
        400,
        "Invalid parameter",
        f"Invalid value for parameter {name}: {value!r}",
        "invalid-parameter",
    )


def bad_pagination(name: str) -> ApiError:
    """400 for an invalid pagination parameter (page_size, page_after, page_before).

    Args:
        name: Parameter name.

    Returns:
        The error.
    """
    return ApiError(
        400,
        "Invalid pagination parameter",
        f"Invalid value for pagination parameter: {name}",
        "pagination-parameters",
    )


def not_found(detail: str = "Resource does not exist or cannot be accessed.") -> ApiError:
    """404 for an unknown (or not yet visible) resource.

    Args:
        detail: Explanation.

    Returns:
        The error.
    """
    return ApiError(404, "Not found", detail, "not-found")


def unauthorized(detail: str) -> ApiError:
    """401 for a missing, unknown or expired token.

    Args:
        detail: Explanation.

    Returns:
        The error.
    """
    return ApiError(401, "Unauthorized", detail, "unauthorized")
