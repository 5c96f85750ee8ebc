"""Changing documents: attributes, place, locks; who may do each (named per case)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from docgraph import models
from docgraph.globalid import decode
from tests.api.documents_helpers import (
    DOCUMENT,
    code_of,
    data_of,
    folder,
    member,
    pdf,
    replace,
    share,
    uploaded,
)

UPDATE = """mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) {
              document { name description tags metadata updatedAt } } }"""
MOVE = """mutation($input: MoveDocumentInput!) { moveDocument(input: $input) { document { folder { id } } } }"""
DELETE = """mutation($input: DeleteDocumentInput!) { deleteDocument(input: $input) { document { deletedAt } } }"""
RESTORE = """mutation($input: RestoreInput!) { restoreDocument(input: $input) { document { deletedAt } } }"""
LOCK = """mutation($input: LockDocumentInput!) { lockDocument(input: $input) {
            document { lock { lockedBy { id } lockedAt expiresAt } } } }"""
UNLOCK = """mutation($input: UnlockDocumentInput!) { unlockDocument(input: $input) { document { lock { lockedAt } } } }"""


@pytest.fixture
async def org(factory):
    return await factory.organization()


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR", first_name="Ed")


@pytest.fixture
async def eve(factory, api, org):
    return await member(factory, api, org, "EDITOR", first_name="Eve")


@pytest.fixture
async def ada(factory, api, org):
    return await member(factory, api, org, "ADMIN", first_name="Ada")


async def test_update_replaces_tags_and_metadata_and_keeps_what_is_omitted(http, api, ed):
    document = await uploaded(http, ed.token, ed.drive, description="old", tags=["a"], metadata={"k": 1})
    data = await api.ok(UPDATE, {"input": {"documentId": document["id"], "name": "New.pdf",
                                           "tags": ["b", "c", "b"], "metadata": {"year": 2025}}}, token=ed.token)
    changed = data["updateDocument"]["document"]
    assert (changed["name"], changed["description"], changed["tags"], changed["metadata"]) == \
        ("New.pdf", "old", ["b", "c"], {"year": 2025})
    cleared = await api.ok(UPDATE, {"input": {"documentId": document["id"], "description": None,
                                              "metadata": None}}, token=ed.token)
    assert cleared["updateDocument"]["document"]["description"] is None
    assert cleared["updateDocument"]["document"]["metadata"] == {}
    assert await api.code(UPDATE, {"input": {"documentId": document["id"], "name": None}},
                          token=ed.token) == "BAD_USER_INPUT"


async def test_viewer_with_a_view_share_sees_the_document_but_may_not_change_it(http, api, factory, org, ed):
    document = await uploaded(http, ed.token, ed.drive)
    vic = await member(factory, api, org, "VIEWER", first_name="Vic")
    await share(api, ed, document["id"], vic, "VIEW")
    assert (await api.ok(DOCUMENT, {"id": document["id"]}, token=vic.token))["document"]["id"] == document["id"]
    # Vic (viewer, VIEW share) on Ed's document: FORBIDDEN for every change
    assert await api.code(UPDATE, {"input": {"documentId": document["id"], "name": "x.pdf"}},
                          token=vic.token) == "FORBIDDEN"
    assert code_of(await replace(http, vic.token, document["id"], pdf(seed=5))) == "FORBIDDEN"
    assert await api.code(DELETE, {"input": {"documentId": document["id"]}}, token=vic.token) == "FORBIDDEN"
    assert await api.code(LOCK, {"input": {"documentId": document["id"]}}, token=vic.token) == "FORBIDDEN"
    perms = await api.ok("query($id: ID!) { document(id: $id) { myPermissions { canView canUpdate } } }",
                         {"id": document["id"]}, token=vic.token)
    assert perms["document"]["myPermissions"] == {"canView": True, "canUpdate": False}


async def test_move_needs_delete_on_the_document_and_create_on_the_target(http, api, ed, eve):
    document = await uploaded(http, ed.token, ed.drive, file_name="m.pdf")
    archive = await folder(api, ed, ed.drive, "Archive")
    moved = await api.ok(MOVE, {"input": {"documentId": document["id"], "folderId": archive}}, token=ed.token)
    assert moved["moveDocument"]["document"]["folder"]["id"] == archive
    listing = await api.ok("query($id: ID!) { folder(id: $id) { documents { totalCount edges { node { id } } } } }",
                           {"id": archive}, token=ed.token)
    assert listing["folder"]["documents"]["totalCount"] == 1
    # Eve (editor) may view and update Ed's document, not delete it: moving it away is FORBIDDEN
    await share(api, ed, document["id"], eve, "VIEW", "UPDATE")
    assert await api.code(MOVE, {"input": {"documentId": document["id"], "folderId": eve.drive}},
                          token=eve.token) == "FORBIDDEN"
    # Ed into Eve's My Drive, which Ed cannot see: NOT_FOUND
    assert await api.code(MOVE, {"input": {"documentId": document["id"], "folderId": eve.drive}},
                          token=ed.token) == "NOT_FOUND"
    await uploaded(http, ed.token, ed.drive, file_name="M.PDF")
    assert await api.code(MOVE, {"input": {"documentId": document["id"], "folderId": ed.drive}},
                          token=ed.token) == "CONFLICT"


async def test_delete_hides_and_restore_brings_back_unless_the_name_is_taken(http, api, ed):
    document = await uploaded(http, ed.token, ed.drive, file_name="d.pdf")
    deleted = await api.ok(DELETE, {"input": {"documentId": document["id"], "comment": "old"}}, token=ed.token)
    assert deleted["deleteDocument"]["document"]["deletedAt"]
    assert await api.code(DOCUMENT, {"id": document["id"]}, token=ed.token) == "NOT_FOUND"
    assert await api.code(DELETE, {"input": {"documentId": document["id"]}}, token=ed.token) == "NOT_FOUND"
    namesake = await uploaded(http, ed.token, ed.drive, pdf(seed=8), file_name="D.pdf")  # the name is free
    assert await api.code(RESTORE, {"input": {"id": document["id"]}}, token=ed.token) == "CONFLICT"
    await api.ok(DELETE, {"input": {"documentId": namesake["id"]}}, token=ed.token)
    restored = await api.ok(RESTORE, {"input": {"id": document["id"]}}, token=ed.token)
    assert restored["restoreDocument"]["document"]["deletedAt"] is None
    assert await api.code(RESTORE, {"input": {"id": document["id"]}}, token=ed.token) == "CONFLICT"


async def test_a_lock_stops_everyone_else_but_its_holder_and_admins(http, api, ed, eve, ada):
    document = await uploaded(http, ed.token, ed.drive)
    await share(api, ed, document["id"], eve, "VIEW", "UPDATE", "DELETE")
    locked = await api.ok(LOCK, {"input": {"documentId": document["id"]}}, token=ed.token)
    lock = locked["lockDocument"]["document"]["lock"]
    assert lock["lockedBy"]["id"] == ed.id and lock["expiresAt"] is None
    # Eve (editor with UPDATE+DELETE) on Ed's locked document: LOCKED for every change
    assert code_of(await replace(http, eve.token, document["id"], pdf(seed=6))) == "LOCKED"
    assert await api.code(UPDATE, {"input": {"documentId": document["id"], "name": "e.pdf"}},
                          token=eve.token) == "LOCKED"
    assert await api.code(DELETE, {"input": {"documentId": document["id"]}}, token=eve.token) == "LOCKED"
    assert await api.code(MOVE, {"input": {"documentId": document["id"], "folderId": ed.drive}},
                          token=eve.token) == "LOCKED"
    assert await api.code(LOCK, {"input": {"documentId": document["id"]}}, token=eve.token) == "LOCKED"
    assert await api.code(UNLOCK, {"input": {"documentId": document["id"]}}, token=eve.token) == "LOCKED"
    # ...and `force` is for admins: FORBIDDEN for Eve
    assert await api.code(UNLOCK, {"input": {"documentId": document["id"], "force": True}},
                          token=eve.token) == "FORBIDDEN"
    # Ed (the holder) may still change it
    data_of(await replace(http, ed.token, document["id"], pdf(seed=7)))
    # Ada (org admin) may change it and force-unlock it
    await api.ok(UPDATE, {"input": {"documentId": document["id"], "description": "by Ada"}}, token=ada.token)
    unlocked = await api.ok(UNLOCK, {"input": {"documentId": document["id"], "force": True}}, token=ada.token)
    assert unlocked["unlockDocument"]["document"]["lock"] is None
    data_of(await replace(http, eve.token, document["id"], pdf(seed=8)))


async def test_an_expired_lock_is_no_lock(http, api, services, ed, eve):
    document = await uploaded(http, ed.token, ed.drive)
    await share(api, ed, document["id"], eve, "VIEW", "UPDATE")
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    await api.ok(LOCK, {"input": {"documentId": document["id"], "expiresAt": soon}}, token=ed.token)
    assert code_of(await replace(http, eve.token, document["id"], pdf(seed=1))) == "LOCKED"
    async with services.db.transaction() as session:  # five minutes later
        await session.execute(update(models.Document).where(models.Document.id == decode(document["id"])[1])
                              .values(lock_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    data = await api.ok(DOCUMENT, {"id": document["id"]}, token=eve.token)
    assert data["document"]["lock"] is None
    data_of(await replace(http, eve.token, document["id"], pdf(seed=2)))
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert await api.code(LOCK, {"input": {"documentId": document["id"], "expiresAt": past}},
                          token=eve.token) == "BAD_USER_INPUT"


async def test_changes_are_audited(http, api, ed, ada):
    document = await uploaded(http, ed.token, ed.drive)
    await api.ok(LOCK, {"input": {"documentId": document["id"]}}, token=ed.token)
    await api.ok(UNLOCK, {"input": {"documentId": document["id"]}}, token=ed.token)
    await api.ok(UPDATE, {"input": {"documentId": document["id"], "tags": ["x"]}}, token=ed.token)
    data_of(await replace(http, ed.token, document["id"], pdf(seed=3)))
    await api.ok(DELETE, {"input": {"documentId": document["id"]}}, token=ed.token)
    await api.ok(RESTORE, {"input": {"id": document["id"]}}, token=ed.token)
    log = await api.ok("""query($id: ID!) { auditLog(filter: {resourceId: $id}) { edges { node {
                            action status user { id } } } } }""", {"id": document["id"]}, token=ada.token)
    actions = [e["node"]["action"] for e in log["auditLog"]["edges"]]
    assert sorted(actions) == sorted(["CREATE", "LOCK", "UNLOCK", "UPDATE", "UPDATE", "DELETE", "RESTORE"])
