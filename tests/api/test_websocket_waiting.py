"""Websockets that never send connection_init (issue 18 #10): closed after a short wait, and a
client address may hold only a few of them at once."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from docgraph.app import create_app

from ..live import live_server


@pytest.fixture
def strict_app(settings, services):
    settings.ws_init_timeout = 1
    settings.max_waiting_sockets_per_address = 3
    return create_app(settings, services=services)


async def _open(address: str):
    return await websockets.connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"])


async def test_sockets_without_connection_init_are_capped_per_address_and_closed(strict_app, factory):
    async with live_server(strict_app) as address:
        waiting = [await _open(address) for _ in range(3)]
        refused = 0
        for _ in range(5):
            with pytest.raises(websockets.InvalidStatus) as rejection:
                await _open(address)
            assert rejection.value.response.status_code == 403
            refused += 1
        assert refused == 5

        started = time.monotonic()
        codes = []
        for ws in waiting:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            codes.append(closed.value.rcvd.code)
        assert codes == [4408] * 3 and time.monotonic() - started < 3

        # Their places are free again, and a socket that initializes does not hold one.
        org = await factory.organization()
        token = factory.token(await factory.user(org, "VIEWER"), org)
        ready = []
        for _ in range(5):
            ws = await _open(address)
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            ready.append(ws)
        await asyncio.gather(*(ws.close() for ws in ready))
