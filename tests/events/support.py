"""Helpers for live-event tests: a minimal graphql-transport-ws client, servers that run the
app's lifespan (broker, worker), and rows published the way services publish them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
import websockets

from tests.live import live_server

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = "graphql-transport-ws"


class WsClient:
    """One graphql-transport-ws connection; messages are sorted per operation id."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._queues: dict[str, asyncio.Queue] = defaultdict(asyncio.Queue)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, address: str, token: str):
        ws = await websockets.connect(f"ws://{address}/graphql", subprotocols=[PROTOCOL], max_size=None)
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        client = cls(ws)
        try:
            yield client
        finally:
            client._reader.cancel()
            await ws.close()

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                elif "id" in message:
                    self._queues[message["id"]].put_nowait(message)

    async def subscribe(self, query: str, variables: dict | None = None) -> str:
        op_id = str(next(self._ids))
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe",
                                       "payload": {"query": query, "variables": variables or {}}}))
        return op_id

    async def message(self, op_id: str, timeout: float = 15.0) -> dict:
        """The operation's next message (next / error / complete)."""
        return await asyncio.wait_for(self._queues[op_id].get(), timeout)

    async def data(self, op_id: str, timeout: float = 15.0) -> dict:
        """The data of the operation's next message, which must be a `next` without errors."""
        message = await self.message(op_id, timeout)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"]

    async def error_code(self, op_id: str, timeout: float = 15.0) -> str:
        """The extensions.code the operation fails with (an `error`, or a `next` with errors)."""
        message = await self.message(op_id, timeout)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert errors, message
        return errors[0]["extensions"]["code"]

    def pending(self, op_id: str) -> int:
        return self._queues[op_id].qsize()


async def eventually(condition: Callable[[], bool], timeout: float = 15.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.01)


def serving(app):
    """The app on a real uvicorn over loopback, lifespan included (broker and worker run)."""
    return live_server(app, lifespan="on")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server_process(*, database_url: str, secret_key: str, data_dir: Path, run_worker: bool = False):
    """`uvicorn docgraph.app:create_app --factory` in its own process; yields its address once
    it answers /healthz."""
    port = free_port()
    env = {**os.environ, "DOCGRAPH_DATABASE_URL": database_url, "DOCGRAPH_SECRET_KEY": secret_key,
           "DOCGRAPH_DATA_DIR": str(data_dir), "DOCGRAPH_RUN_WORKER": str(run_worker).lower()}
    env.pop("DATABASE_URL", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "docgraph.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = data_dir / "server.log"
    try:
        yield f"127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def wait_until_up(address: str, process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {process.log_path.read_text(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://{address}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"server {address} did not start")


async def metric(address: str, name: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://{address}/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
