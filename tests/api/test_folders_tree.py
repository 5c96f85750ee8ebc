"""moveFolder, deleteFolder and restoreFolder: subtrees, drives, deletion sets, refusals."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from docgraph import globalid, models
from tests.permissions.helpers import (
    DELETE_FOLDER,
    MOVE_FOLDER,
    RESTORE_FOLDER,
    Drive,
    audit_rows,
    department_root,
    my_drive,
    person,
)

DELETE_FOLDER_OR_APPROVAL = """mutation($input: DeleteFolderInput!) { deleteFolder(input: $input) {
    folder { id } approval { status action } } }"""
ANCESTORS = "query($id: ID!) { folder(id: $id) { drive department { name } owner { id } ancestors { name } } }"


@pytest.fixture
async def setup(api, factory):
    org = await factory.organization()
    ada = await person(factory, org, "ADMIN", "Ada (admin)")
    ed = await person(factory, org, "EDITOR", "Ed (editor)")
    finance = await factory.department(org, "Finance", by=ada.user)
    legal = await factory.department(org, "Legal", by=ada.user)
    drive = Drive(api)
    a, b, c = await drive.tree(ada, department_root(finance), "A", "B", "C")
    (x,) = await drive.tree(ada, department_root(legal), "X")
    return {"org": org, "ada": ada, "ed": ed, "finance": finance, "legal": legal, "drive": drive,
            "a": a, "b": b, "c": c, "x": x}


async def _row(services, folder_gid: str) -> models.Folder:
    async with services.db.reading() as session:
        return await session.get(models.Folder, globalid.decode(folder_gid)[1])


async def test_move_rewrites_the_subtree_and_its_drive(api, services, setup):
    s = setup
    data = await api.ok(MOVE_FOLDER, {"input": {"folderId": s["b"], "newParentId": s["x"]}}, token=s["ada"].token)
    assert [a["id"] for a in data["moveFolder"]["folder"]["ancestors"]] == [department_root(s["legal"]), s["x"]]
    c = (await api.ok(ANCESTORS, {"id": s["c"]}, token=s["ada"].token))["folder"]
    assert [a["name"] for a in c["ancestors"]] == ["Legal", "X", "B"]
    assert c["department"]["name"] == "Legal"
    row_c, row_x = await _row(services, s["c"]), await _row(services, s["x"])
    assert row_c.path[:2] == row_x.path and row_c.department_id == s["legal"].id
    # Into someone's My Drive: the subtree becomes personal, owned by Ed.
    ed_drive = await my_drive(services, s["ed"].user, s["org"])
    await api.ok(MOVE_FOLDER, {"input": {"folderId": s["b"], "newParentId": ed_drive}}, token=s["ada"].token)
    c = (await api.ok(ANCESTORS, {"id": s["c"]}, token=s["ada"].token))["folder"]
    assert c["drive"] == "PERSONAL" and c["owner"] == {"id": s["ed"].id} and c["department"] is None


async def test_move_refuses_cycles_roots_and_name_clashes(api, setup):
    s, token = setup, setup["ada"].token
    for target, why in [(s["c"], "into its own subfolder"), (s["a"], "into itself")]:
        error = await api.error(MOVE_FOLDER, {"input": {"folderId": s["a"], "newParentId": target}}, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", why
    root = department_root(s["finance"])
    assert await api.code(MOVE_FOLDER, {"input": {"folderId": root, "newParentId": s["x"]}}, token=token) \
        == "BAD_USER_INPUT"
    await s["drive"].create(s["ada"], s["x"], "b")
    assert await api.code(MOVE_FOLDER, {"input": {"folderId": s["b"], "newParentId": s["x"]}}, token=token) \
        == "CONFLICT"
    # Moving to the current parent changes nothing.
    await api.ok(MOVE_FOLDER, {"input": {"folderId": s["b"], "newParentId": s["a"]}}, token=token)


async def test_move_needs_delete_on_the_folder_and_create_on_the_target(api, setup):
    s, drive, ed, ada = setup, setup["drive"], setup["ed"], setup["ada"]
    move = {"input": {"folderId": s["b"], "newParentId": s["x"]}}
    await drive.share(ada, s["a"], ed.id, {"VIEW"})
    assert await api.code(MOVE_FOLDER, move, token=ed.token) == "FORBIDDEN"  # no DELETE on B
    await drive.share(ada, s["a"], ed.id, {"VIEW", "DELETE"})
    assert await api.code(MOVE_FOLDER, move, token=ed.token) == "NOT_FOUND"  # cannot see X
    await drive.share(ada, s["x"], ed.id, {"VIEW"})
    assert await api.code(MOVE_FOLDER, move, token=ed.token) == "FORBIDDEN"  # no CREATE on X
    await drive.share(ada, s["x"], ed.id, {"VIEW", "CREATE"})
    await api.ok(MOVE_FOLDER, move, token=ed.token)


async def test_concurrent_crossing_moves_never_make_a_cycle(api, services, setup):
    s, token = setup, setup["ada"].token
    results = await asyncio.gather(
        api.raw(MOVE_FOLDER, {"input": {"folderId": s["a"], "newParentId": s["x"]}}, token=token),
        api.raw(MOVE_FOLDER, {"input": {"folderId": s["x"], "newParentId": s["c"]}}, token=token),
    )
    codes = [r["errors"][0]["extensions"]["code"] if r.get("errors") else "OK" for r in results]
    assert sorted(codes) == ["BAD_USER_INPUT", "OK"], codes
    for folder in ("a", "b", "c", "x"):
        row = await _row(services, s[folder])
        assert len(set(row.path)) == len(row.path), f"cycle in {folder}'s path {row.path}"


async def test_delete_hides_the_whole_subtree_as_one_deletion_set(api, services, setup):
    s = setup
    data = await api.ok(DELETE_FOLDER, {"input": {"folderId": s["b"], "comment": "old"}}, token=s["ada"].token)
    assert data["deleteFolder"]["folder"]["deletedAt"] is not None
    rows = [await _row(services, s[f]) for f in ("b", "c")]
    assert all(r.deleted_at for r in rows) and rows[0].deletion_id == rows[1].deletion_id
    assert (await _row(services, s["a"])).deleted_at is None
    for folder in ("b", "c"):
        assert await s["drive"].permissions(s["ada"], s[folder]) is None
    (entry,) = await audit_rows(services, s["org"], "DELETE")
    assert entry.change_details["folders"] == 2 and entry.change_details["comment"] == "old"


async def test_delete_refusals(api, setup):
    s, drive, ed, ada = setup, setup["drive"], setup["ed"], setup["ada"]
    root = department_root(s["finance"])
    assert await api.code(DELETE_FOLDER, {"input": {"folderId": root}}, token=ada.token) == "BAD_USER_INPUT"
    assert await api.code(DELETE_FOLDER, {"input": {"folderId": s["c"]}}, token=ed.token) == "NOT_FOUND"
    await drive.share(ada, s["a"], ed.id, {"VIEW"})
    assert await api.code(DELETE_FOLDER, {"input": {"folderId": s["c"]}}, token=ed.token) == "FORBIDDEN"
    await drive.share(ada, s["a"], ed.id, {"VIEW", "DELETE"})
    # Ed is no reviewer: deleting a non-empty folder waits for an approval, nothing is hidden yet.
    asked = await api.ok(DELETE_FOLDER_OR_APPROVAL, {"input": {"folderId": s["b"]}}, token=ed.token)
    assert asked["deleteFolder"] == {"folder": None, "approval": {"status": "PENDING", "action": "DELETE"}}
    await api.ok(DELETE_FOLDER, {"input": {"folderId": s["c"]}}, token=ed.token)  # empty: DELETE suffices
    await api.ok(DELETE_FOLDER, {"input": {"folderId": s["b"]}}, token=ed.token)  # now empty too


async def test_restore_brings_back_exactly_its_deletion_set(api, services, setup):
    s, token = setup, setup["ada"].token
    await api.ok(DELETE_FOLDER, {"input": {"folderId": s["c"]}}, token=token)   # deleted on its own first
    await api.ok(DELETE_FOLDER, {"input": {"folderId": s["a"]}}, token=token)   # then A (with B)
    assert await api.code(RESTORE_FOLDER, {"input": {"id": s["c"]}}, token=token) == "CONFLICT"  # B is deleted
    data = await api.ok(RESTORE_FOLDER, {"input": {"id": s["a"]}}, token=token)
    assert data["restoreFolder"]["folder"]["deletedAt"] is None
    assert (await _row(services, s["b"])).deleted_at is None
    assert (await _row(services, s["c"])).deleted_at is not None  # another deletion set
    await api.ok(RESTORE_FOLDER, {"input": {"id": s["c"]}}, token=token)
    assert await api.code(RESTORE_FOLDER, {"input": {"id": s["c"]}}, token=token) == "CONFLICT"  # not deleted
    rows = await audit_rows(services, s["org"], "RESTORE")
    assert [r.status for r in rows] == ["FAILURE", "SUCCESS", "SUCCESS", "FAILURE"]


async def test_restore_refuses_a_taken_name_and_needs_delete(api, setup):
    s, drive, ed, ada = setup, setup["drive"], setup["ed"], setup["ada"]
    await api.ok(DELETE_FOLDER, {"input": {"folderId": s["c"]}}, token=ada.token)
    await drive.create(ada, s["b"], "C")
    assert await api.code(RESTORE_FOLDER, {"input": {"id": s["c"]}}, token=ada.token) == "CONFLICT"
    assert await api.code(RESTORE_FOLDER, {"input": {"id": s["c"]}}, token=ed.token) == "NOT_FOUND"
    await drive.share(ada, s["a"], ed.id, {"VIEW"})
    assert await api.code(RESTORE_FOLDER, {"input": {"id": s["c"]}}, token=ed.token) == "FORBIDDEN"


async def test_documents_in_a_deleted_subtree_share_its_deletion_set(api, services, setup):
    s = setup
    folder_id = globalid.decode(s["c"])[1]
    async with services.db.transaction() as session:
        document = models.Document(organization_id=s["org"].id, folder_id=folder_id, name="report.pdf",
                                   content_type="application/pdf", file_size=1, created_by=s["ada"].user.id)
        session.add(document)
    await api.ok(DELETE_FOLDER, {"input": {"folderId": s["b"]}}, token=s["ada"].token)
    async with services.db.reading() as session:
        hidden = await session.get(models.Document, document.id)
        b = await session.get(models.Folder, globalid.decode(s["b"])[1])
    assert hidden.deletion_id == b.deletion_id and hidden.deleted_by == s["ada"].user.id
    await api.ok(RESTORE_FOLDER, {"input": {"id": s["b"]}}, token=s["ada"].token)
    async with services.db.reading() as session:
        restored = (await session.execute(select(models.Document).where(models.Document.id == document.id))).scalar_one()
    assert restored.deleted_at is None and restored.deletion_id is None
