"""Real servers on loopback: uvicorn inside the test's event loop, or a `docgraph serve` process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def live_server(app, *, lifespan: str = "off"):
    """`lifespan="on"` also starts the app's background tasks (broker, worker)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio",
                            lifespan=lifespan)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextlib.contextmanager
def docgraph_serve(database_url: str, data_dir: Path, *args: str, env: dict[str, str] | None = None,
                   ready: Callable[[int], bool] = _answers) -> Iterator[tuple[subprocess.Popen, int]]:
    """`docgraph serve --port P --no-worker ARGS` on the given database, with DOCGRAPH_* settings
    from `env`; yields the process and its port once `ready(port)`, stops it (SIGTERM) after."""
    port = free_port()
    environment = {**os.environ, "DOCGRAPH_DATABASE_URL": database_url, "DOCGRAPH_DATA_DIR": str(data_dir),
                   "DOCGRAPH_LOG_LEVEL": "WARNING", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "docgraph.cli", "serve", "--port", str(port), "--no-worker", *args],
        env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(lambda: process.poll() is not None or ready(port), "the server to serve")
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        yield process, port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
