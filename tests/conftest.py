"""Test fixtures: a real PostgreSQL (DATABASE_URL, else pgserver), one fresh database per test
cloned from a migrated template, and the ASGI app driven over HTTP with httpx. Storage: the app
stores blobs on the filesystem under tmp_path; `backend` runs a test on both backends, S3 being
ONE moto server (or S3_ENDPOINT_URL) for the whole session, spoken to over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from docgraph.app import build_services, create_app
from docgraph.config import Settings
from docgraph.db import async_url
from docgraph.migrate import upgrade
from docgraph.storage import S3Storage

from .factories import Factory
from .graphql import GraphQLClient

TEMPLATE = f"docgraph_tpl_{os.getpid()}"
_counter = itertools.count()


def _plain(url: str) -> str:
    """asyncpg wants postgresql:// with no driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url():
    """A URL to the `postgres` database of the server the tests may create databases on."""
    url = os.environ.get("DATABASE_URL") or os.environ.get("DOCGRAPH_DATABASE_URL")
    if url:
        yield _plain(url)
        return
    import pgserver

    pgdata = Path(tempfile.mkdtemp(prefix="dgpg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    yield _plain(server.get_uri())
    server.cleanup()


def _with_db(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def template_url(server_url):
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
    await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    await conn.close()
    url = _with_db(server_url, TEMPLATE)
    await asyncio.to_thread(upgrade, async_url(url))
    yield url
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    await conn.close()


@pytest.fixture
async def database_url(server_url, template_url):
    """A fresh, migrated database for this test alone."""
    name = f"dgtest_{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    yield async_url(_with_db(server_url, name))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        database_url=database_url, data_dir=tmp_path, secret_key="test-secret-" + "x" * 32,
        bcrypt_rounds=4, storage="filesystem",
    )


@pytest.fixture
async def services(settings, database_url):
    services = build_services(settings, database_url=database_url)
    yield services
    if services.storage is not None and hasattr(services.storage, "close"):
        await services.storage.close()
    await services.db.dispose()


@pytest.fixture
def app(settings, services):
    return create_app(settings, services=services)


@pytest.fixture
async def http(app):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def api(http) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def factory(services) -> Factory:
    return Factory(services)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


# --- S3 over real HTTP: one moto server per session (shared with tests/storage) ------------------

# moto runs in a child process so that its in-memory objects and its CPU time stay out of this
# process: the constant-memory tests measure this process with tracemalloc.
_MOTO = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the test session closes our stdin
server.stop()
"""


@pytest.fixture(scope="session")
def s3_endpoint():
    """``S3_ENDPOINT_URL`` (e.g. MinIO, with S3_ACCESS_KEY/S3_SECRET_KEY) when set, else moto."""
    if url := os.environ.get("S3_ENDPOINT_URL"):
        yield url
        return
    proc = subprocess.Popen(
        [sys.executable, "-c", _MOTO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
async def s3_storage(s3_endpoint):
    """An S3Storage on a fresh bucket of the session's S3 server (emptied afterwards)."""
    storage = S3Storage(
        f"docgraph-api-{uuid.uuid4().hex[:16]}", endpoint_url=s3_endpoint,
        access_key=os.environ.get("S3_ACCESS_KEY", "testing"),
        secret_key=os.environ.get("S3_SECRET_KEY", "testing"),
    )
    await storage.ensure_bucket()
    yield storage
    with contextlib.suppress(Exception):
        s3 = await storage._client()
        for upload in (await s3.list_multipart_uploads(Bucket=storage.bucket)).get("Uploads", ()):
            await storage.abort_multipart(upload["Key"], upload["UploadId"])
        async for info in storage.list_keys(""):
            await storage.delete(info.key)
        await s3.delete_bucket(Bucket=storage.bucket)
    await storage.close()


@pytest.fixture(params=["filesystem", "s3"])
def backend(request, services):
    """Run the test once per storage backend: the app's storage is swapped for S3 in the s3 run.
    (A plain fixture: an async one cannot set up another async fixture on demand.)"""
    if request.param == "s3":
        services.storage = request.getfixturevalue("s3_storage")
    return services.storage
