"""Helpers of the fault tests: a client of a server process, row counts read straight from the
database, uploads streamed at a pace the test controls, bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import asyncpg
import httpx
from sqlalchemy import make_url

from bench.faults import World
from tests.api.documents_helpers import PREFLIGHT, UPLOAD

MiB = 1024 * 1024


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def client(server, world: World):
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0,
                                 headers={"Authorization": f"Bearer {world.token}"}) as http:
        yield http


async def counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return {table: await conn.fetchval(f"SELECT count(*) FROM {table}")
                for table in ("document", "document_version", "blob")}
    finally:
        await conn.close()


def streamed_upload(http: httpx.AsyncClient, folder_id: str, chunks, size: int, name: str):
    """uploadDocument as a GraphQL multipart request whose file is streamed from `chunks`
    (`size` bytes in all), framed by hand so that the test controls the pace."""
    boundary = uuid.uuid4().hex
    operations = json.dumps({"query": UPLOAD, "variables": {"input": {"folderId": folder_id, "file": None}}})
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.input.file"]}}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="{name}"\r\n'
            f'Content-Type: application/pdf\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body():
        yield head
        async for chunk in chunks:
            yield chunk
        yield tail

    return http.post("/graphql", content=body(), headers={
        **PREFLIGHT, "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail))})


async def gated(content: bytes, pause_at: int, resume: asyncio.Event, chunk: int = MiB):
    """`content` in chunks, pausing at byte `pause_at` until `resume` is set (30 s at most)."""
    for offset in range(0, len(content), chunk):
        if offset >= pause_at:
            await asyncio.wait_for(resume.wait(), 30)
        yield content[offset:offset + chunk]


async def until(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := await condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return result


async def part_received(moto, storage) -> bool:
    return any(parts for _, parts in await moto.unfinished_uploads(storage))
