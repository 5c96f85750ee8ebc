"""PostgreSQL itself refuses to change what a version recorded and what a blob row holds;
the counters a download moves, and a blob's purge mark, still change."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import make_url

from docgraph.globalid import decode
from tests.api.documents_helpers import member, pdf, uploaded

OTHER_HASH = "0" * 64


@pytest.fixture
async def conn(database_url):
    conn = await asyncpg.connect(make_url(database_url).set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    yield conn
    await conn.close()


@pytest.fixture
async def version_id(factory, api, http):
    org = await factory.organization()
    ed = await member(factory, api, org, "EDITOR")
    document = await uploaded(http, ed.token, ed.drive, pdf(5000, seed=9))
    return decode(document["currentVersion"]["id"])[1]


@pytest.mark.parametrize("assignment", [
    f"content_hash = '{OTHER_HASH}'",
    "file_size = file_size + 1",
    "version_number = version_number + 1",
    "content_type = 'text/plain'",
    "created_at = created_at - interval '1 day'",
    "created_by = gen_random_uuid()",
    "blob_id = gen_random_uuid()",
])
async def test_a_versions_content_columns_cannot_be_updated(conn, version_id, assignment):
    before = dict(await conn.fetchrow("SELECT * FROM document_version WHERE id = $1", version_id))
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="document_version rows are immutable"):
        await conn.execute(f"UPDATE document_version SET {assignment} WHERE id = $1", version_id)
    assert dict(await conn.fetchrow("SELECT * FROM document_version WHERE id = $1", version_id)) == before


async def test_a_versions_counters_and_comment_still_change(conn, version_id):
    await conn.execute("UPDATE document_version SET download_count = download_count + 1, "
                       "last_downloaded_at = now(), change_comment = 'scrubbed', original_filename = NULL "
                       "WHERE id = $1", version_id)
    row = await conn.fetchrow("SELECT download_count, change_comment FROM document_version WHERE id = $1", version_id)
    assert (row["download_count"], row["change_comment"]) == (1, "scrubbed")
    # Writing a column with its own value is no change.
    await conn.execute("UPDATE document_version SET content_hash = content_hash WHERE id = $1", version_id)


async def test_a_blobs_hash_and_size_cannot_be_updated_but_its_purge_mark_can(conn, version_id):
    blob_id = await conn.fetchval("SELECT blob_id FROM document_version WHERE id = $1", version_id)
    for assignment in (f"sha256 = '{OTHER_HASH}'", "size = size + 1", "organization_id = gen_random_uuid()"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="blob rows are immutable"):
            await conn.execute(f"UPDATE blob SET {assignment} WHERE id = $1", blob_id)
    await conn.execute("UPDATE blob SET purged_at = now() WHERE id = $1", blob_id)
    assert await conn.fetchval("SELECT purged_at IS NOT NULL FROM blob WHERE id = $1", blob_id)
