"""Another organization's IDs in every folder and sharing query or mutation: NOT_FOUND (or null
for node/nodes), even for the acting organization's ADMIN."""

from __future__ import annotations

import pytest

from tests.permissions.helpers import (
    CREATE_FOLDER,
    DELETE_FOLDER,
    EXPLAIN,
    FOLDER,
    MOVE_FOLDER,
    RESTORE_FOLDER,
    REVOKE_SHARE,
    SHARE,
    UPDATE_FOLDER,
    UPDATE_SHARE,
    Drive,
    department_root,
    gid,
    person,
)


@pytest.fixture
async def two_orgs(api, factory):
    """Ada administers org A; org B has a department folder, a deleted folder, a share, a
    group, a role and a member, all created by B's admin Bob."""
    drive = Drive(api)
    a, b = await factory.organization(), await factory.organization()
    ada = await person(factory, a, "ADMIN", "Ada (admin of A)")
    ed = await person(factory, a, "EDITOR", "Ed (editor in A)")
    bob = await person(factory, b, "ADMIN", "Bob (admin of B)")
    bea = await person(factory, b, "EDITOR", "Bea (editor in B)")
    b_dept = await factory.department(b, by=bob.user)
    b_folder, b_sub = await drive.tree(bob, department_root(b_dept), "B folder", "B sub")
    (b_deleted,) = await drive.tree(bob, b_folder, "B deleted")
    await api.ok(DELETE_FOLDER, {"input": {"folderId": b_deleted}}, token=bob.token)
    b_share = await drive.share(bob, b_folder, bea.id, {"VIEW"})
    b_group = await factory.group(b, bea.user)
    b_role = await factory.role(b, bea.user)
    a_dept = await factory.department(a, by=ada.user)
    (a_folder,) = await drive.tree(ada, department_root(a_dept), "A folder")
    return {
        "ada": ada, "ed": ed, "bob": bob, "bea": bea, "b_folder": b_folder, "b_sub": b_sub,
        "b_deleted": b_deleted, "b_share": b_share, "b_group": gid("Group", b_group.id),
        "b_role": gid("Role", b_role.id), "a_folder": a_folder, "b_root": department_root(b_dept),
    }


async def test_every_folder_query_and_mutation_with_another_orgs_ids_is_not_found(api, two_orgs):
    w, token = two_orgs, two_orgs["ada"].token
    cases = {
        "folder": (FOLDER, {"id": w["b_folder"]}),
        "createFolder under B's folder": (CREATE_FOLDER, {"input": {"parentId": w["b_folder"], "name": "x"}}),
        "updateFolder of B's folder": (UPDATE_FOLDER, {"input": {"folderId": w["b_folder"], "name": "x"}}),
        "moveFolder of B's folder": (MOVE_FOLDER, {"input": {"folderId": w["b_sub"], "newParentId": w["a_folder"]}}),
        "moveFolder into B's folder": (MOVE_FOLDER, {"input": {"folderId": w["a_folder"], "newParentId": w["b_folder"]}}),
        "deleteFolder of B's folder": (DELETE_FOLDER, {"input": {"folderId": w["b_folder"]}}),
        "restoreFolder of B's deleted folder": (RESTORE_FOLDER, {"input": {"id": w["b_deleted"]}}),
        "share B's folder": (SHARE, {"input": {"resourceId": w["b_folder"], "subjectId": w["ed"].id,
                                               "capabilities": ["VIEW"]}}),
        "share with B's member": (SHARE, {"input": {"resourceId": w["a_folder"], "subjectId": w["bea"].id,
                                                    "capabilities": ["VIEW"]}}),
        "share with B's group": (SHARE, {"input": {"resourceId": w["a_folder"], "subjectId": w["b_group"],
                                                   "capabilities": ["VIEW"]}}),
        "share with B's role": (SHARE, {"input": {"resourceId": w["a_folder"], "subjectId": w["b_role"],
                                                  "capabilities": ["VIEW"]}}),
        "updateShare of B's share": (UPDATE_SHARE, {"input": {"shareId": w["b_share"], "capabilities": ["VIEW"]}}),
        "revokeShare of B's share": (REVOKE_SHARE, {"input": {"shareId": w["b_share"]}}),
        "explainAccess on B's folder": (EXPLAIN, {"r": w["b_folder"], "u": None}),
        "explainAccess about B's member": (EXPLAIN, {"r": w["a_folder"], "u": w["bea"].id}),
    }
    for name, (query, variables) in cases.items():
        code = await api.code(query, variables, token=token)
        assert code == "NOT_FOUND", f"Ada (admin of A), {name}: expected NOT_FOUND, got {code}"


async def test_node_and_nodes_answer_null_for_another_orgs_objects(api, two_orgs):
    w, token = two_orgs, two_orgs["ada"].token
    foreign = [w["b_folder"], w["b_root"], w["b_share"], w["b_group"], w["b_role"], w["bea"].id]
    for global_id in foreign:
        data = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, token=token)
        assert data["node"] is None, f"Ada (admin of A) sees node {global_id} of B"
    data = await api.ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [*foreign, w["a_folder"]]},
                        token=token)
    assert data["nodes"] == [None] * len(foreign) + [{"id": w["a_folder"]}]


async def test_lists_never_show_another_orgs_folders(api, two_orgs):
    w = two_orgs
    data = await api.ok("{ drives { id } sharedWithMe { totalCount } }", token=w["ada"].token)
    assert w["b_root"] not in {d["id"] for d in data["drives"]}
    assert data["sharedWithMe"]["totalCount"] == 0
    # Bea sees B's share, and nothing of A.
    data = await api.ok("{ sharedWithMe { totalCount edges { node { id } } } }", token=w["bea"].token)
    assert [e["node"]["id"] for e in data["sharedWithMe"]["edges"]] == [w["b_share"]]
