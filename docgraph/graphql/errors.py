"""Error shaping: every error gets `extensions.code` and `extensions.timestamp`.

Domain errors keep their message and code. What graphql-core refuses before any resolver runs
is the client's and keeps its message: a document that does not parse (GRAPHQL_PARSE_FAILED)
or validate (GRAPHQL_VALIDATION_FAILED; a value that does not fit its type, such as a BigInt
out of range, BAD_USER_INPUT), variables that do not fit or an operation that cannot be chosen
(BAD_USER_INPUT). Anything else is masked and logged with the request id, so internals never
leak.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors, ParserCache

from ..errors import DocgraphError

log = logging.getLogger("docgraph.errors")

# graphql-core's message for variables that do not fit (coercion happens before execution).
_VARIABLE = "Variable '$"


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
        self._validation_errors: set[int] = set()

    def on_validate(self) -> Iterator[None]:
        yield
        # What validation found (the cost rule included), told apart from later errors by identity.
        self._validation_errors = {id(error) for error in self.execution_context.pre_execution_errors or ()}

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return getattr(context, "request_id", None)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._shape(error) for error in errors]

    def _shape(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DocgraphError):
            return _with(error, original.message, {"code": original.code, **original.extensions}, original)
        given = error.extensions or {}
        if isinstance(error, GraphQLSyntaxError):
            return _with(error, error.message, {**given, "code": "GRAPHQL_PARSE_FAILED"})
        if id(error) in self._validation_errors:
            # A value that does not fit its type (original: the scalar's ValueError) is bad input.
            code = given.get("code") or ("BAD_USER_INPUT" if original is not None else "GRAPHQL_VALIDATION_FAILED")
            return _with(error, error.message, {**given, "code": code})
        if isinstance(original, GraphQLError) and original.original_error is None:
            return _with(error, error.message, {**given, "code": "BAD_USER_INPUT"})
        if error.path is None and (original is None or error.message.startswith(_VARIABLE)):
            # Refused before execution: variables that do not fit, no operation of that name.
            return _with(error, error.message, {**given, "code": given.get("code") or "BAD_USER_INPUT"})
        request_id = self._request_id()
        log.error("unhandled error (request %s)", request_id, exc_info=original or error)
        return _with(error, self.error_message, {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


class ParseOnce(ParserCache):
    """Strawberry's parser cache, except that a document that does not parse is left to
    Strawberry's own parse, inside the operation: raised from the cache, its syntax error
    escaped ErrorShaping and reached clients without a code."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        yield
