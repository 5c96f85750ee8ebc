"""The GraphQL endpoint: Strawberry's ASGI view with docgraph's context, authentication and
request guards (preflight header, body limit, streamed multipart uploads)."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from ..addresses import address_key
from ..auth.principal import ClientInfo, read_principal
from ..config import Settings
from ..errors import BadInput, DocgraphError, Unauthenticated
from ..http.responses import error_response
from ..process import Services
from ..services.validation import check_json_shape
from .context import Context
from .multipart import handle_multipart
from .schema import build_schema

log = logging.getLogger("docgraph.app")

PREFLIGHT_HEADERS = ("x-graphql-preflight", "apollo-require-preflight")
_WAITING = "docgraph.waiting_socket"
# Request JSON deeper than this is refused: no input of the schema nests near it (metadata: 16
# levels inside a few of input), and deeper values reach recursive code (JSON encoding, graphql-core).
MAX_JSON_DEPTH = 32


def _malformed_request(data: object) -> str | None:
    """What is wrong with a GraphQL-over-HTTP request body, None if nothing."""
    if isinstance(data, list):
        return "Batched operations are not supported"
    if not isinstance(data, dict):
        return "The request must be a JSON object"
    for name, kind in (("query", str), ("operationName", str), ("variables", dict), ("extensions", dict)):
        if not isinstance(data.get(name), kind | None):
            return f"`{name}` must be {'a string' if kind is str else 'an object'} or null"
    if data.get("query") is None and "persistedQuery" not in (data.get("extensions") or {}):
        return "No GraphQL query found in the request"
    return None


class WaitingSockets:
    """Websockets per client address that have not sent connection_init yet."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self.by_address: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def holding(self, scope: Scope) -> AsyncIterator[bool]:
        """Counts the socket while it waits (yields False when its address has too many)."""
        key = address_key(scope["client"][0] if scope.get("client") else None)
        if self.by_address[key] >= self.per_address:
            yield False
            return
        self.by_address[key] += 1
        scope[_WAITING] = key
        try:
            yield True
        finally:
            self.initialized(scope)

    def initialized(self, scope: Scope) -> None:
        if (key := scope.pop(_WAITING, None)) is not None:
            self.by_address[key] -= 1
            if not self.by_address[key]:
                del self.by_address[key]


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
            # A socket must send connection_init this soon (else closed with 4408)...
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
        )
        self.services = services
        # ...and one client address may hold only so many sockets that have not yet.
        self.waiting_sockets = WaitingSockets(settings.max_waiting_sockets_per_address)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            async with self.waiting_sockets.holding(scope) as admitted:
                if admitted:
                    await super().__call__(scope, receive, send)
                else:  # closed before the handshake is accepted: the client sees 403
                    await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] == "http":
            request = Request(scope)
            refusal = self._refuse(request)
            if refusal is None and request.method == "POST" and _is_multipart(request):
                # Files stream to storage as they arrive (multipart.py).
                await handle_multipart(self, self.services, scope, receive, send)
                return
            if refusal is None and request.method == "POST":
                receive, refusal = await self._buffer_limited(receive, request.headers.get("content-type", ""))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _buffer_limited(self, receive: Receive, request_content_type: str) -> tuple[Receive, Response | None]:
        """Read a JSON body up to the limit, whatever Content-Length claims (or chunked), and
        check that it parses."""
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
                return receive, error_response(413, "PAYLOAD_TOO_LARGE", "Request body too large")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if "application/json" in request_content_type:
            # Malformed JSON is answered here, before the context (and its principal) is built.
            try:
                problem = _malformed_request(self.parse_json(body))
            except HTTPException as exc:
                problem = exc.reason
            if problem is not None:
                return receive, error_response(400, "BAD_USER_INPUT", problem)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay, None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's request errors (bad JSON, wrong method, no query...) as GraphQL errors."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            return error_response(exc.status_code, "BAD_USER_INPUT", exc.reason)

    def decode_json(self, data: str | bytes) -> object:
        """JSON from a body, a GET parameter or a websocket message. Nesting deeper than
        MAX_JSON_DEPTH (the C parser's recursion included) or bytes that are no UTF-8 count as
        unparseable, which Strawberry answers 400 (HTTP) or closes with 4400 (websocket)."""
        try:
            value = json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", "", 0) from None
        except UnicodeDecodeError:
            raise json.JSONDecodeError("not UTF-8", "", 0) from None
        try:
            check_json_shape(value, field="JSON", max_bytes=sys.maxsize, max_depth=MAX_JSON_DEPTH)
        except BadInput:
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", "", 0) from None
        return value

    def parse_json(self, data: str | bytes) -> object:
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"The request is not valid JSON: {exc.msg}") from None

    def _refuse(self, request: Request) -> Response | None:
        """CSRF guard and body limit, before anything is parsed."""
        headers = request.headers
        is_query_get = request.method == "GET" and "query" in request.query_params
        is_multipart = _is_multipart(request)
        if (is_query_get or is_multipart) and not any(h in headers for h in PREFLIGHT_HEADERS):
            return error_response(400, "BAD_USER_INPUT",
                                  "GET and multipart requests need an x-graphql-preflight header")
        length = headers.get("content-length")
        if not is_multipart and length and length.isdigit() and int(length) > self.services.settings.max_request_bytes:
            return error_response(413, "PAYLOAD_TOO_LARGE", "Request body too large")
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
        self.waiting_sockets.initialized(context.request.scope)
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not isinstance(header, str):
            raise ConnectionRejectionError({"message": "connection_init needs an Authorization"})
        await self._authenticate(context, header)
        if context.principal_or_none is None:
            raise ConnectionRejectionError({"message": "invalid token"})
        return None
