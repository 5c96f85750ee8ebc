"""Errors answered outside GraphQL execution, in the GraphQL response shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse


def error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                   **extensions: Any) -> JSONResponse:
    error = {"message": message,
             "extensions": {"code": code, **extensions, "timestamp": datetime.now(UTC).isoformat()}}
    return JSONResponse({"data": None, "errors": [error]}, status_code=status, headers=headers)
