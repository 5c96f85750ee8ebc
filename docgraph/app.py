"""The Starlette app: routes, middleware, lifespan (database, storage, background tasks)."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from .auth.principal import ClientInfo, load_principal
from .auth.tokens import TokenSigner
from .config import Settings, get_settings
from .db import Database, resolve_database_url
from .errors import DocgraphError, Unauthenticated
from .events.broker import BrokerCollector
from .events.runtime import start_background
from .http import files
from .http.graphql_uploads import handle_multipart
from .resolvers.context import Context, Services
from .schema.root import build_schema
from .storage import storage_from_settings

log = logging.getLogger("docgraph.app")

PREFLIGHT_HEADERS = ("x-graphql-preflight", "apollo-require-preflight")


def _error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status)


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/")


class GraphQLApp(GraphQL):
    """Strawberry's ASGI view with docgraph's context, authentication and request guards."""

    def __init__(self, services: Services, settings: Settings) -> None:
        super().__init__(
            build_schema(allow_introspection=settings.allow_introspection),
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.cors_origins,
        )
        self.services = services

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            refusal = self._refuse(request)
            if refusal is None and request.method == "POST" and _is_multipart(request):
                # Files stream to storage as they arrive (docgraph/http/graphql_uploads.py).
                await handle_multipart(self, scope, receive, send)
                return
            if refusal is None and request.method == "POST":
                receive, refusal = await self._buffer_limited(receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _buffer_limited(self, receive):
        """Read a JSON body up to the limit, whatever Content-Length claims (or chunked)."""
        limit = self.services.settings.max_request_bytes
        chunks, size, more = [], 0, True
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

        async def replay():
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

    async def get_context(self, request, response) -> Context:
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
            async with self.services.db.reading() as session:
                context.principal_or_none = await load_principal(session, claims, context.client)
        except DocgraphError as exc:
            context.auth_error = exc
        except Exception:  # noqa: BLE001 - e.g. the database is unreachable
            # Answered as a GraphQL error (not a bare 500) by whatever field needs the principal.
            log.exception("could not authenticate (request %s)", context.request_id)
            context.auth_error = DocgraphError("The service is temporarily unavailable; try again")

    async def on_ws_connect(self, context: Context):
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not isinstance(header, str):
            raise ConnectionRejectionError({"message": "connection_init needs an Authorization"})
        await self._authenticate(context, header)
        if context.principal_or_none is None:
            raise ConnectionRejectionError({"message": "invalid token"})
        return None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("docgraph_http_requests_total", "HTTP requests",
                                ["method", "path", "status"], registry=self.registry)
        self.latency = Histogram("docgraph_http_request_seconds", "HTTP request latency",
                                 ["method", "path"], registry=self.registry)


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streaming bodies and websockets pass untouched."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in ("/graphql", "/healthz", "/readyz", "/metrics") else "other"
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - start)
            self.metrics.requests.labels(scope["method"], path, str(status["code"])).inc()


def build_services(settings: Settings, *, database_url: str | None = None, storage=None) -> Services:
    url = database_url or resolve_database_url(settings)
    db = Database(url, pool_size=settings.db_pool_size)
    signer = TokenSigner(settings.resolved_secret_key(), settings.access_token_ttl)
    if storage is None:
        storage = storage_from_settings(settings)
    return Services(settings=settings, db=db, signer=signer, storage=storage)


@functools.cache  # once per process
def settle_garbage_collector() -> None:
    """Keep the garbage collector off the request path. After startup a worker holds ~240,000
    long-lived objects (schema, mappers, compiled statements) that every full collection
    walked: ~100 ms pauses, the p99 of a folder page. `gc.freeze` moves them out of the
    collector's reach; a larger young generation means fewer collections per request."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    settings = settings or get_settings()
    services = services or build_services(settings)
    graphql = GraphQLApp(services, settings)
    metrics = Metrics()
    metrics.registry.register(BrokerCollector(lambda: services.broker))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            await services.db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"error: {type(exc).__name__}"
        if services.storage is not None:
            try:
                await services.storage.check()
                checks["storage"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["storage"] = f"error: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                            status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        stop_background = await start_background(services)
        settle_garbage_collector()
        try:
            yield
        finally:
            await stop_background()
            if services.storage is not None and hasattr(services.storage, "close"):
                await services.storage.close()
            await services.db.dispose()

    middleware = [Middleware(MetricsMiddleware, metrics=metrics)]
    if settings.cors_origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", *PREFLIGHT_HEADERS],
        ))
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/files/{token}", files.download, methods=["GET", "HEAD"]),
            Route("/uploads/{session_id}/parts/{part_number:int}", files.put_part, methods=["PUT"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.services = services
    return app
