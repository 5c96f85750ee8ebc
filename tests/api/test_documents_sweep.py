"""The orphan sweep (a periodic worker job) and the expiry of upload sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from docgraph import models
from docgraph.events.publish import enqueue
from docgraph.events.worker import run_once
from docgraph.globalid import decode
from docgraph.storage import ObjectNotFound
from tests.api.documents_helpers import PDF_TYPE, member, noise, pdf, sha256, storage_keys, uploaded

START = """mutation($input: StartUploadInput!) { startUpload(input: $input) { id parts { url } } }"""


async def stream(data: bytes):
    yield data


async def run_sweep(services) -> None:
    async with services.db.transaction() as session:
        await enqueue(session, "storage.sweep", {})
    assert await run_once(services.db, services.storage, services.settings) >= 1
    async with services.db.reading() as session:
        failed = (await session.execute(select(models.OutboxJob.last_error).where(
            models.OutboxJob.kind == "storage.sweep", models.OutboxJob.last_error.is_not(None)))).scalars().all()
    assert failed == []


async def blob_rows(services) -> dict[str, datetime | None]:
    async with services.db.reading() as session:
        rows = (await session.execute(select(models.Blob.sha256, models.Blob.purged_at))).all()
    return {row.sha256: row.purged_at for row in rows}


@pytest.fixture
async def org(factory):
    return await factory.organization()


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR")


async def test_sweep_reclaims_only_what_nothing_refers_to(http, api, services, settings, backend, org, ed):
    settings.upload_grace_seconds = 0
    kept = pdf(3000, seed=1)
    await uploaded(http, ed.token, ed.drive, kept)
    waiting = pdf(2000, seed=4)  # known content an open upload session will use
    await uploaded(http, ed.token, ed.drive, waiting, file_name="w.pdf")
    started = await api.ok(START, {"input": {"folderId": ed.drive, "fileName": "again.pdf", "contentType": PDF_TYPE,
                                             "size": len(waiting), "sha256": sha256(waiting)}}, token=ed.token)
    assert started["startUpload"]["parts"] == []
    # What a crash leaves: a staging object, a promoted object whose transaction rolled back...
    await backend.put_stream(f"{org.id}/staging/{'a' * 32}", stream(b"half an upload"))
    orphan = noise(500, seed=2)
    await backend.put_stream(f"{org.id}/blobs/{sha256(orphan)}", stream(orphan))
    # ...and a blob row that lost its last reference.
    lonely = pdf(700, seed=3)
    await backend.put_stream(f"{org.id}/blobs/{sha256(lonely)}", stream(lonely))
    async with services.db.transaction() as session:
        session.add(models.Blob(organization_id=org.id, sha256=sha256(lonely), size=len(lonely),
                                storage_key=f"{org.id}/blobs/{sha256(lonely)}"))
    await run_sweep(services)
    assert await storage_keys(backend, f"{org.id}/") == sorted(
        [f"{org.id}/blobs/{sha256(kept)}", f"{org.id}/blobs/{sha256(waiting)}"])
    rows = await blob_rows(services)
    assert rows[sha256(kept)] is None and rows[sha256(waiting)] is None and rows[sha256(lonely)] is not None
    await run_sweep(services)  # idempotent
    assert len(await storage_keys(backend, f"{org.id}/")) == 2
    # The purged content comes back with the next upload of the same bytes.
    await uploaded(http, ed.token, ed.drive, lonely, file_name="lonely.pdf")
    assert (await blob_rows(services))[sha256(lonely)] is None
    assert f"{org.id}/blobs/{sha256(lonely)}" in await storage_keys(backend, f"{org.id}/")


async def test_young_orphans_are_left_for_the_grace_period(http, services, settings, org, ed):
    settings.upload_grace_seconds = 3600
    await services.storage.put_stream(f"{org.id}/staging/{'b' * 32}", stream(b"in flight"))
    await services.storage.put_stream(f"{org.id}/blobs/{'c' * 64}", stream(b"being recorded"))
    await run_sweep(services)
    assert len(await storage_keys(services.storage, f"{org.id}/")) == 2


async def test_expired_upload_sessions_are_aborted_and_closed_open_ones_kept(http, api, services, settings, ed):
    settings.upload_grace_seconds = 0
    content = pdf(1000, seed=9)
    started, resting = [(await api.ok(START, {"input": {
        "folderId": ed.drive, "fileName": name, "contentType": PDF_TYPE, "size": len(content)}},
        token=ed.token))["startUpload"] for name in ("late.pdf", "resting.pdf")]
    for session in (started, resting):
        assert (await http.put(session["parts"][0]["url"], content=content)).status_code == 200
    session_id = decode(started["id"])[1]
    async with services.db.transaction() as session:
        await session.execute(update(models.UploadSession).where(models.UploadSession.id == session_id)
                              .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert await api.code("""mutation($id: ID!) { completeUpload(input: {uploadId: $id}) { document { id } } }""",
                          {"id": started["id"]}, token=ed.token) == "CONFLICT"
    await run_sweep(services)
    async with services.db.reading() as session:
        row = await session.get(models.UploadSession, session_id)
    assert row.status == "EXPIRED"
    with pytest.raises(ObjectNotFound):
        await services.storage.list_parts(row.staging_key, row.multipart_upload_id)
    assert (await http.put(started["parts"][0]["url"], content=content)).status_code == 409
    # The open session's part is still there, however long it rested: it completes.
    done = await api.ok("""mutation($id: ID!) { completeUpload(input: {uploadId: $id}) { document { fileSize } } }""",
                        {"id": resting["id"]}, token=ed.token)
    assert done["completeUpload"]["document"]["fileSize"] == len(content)
