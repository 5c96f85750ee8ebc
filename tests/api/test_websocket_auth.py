"""graphql-transport-ws over a real uvicorn: the token comes in connection_init."""

import json

import pytest
import websockets

from ..live import live_server


async def _init(address: str, payload: dict, protocol: str = "graphql-transport-ws"):
    ws = await websockets.connect(f"ws://{address}/graphql", subprotocols=[protocol])
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def test_good_token_is_acknowledged(app, factory):
    org = await factory.organization()
    alice = await factory.user(org, "EDITOR")
    async with live_server(app) as address:
        ws = await _init(address, {"Authorization": f"Bearer {factory.token(alice, org)}"})
        message = json.loads(await ws.recv())
        assert message["type"] == "connection_ack"
        await ws.close()


@pytest.mark.parametrize("payload", [
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic abc"},
    {},
])
async def test_bad_or_missing_token_closes_with_4403(app, payload):
    async with live_server(app) as address:
        ws = await _init(address, payload)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4403


async def test_legacy_graphql_ws_protocol_is_refused(app):
    """The legacy `graphql-ws` subprotocol had an authentication bypass; only the new one is on."""
    async with live_server(app) as address:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            ws = await _init(address, {}, protocol="graphql-ws")
            await ws.recv()
        assert closed.value.rcvd.code == 4406
