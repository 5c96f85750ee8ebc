"""Migrations: from empty to head, back to base, and the models agree with the migrations."""

import asyncio

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from docgraph.db import async_url
from docgraph.migrate import downgrade, upgrade
from docgraph.models import metadata

from .conftest import _with_db


@pytest.fixture
async def empty_database_url(server_url):
    name = "dgmig_empty"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    yield async_url(_with_db(server_url, name))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    await conn.close()
    return {row["tablename"] for row in rows}


async def test_upgrade_from_empty_then_downgrade_to_base_then_upgrade_again(empty_database_url):
    await asyncio.to_thread(upgrade, empty_database_url)
    assert set(metadata.tables) <= await _tables(empty_database_url)
    await asyncio.to_thread(downgrade, empty_database_url, "base")
    assert await _tables(empty_database_url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, empty_database_url)
    assert "folder" in await _tables(empty_database_url)


async def test_models_match_the_migrated_schema(database_url):
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
        )
    await engine.dispose()
    assert diff == [], f"models and migrations disagree; write a revision: {diff}"


async def test_audit_log_refuses_update_delete_and_truncate(database_url, factory):
    from docgraph.services import audit

    org = await factory.organization()
    async with factory.services.db.transaction() as session:
        await audit.record(session, action="CREATE", resource_type="ORGANIZATION",
                           organization_id=org.id, user_id=None, resource_id=org.id)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in ("UPDATE audit_log SET status = 'FAILURE'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 1
    finally:
        await conn.close()
