"""CORS: only the configured origins may call the API from a browser, over HTTP and websockets."""

import json

import httpx
import pytest
import websockets

from docgraph.app import create_app

from ..live import live_server

ALLOWED = "https://app.example.com"


@pytest.fixture
def cors_app(settings, services):
    return create_app(settings.model_copy(update={"cors_origins": [ALLOWED]}), services=services)


async def _preflight(app, origin: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.options("/graphql", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})


async def test_configured_origin_passes_the_preflight(cors_app):
    response = await _preflight(cors_app, ALLOWED)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def test_other_origin_fails_the_preflight(cors_app):
    response = await _preflight(cors_app, "https://evil.example.net")
    assert "access-control-allow-origin" not in response.headers


async def test_websocket_from_another_origin_is_refused(cors_app, factory):
    org = await factory.organization()
    user = await factory.user(org)
    init = json.dumps({"type": "connection_init",
                       "payload": {"Authorization": f"Bearer {factory.token(user, org)}"}})
    async with live_server(cors_app) as address:
        with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed)):
            ws = await websockets.connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"],
                                          origin="https://evil.example.net")
            await ws.send(init)
            await ws.recv()
        ws = await websockets.connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"],
                                      origin=ALLOWED)
        await ws.send(init)
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.close()
