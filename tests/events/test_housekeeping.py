"""Housekeeping jobs: the trash purge after retention, expired grants, old failed logins.
Each runs twice with one effect."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from docgraph import models
from docgraph.events.housekeeping import purge_trash
from docgraph.events.publish import enqueue
from docgraph.events.worker import run_once
from docgraph.globalid import decode
from docgraph.models.base import utcnow
from tests.api.documents_helpers import member, pdf, sha256, storage_keys, uploaded

DELETE = """mutation($id: ID!) { deleteDocument(input: {documentId: $id}) { document { id } approval { id } } }"""


async def _trash_days_ago(services, document_gid: str, days: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(update(models.Document).where(models.Document.id == decode(document_gid)[1])
                              .values(deleted_at=utcnow() - timedelta(days=days)))


async def _blob(services, content: bytes) -> models.Blob:
    async with services.db.reading() as session:
        return (await session.execute(select(models.Blob).where(models.Blob.sha256 == sha256(content)))).scalar_one()


async def test_content_trashed_past_retention_is_purged_once_and_rows_stay(http, api, services, factory):
    org = await factory.organization()
    admin = await member(factory, api, org, "ADMIN")  # a reviewer: its delete applies at once
    old, recent, shared = pdf(3000, seed=11), pdf(3000, seed=12), pdf(3000, seed=13)
    old_doc = await uploaded(http, admin.token, admin.drive, old, file_name="old.pdf")
    recent_doc = await uploaded(http, admin.token, admin.drive, recent, file_name="recent.pdf")
    shared_trashed = await uploaded(http, admin.token, admin.drive, shared, file_name="shared-1.pdf")
    await uploaded(http, admin.token, admin.drive, shared, file_name="shared-2.pdf")  # stays live
    for document, days in ((old_doc, 31), (recent_doc, 5), (shared_trashed, 31)):
        await api.ok(DELETE, {"id": document["id"]}, token=admin.token)
        await _trash_days_ago(services, document["id"], days)

    for expected in (1, 0):  # idempotent: the second run finds nothing
        async with services.db.transaction() as session:
            assert await purge_trash(session, services.storage, org.id, timedelta(days=30)) == expected

    keys = await storage_keys(services.storage, f"{org.id}/blobs/")
    assert f"{org.id}/blobs/{sha256(old)}" not in keys
    assert {f"{org.id}/blobs/{sha256(recent)}", f"{org.id}/blobs/{sha256(shared)}"} <= set(keys)
    assert (await _blob(services, old)).purged_at is not None
    assert (await _blob(services, recent)).purged_at is None
    async with services.db.reading() as session:  # tombstones: the version rows remain
        versions = (await session.execute(select(func.count()).select_from(models.DocumentVersion))).scalar_one()
    assert versions == 4


async def test_the_purge_runs_as_a_worker_job_with_the_organizations_retention(http, api, services, factory):
    org = await factory.organization(trash_retention_days=7)
    admin = await member(factory, api, org, "ADMIN")
    content = pdf(2000, seed=21)
    document = await uploaded(http, admin.token, admin.drive, content)
    await api.ok(DELETE, {"id": document["id"]}, token=admin.token)
    await _trash_days_ago(services, document["id"], 8)
    async with services.db.transaction() as session:
        await enqueue(session, "trash.purge", {})
    assert await run_once(services.db, services.storage, services.settings) >= 1
    assert (await _blob(services, content)).purged_at is not None


async def test_expired_grants_are_removed_after_a_week_and_live_ones_stay(services, factory):
    from docgraph.events.housekeeping import expired_grants_job
    from docgraph.events.worker import JobContext

    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    department = await factory.department(org, by=admin)
    now = utcnow()
    async with services.db.transaction() as session:
        for expires in (now - timedelta(days=8), now - timedelta(days=1), now + timedelta(days=1), None):
            session.add(models.Grant(organization_id=org.id, folder_id=department.root_folder_id,
                                     subject_type="USER", subject_id=(await factory.user(org)).id,
                                     can_view=True, expires_at=expires))
    for _ in range(2):
        async with services.db.transaction() as session:
            await expired_grants_job(JobContext(session, services.storage, services.settings), {})
    async with services.db.reading() as session:
        left = (await session.execute(select(models.Grant.expires_at))).scalars().all()
    assert len(left) == 3 and all(e is None or e > now - timedelta(days=7) for e in left)


RESTORE = """mutation($id: ID!) { restoreDocument(input: {id: $id}) { document { id deletedAt } } }"""
DELETE_FOLDER = """mutation($id: ID!) { deleteFolder(input: {folderId: $id}) { folder { id } } }"""
RESTORE_FOLDER = """mutation($id: ID!) { restoreFolder(input: {id: $id}) { folder { id } } }"""


async def test_a_purged_document_or_folder_cannot_be_restored_but_a_recent_one_can(http, api, services, factory):
    from tests.api.documents_helpers import folder as new_folder

    org = await factory.organization()
    admin = await member(factory, api, org, "ADMIN")
    old = await uploaded(http, admin.token, admin.drive, pdf(1500, seed=31), file_name="old.pdf")
    recent = await uploaded(http, admin.token, admin.drive, pdf(1500, seed=32), file_name="recent.pdf")
    archive = await new_folder(api, admin, admin.drive, "Archive")
    await uploaded(http, admin.token, archive, pdf(1500, seed=33), file_name="inside.pdf")
    for document in (old, recent):
        await api.ok(DELETE, {"id": document["id"]}, token=admin.token)
    await api.ok(DELETE_FOLDER, {"id": archive}, token=admin.token)
    await _trash_days_ago(services, old["id"], 40)
    async with services.db.transaction() as session:  # the folder's documents were trashed 40 days ago too
        await session.execute(update(models.Document).where(models.Document.name == "inside.pdf")
                              .values(deleted_at=utcnow() - timedelta(days=40)))
    async with services.db.transaction() as session:
        assert await purge_trash(session, services.storage, org.id, timedelta(days=30)) == 2

    error = await api.error(RESTORE, {"id": old["id"]}, token=admin.token)
    assert error["extensions"]["code"] == "CONFLICT" and "retention" in error["message"]
    assert (await api.code(RESTORE_FOLDER, {"id": archive}, token=admin.token)) == "CONFLICT"
    restored = await api.ok(RESTORE, {"id": recent["id"]}, token=admin.token)
    assert restored["restoreDocument"]["document"]["deletedAt"] is None
