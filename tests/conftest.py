"""Test fixtures: a real PostgreSQL (DATABASE_URL, else pgserver), one fresh database per test
cloned from a migrated template, and the ASGI app driven over HTTP with httpx."""

from __future__ import annotations

import asyncio
import itertools
import os
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
