"""The domain error hierarchy. Each error carries the `extensions.code` clients see."""

from __future__ import annotations

from typing import Any


class DocgraphError(Exception):
    code = "INTERNAL_SERVER_ERROR"
    default_message = "Internal server error"

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.extensions = extensions


class Unauthenticated(DocgraphError):
    code = "UNAUTHENTICATED"
    default_message = "Authentication required"


class Forbidden(DocgraphError):
    code = "FORBIDDEN"
    default_message = "You are not allowed to do this"


class NotFound(DocgraphError):
    code = "NOT_FOUND"
    default_message = "Not found"


class BadInput(DocgraphError):
    code = "BAD_USER_INPUT"
    default_message = "Invalid input"


class Conflict(DocgraphError):
    code = "CONFLICT"
    default_message = "Conflict"


class Locked(DocgraphError):
    code = "LOCKED"
    default_message = "The document is locked"


class PayloadTooLarge(DocgraphError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Payload too large"


class UnsupportedMediaType(DocgraphError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Unsupported media type"


class QuotaExceeded(DocgraphError):
    code = "QUOTA_EXCEEDED"
    default_message = "Storage quota exceeded"


class RateLimited(DocgraphError):
    code = "RATE_LIMITED"
    default_message = "Too many attempts, try again later"
