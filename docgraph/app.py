"""The Starlette app: routes, middleware, lifespan (database, storage, background tasks)."""

from __future__ import annotations

import contextlib
import functools
import gc
import time
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_compress import CompressMiddleware, add_compress_type

from .addresses import parse_networks
from .auth.tokens import TokenSigner, signing_keys
from .config import Settings, get_settings
from .db import Database, resolve_database_url
from .events.broker import BrokerCollector
from .events.runtime import start_background
from .graphql.view import PREFLIGHT_HEADERS, GraphQLApp
from .http import files
from .http.client_address import ClientAddressMiddleware
from .http.hsts import HSTSMiddleware
from .process import Services
from .storage import Storage, storage_from_settings

# GraphQL-over-HTTP's own media type compresses like JSON (starlette-compress lists known types).
add_compress_type("application/graphql-response+json")

__all__ = ["GraphQLApp", "Services", "build_services", "create_app", "settle_garbage_collector"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("docgraph_http_requests_total", "HTTP requests",
                                ["method", "path", "status"], registry=self.registry)
        self.latency = Histogram("docgraph_http_request_seconds", "HTTP request latency",
                                 ["method", "path"], registry=self.registry)


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streaming bodies and websockets pass untouched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in ("/graphql", "/healthz", "/readyz", "/metrics") else "other"
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - start)
            self.metrics.requests.labels(scope["method"], path, str(status["code"])).inc()


def build_services(settings: Settings, *, database_url: str | None = None,
                   storage: Storage | None = None) -> Services:
    url = database_url or resolve_database_url(settings)
    db = Database(url, pool_size=settings.db_pool_size)
    signer = TokenSigner(signing_keys(settings), settings.access_token_ttl)
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
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop_background = await start_background(services)
        settle_garbage_collector()
        try:
            yield
        finally:
            await stop_background()
            if services.storage is not None and hasattr(services.storage, "close"):
                await services.storage.close()
            await services.db.dispose()

    middleware = [
        Middleware(ClientAddressMiddleware, trusted_proxies=parse_networks(settings.trusted_proxies)),
        Middleware(MetricsMiddleware, metrics=metrics),
    ]
    if settings.hsts_max_age:
        middleware.append(Middleware(HSTSMiddleware, max_age=settings.hsts_max_age))
    if settings.cors_origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", *PREFLIGHT_HEADERS],
        ))
    app = Starlette(
        routes=[
            # Every method: the view answers 405 in the GraphQL shape. Only GraphQL answers are
            # compressed: downloads (/files) keep their bytes and byte ranges as stored.
            Route("/graphql", CompressMiddleware(graphql, minimum_size=settings.compress_min_bytes)),
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
