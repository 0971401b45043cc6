"""One error root for Canopy: :class:`CanopyError` and the statuses it maps to.

Pure on purpose (no web framework): domain code raises these. Their rendering as RFC 9457
``application/problem+json`` lives in :mod:`canopy_common.problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# How canopy_common.problems renders these (the media type and the base of a problem type).
PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://canopy.dev/problems/"


class CanopyError(Exception):
    """Base of every error Canopy raises on purpose.

    ``status`` is the HTTP status it maps to; ``code`` becomes the problem ``type``
    (``https://canopy.dev/problems/<code>``); ``extra`` adds members to the problem body.
    """

    status: int = 400
    code: str = "bad-request"

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class InvalidInput(CanopyError):
    status, code = 422, "invalid-input"


class Unauthorized(CanopyError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(message, **kwargs)


class Forbidden(CanopyError):
    status, code = 403, "forbidden"


class NotFound(CanopyError):
    status, code = 404, "not-found"


class Conflict(CanopyError):
    status, code = 409, "conflict"


class PayloadTooLarge(CanopyError):
    status, code = 413, "payload-too-large"


class RateLimited(CanopyError):
    status, code = 429, "rate-limited"

    def __init__(self, message: str, retry_after_s: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after_s)})
        super().__init__(message, **kwargs)


class ServiceUnavailable(CanopyError):
    status, code = 503, "service-unavailable"

    def __init__(self, message: str, retry_after_s: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after_s)})
        super().__init__(message, **kwargs)
