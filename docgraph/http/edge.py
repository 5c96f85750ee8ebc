"""The HTTP edge: limits the server itself enforces, below the app, so that `docgraph serve` is
safe with no reverse proxy in front.

uvicorn (with httptools) has no limit on header size, no read timeouts (a request sent at one
byte every two seconds holds its connection forever, as does a connection that sends nothing)
and no cap on connections. `EdgeProtocol` is uvicorn's httptools protocol with, per process:
- at most `max_connections` connections, and `max_connections_per_address` from one client
  address (an IPv6 client by its /64; trusted proxies are exempt): beyond, the connection is
  answered 503 / 429 and closed before anything is read;
- a request's line and headers may hold `max_header_bytes`: beyond, 431 and closed, with at
  most one network read (256 KiB) more held;
- headers must be complete `header_timeout` seconds after the request's first byte (after the
  connection opened, for its first request): else 408 and closed, or just closed when nothing
  was sent at all;
- a body must keep pace: `body_timeout` seconds plus one for every `body_min_rate` bytes
  received (Apache mod_reqtimeout's rule); time during which the app does not read (reading
  paused) is not held against the client: else 408 and closed.
Idle keep-alive connections close after `keep_alive_timeout` (uvicorn's `timeout_keep_alive`).
Refusals are GraphQL-shaped JSON errors, like every other error of the API.
"""

from __future__ import annotations

import asyncio
import functools
import json
import resource
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..addresses import IPNetwork, address_key, is_trusted, parse_address, parse_networks
from ..config import Settings, get_settings


@dataclass(frozen=True)
class EdgeLimits:
    max_connections: int
    max_connections_per_address: int
    max_header_bytes: int
    header_timeout: float
    body_timeout: float
    body_min_rate: int
    trusted_proxies: tuple[IPNetwork, ...]

    @classmethod
    def of(cls, settings: Settings) -> EdgeLimits:
        return cls(min(settings.max_connections, _descriptors_to_spare()), settings.max_connections_per_address,
                   settings.max_header_bytes, settings.header_timeout, settings.body_timeout,
                   settings.body_min_rate, parse_networks(settings.trusted_proxies))


def _descriptors_to_spare() -> int:
    """File descriptors the process may open for connections: its limit, less some for the
    database pool, storage, logs and the listening socket. Past it, accept() fails and new
    clients are dropped without an answer."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft - 128 if soft != resource.RLIM_INFINITY else 1 << 30


@functools.cache  # once per worker process, from its environment
def process_limits() -> EdgeLimits:
    return EdgeLimits.of(get_settings())


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What `docgraph serve` hands uvicorn for the edge."""
    return {"http": EdgeProtocol, "timeout_keep_alive": settings.keep_alive_timeout,
            # The app reads X-Forwarded-For itself, from DOCGRAPH_TRUSTED_PROXIES only
            # (client_address.py); uvicorn's own default believes 127.0.0.1.
            "proxy_headers": False}


def _refusal(status: int, code: str, message: str, **headers: str) -> bytes:
    body = json.dumps({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "content-type: application/json",
            f"content-length: {len(body)}", "connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _OpenConnections:
    """A server's open connections, in all and per client address (key)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_address: Counter[str] = Counter()

    def add(self, key: str) -> None:
        self.total += 1
        self.by_address[key] += 1

    def remove(self, key: str) -> None:
        self.total -= 1
        self.by_address[key] -= 1
        if not self.by_address[key]:
            del self.by_address[key]


def _open_connections(server_state: Any) -> _OpenConnections:
    registry = getattr(server_state, "docgraph_open_connections", None)
    if registry is None:
        registry = server_state.docgraph_open_connections = _OpenConnections()
    return registry


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the edge's limits (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = process_limits()
        self._open = _open_connections(self.server_state)
        self._counted_as: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._reading = "headers"  # what the connection waits for: "headers", "body", or nothing
        self._header_bytes = 0
        self._body_bytes = 0
        self._body_clock = 0.0
        self._refused = False

    # --- connections ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = parse_address(self.client[0]) if self.client else None
        key = address_key(str(peer) if peer else None)
        if self._open.total >= self.limits.max_connections:
            self._refuse(503, "RATE_LIMITED", "The server is at its connection limit; try again",
                         **{"retry-after": "1"})
            return
        if not is_trusted(peer, self.limits.trusted_proxies) and \
                self._open.by_address[key] >= self.limits.max_connections_per_address:
            self._refuse(429, "RATE_LIMITED", "Too many connections from your address", **{"retry-after": "1"})
            return
        self._open.add(key)
        self._counted_as = key
        self._arm(self.limits.header_timeout, self._headers_late)  # a connection that sends nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        super().connection_lost(exc)

    def _release(self) -> None:
        self._disarm()
        if self._counted_as is not None:
            self._open.remove(self._counted_as)
            self._counted_as = None

    def handle_websocket_upgrade(self) -> None:
        """The websocket protocol takes the transport over: it releases the connection's count
        when it is lost."""
        self._disarm()
        key, self._counted_as = self._counted_as, None
        super().handle_websocket_upgrade()
        websocket = self.transport.get_protocol()
        lost = websocket.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            try:
                lost(exc)
            finally:
                if key is not None:
                    self._open.remove(key)

        websocket.connection_lost = connection_lost  # type: ignore[method-assign]

    # --- reading a request ---------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading == "headers":
            self._header_bytes += len(data)
        super().data_received(data)
        if self._reading == "headers" and self._header_bytes > self.limits.max_header_bytes:
            self._headers_too_large()

    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        if self._reading != "headers":  # the next request on a kept-alive connection
            self._reading, self._header_bytes = "headers", 0
            self._arm(self.limits.header_timeout, self._headers_late)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            self._headers_too_large()
            return
        self._reading, self._body_bytes, self._body_clock = "body", 0, self.loop.time()
        self._arm(self.limits.body_timeout, self._check_body_pace)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._reading = ""
        self._disarm()
        super().on_message_complete()

    # --- deadlines -----------------------------------------------------------------------------

    def _arm(self, delay: float, callback) -> None:
        self._disarm()
        self._timer = self.loop.call_later(max(delay, 0.0), callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_late(self) -> None:
        self._timer = None
        if self._header_bytes == 0:  # nothing sent at all: no answer owed
            self.transport.close()
        else:
            self._refuse(408, "BAD_USER_INPUT", "The request headers took too long")

    def _check_body_pace(self) -> None:
        self._timer = None
        now = self.loop.time()
        if self.flow.read_paused:  # the app is not reading: start counting again when it does
            self._body_clock, self._body_bytes = now, 0
            self._arm(self.limits.body_timeout, self._check_body_pace)
            return
        deadline = self._body_clock + self.limits.body_timeout + self._body_bytes / self.limits.body_min_rate
        if now < deadline:
            self._arm(deadline - now, self._check_body_pace)
        else:
            self._refuse(408, "BAD_USER_INPUT", "The request body arrived too slowly")

    def _headers_too_large(self) -> None:
        self._refuse(431, "BAD_USER_INPUT", f"The request headers may be at most {self.limits.max_header_bytes} bytes")

    def _refuse(self, status: int, code: str, message: str, **headers: str) -> None:
        """Answer `status` (unless the app already started answering) and close."""
        self._refused = True
        self._disarm()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() sees a disconnect, its send() goes nowhere
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        if not self.transport.is_closing():
            self.transport.write(_refusal(status, code, message, **headers))
            self.transport.close()
