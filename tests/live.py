"""A real uvicorn server on loopback, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn


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
