"""HTTP Strict Transport Security: a response to a request that came over TLS tells browsers to
use https only, for `max_age` seconds.

"Came over TLS" is the ASGI scope's scheme: "https" when uvicorn terminates TLS itself
(`serve --ssl-certfile`), and also when a proxy in front did and said so in X-Forwarded-Proto,
which uvicorn's proxy-headers handling copies into the scope only for proxies it trusts
(`FORWARDED_ALLOW_IPS`, 127.0.0.1 by default). Whatever else rewrites the scope's scheme for
trusted proxies takes effect here the same way. A plain-http request gets no header: HSTS sent
over http is ignored by browsers and would only mislead.
"""

from __future__ import annotations


class HSTSMiddleware:
    """Pure ASGI, so streaming bodies and websockets pass untouched."""

    def __init__(self, app, max_age: int) -> None:
        self.app = app
        self.header = (b"strict-transport-security", f"max-age={max_age}".encode())

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), self.header]}
            await send(message)

        await self.app(scope, receive, send_with_hsts)
