"""Which client a request comes from: the TCP peer, or behind a trusted proxy the forwarded
client (the rules: docgraph/addresses.py and docs/operations.md), put in `scope["client"]`."""

from __future__ import annotations

from ..addresses import IPAddress, IPNetwork, forwarded_client, is_trusted, parse_address

_SCHEMES = {"http", "https"}


class ClientAddressMiddleware:
    """Pure ASGI: puts the canonical client address (and, behind a trusted proxy, the forwarded
    one and its scheme) in `scope["client"]` / `scope["scheme"]` for HTTP and websockets."""

    def __init__(self, app, trusted_proxies: tuple[IPNetwork, ...] = ()) -> None:
        self.app, self.trusted_proxies = app, trusted_proxies

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            host, port = scope["client"]
            peer = parse_address(host)
            if peer is not None and is_trusted(peer, self.trusted_proxies):
                self._believe_forwarded(scope, peer, port)
            else:
                scope["client"] = (str(peer) if peer is not None else None, port)
        await self.app(scope, receive, send)

    def _believe_forwarded(self, scope, peer: IPAddress, port: int) -> None:
        forwarded_for, proto = [], None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
        client = forwarded_client(peer, forwarded_for, self.trusted_proxies)
        scope["client"] = (str(client), port if client == peer else 0)
        if proto in _SCHEMES:
            scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
