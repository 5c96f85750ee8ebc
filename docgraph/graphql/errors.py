"""Error shaping: every error gets `extensions.code` and `extensions.timestamp`.

Domain errors keep their message and code; GraphQL syntax and validation errors are the
client's (BAD_USER_INPUT / GRAPHQL_VALIDATION_FAILED); anything else is masked and logged with
the request id, so internals never leak.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ..errors import DocgraphError

log = logging.getLogger("docgraph.errors")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _with(error: GraphQLError, message: str, extensions: dict[str, Any],
          original: Exception | None = None) -> GraphQLError:
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions,
        path=error.path, original_error=original, extensions={**extensions, "timestamp": _now()},
    )


class ErrorShaping(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message="Internal server error")

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return getattr(context, "request_id", None)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._shape(error) for error in errors]

    def _shape(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DocgraphError):
            return _with(error, original.message, {"code": original.code, **original.extensions}, original)
        if original is None:
            # Raised by graphql-core while parsing or validating: the client's mistake.
            code = (error.extensions or {}).get("code") or "GRAPHQL_VALIDATION_FAILED"
            return _with(error, error.message, {**(error.extensions or {}), "code": code})
        if isinstance(original, GraphQLError) and original.original_error is None:
            # Variable coercion and similar input errors.
            return _with(error, error.message, {"code": "BAD_USER_INPUT"})
        request_id = self._request_id()
        log.error("unhandled error (request %s)", request_id, exc_info=original)
        return _with(error, self.error_message, {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})
