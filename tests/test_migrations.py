"""Migrations: from empty to head, back to base, and the models agree with the migrations."""

import asyncio
import uuid

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


async def test_from_the_previous_revision_folders_are_aligned_with_their_drive(empty_database_url):
    """0001 → head: a folder whose drive disagrees with its root's is aligned, and from then on
    PostgreSQL refuses (at commit) a folder outside its parent's drive."""
    await asyncio.to_thread(upgrade, empty_database_url, "0001")
    conn = await asyncpg.connect(empty_database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        org, dept, other, user = (uuid.uuid4() for _ in range(4))
        root, child = uuid.uuid4(), uuid.uuid4()
        await conn.execute("INSERT INTO users (id, email, password_hash, first_name, last_name, is_active, "
                           "is_super_admin) VALUES ($1, 'u@x.example', 'x', 'U', 'X', true, false)", user)
        await conn.execute("INSERT INTO organization (id, name, status) VALUES ($1, 'Org', 'ACTIVE')", org)
        for department in (dept, other):
            await conn.execute("INSERT INTO department (id, organization_id, name) VALUES ($1, $2, $3)",
                               department, org, str(department))
        insert = ("INSERT INTO folder (id, organization_id, parent_id, name, owner_type, owner_id, department_id, "
                  "path, created_by) VALUES ($1, $2, $3, $4, 'ORG', $2, $5, $6, $7)")
        await conn.execute(insert, root, org, None, "Root", dept, [root], user)
        await conn.execute(insert, child, org, root, "Child", other, [root, child], user)  # the wrong drive
        await asyncio.to_thread(upgrade, empty_database_url)
        assert await conn.fetchval("SELECT department_id FROM folder WHERE id = $1", child) == dept
        with pytest.raises(asyncpg.CheckViolationError, match="parent's drive"):
            await conn.execute("UPDATE folder SET department_id = $1 WHERE id = $2", other, child)
        with pytest.raises(asyncpg.CheckViolationError, match="parent's drive"):
            await conn.execute("UPDATE folder SET department_id = $1 WHERE id = $2", other, root)
        async with conn.transaction():  # a whole subtree moving together is fine
            await conn.execute("UPDATE folder SET department_id = $1", other)
    finally:
        await conn.close()
