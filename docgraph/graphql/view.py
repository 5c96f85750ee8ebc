"""The GraphQL endpoint: Strawberry's ASGI view with docgraph's context, authentication and
request guards (preflight header, body limit, streamed multipart uploads)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ..auth.principal import ClientInfo, read_principal
from ..config import Settings
from ..errors import DocgraphError, Unauthenticated
from ..process import Services
from .context import Context
from .multipart import handle_multipart
from .schema import build_schema

log = logging.getLogger("docgraph.app")

PREFLIGHT_HEADERS = ("x-graphql-preflight", "apollo-require-preflight")


def _error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status)


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/")


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with docgraph's context, authentication and request guards."""

    def __init__(self, services: Services, settings: Settings) -> None:
        super().__init__(
            build_schema(allow_introspection=settings.allow_introspection),
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.cors_origins,
        )
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            refusal = self._refuse(request)
            if refusal is None and request.method == "POST" and _is_multipart(request):
                # Files stream to storage as they arrive (multipart.py).
                await handle_multipart(self, self.services, scope, receive, send)
                return
            if refusal is None and request.method == "POST":
                receive, refusal = await self._buffer_limited(receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _buffer_limited(self, receive: Receive) -> tuple[Receive, Response | None]:
        """Read a JSON body up to the limit, whatever Content-Length claims (or chunked)."""
        limit = self.services.settings.max_request_bytes
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return receive, _error_response(413, "PAYLOAD_TOO_LARGE", "Request body too large")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay, None

    def _refuse(self, request: Request) -> Response | None:
        """CSRF guard and body limit, before anything is parsed."""
        headers = request.headers
        is_query_get = request.method == "GET" and "query" in request.query_params
        is_multipart = _is_multipart(request)
        if (is_query_get or is_multipart) and not any(h in headers for h in PREFLIGHT_HEADERS):
            return _error_response(400, "BAD_USER_INPUT",
                                   "GET and multipart requests need an x-graphql-preflight header")
        length = headers.get("content-length")
        if not is_multipart and length and length.isdigit() and int(length) > self.services.settings.max_request_bytes:
            return _error_response(413, "PAYLOAD_TOO_LARGE", "Request body too large")
        return None

    async def get_context(self, request: Any, response: Any) -> Context:
        client = ClientInfo(
            ip_address=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
        context = Context(services=self.services, request=request, response=response, client=client)
        header = request.headers.get("authorization")
        if header:
            await self._authenticate(context, header)
        return context

    async def _authenticate(self, context: Context, header: str) -> None:
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated("Authorization must be 'Bearer <access token>'")
            claims = self.services.signer.verify(token.strip())
            context.principal_or_none = await read_principal(self.services.db, claims, context.client)
        except DocgraphError as exc:
            context.auth_error = exc
        except Exception:
            # Answered as a GraphQL error (not a bare 500) by whatever field needs the principal.
            log.exception("could not authenticate (request %s)", context.request_id)
            context.auth_error = DocgraphError("The service is temporarily unavailable; try again")

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not isinstance(header, str):
            raise ConnectionRejectionError({"message": "connection_init needs an Authorization"})
        await self._authenticate(context, header)
        if context.principal_or_none is None:
            raise ConnectionRejectionError({"message": "invalid token"})
        return None
