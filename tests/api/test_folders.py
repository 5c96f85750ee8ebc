"""createFolder and updateFolder: drives, names, the creator's row, roots, audit."""

from __future__ import annotations

import pytest

from tests.permissions.helpers import (
    ALL,
    CREATE_FOLDER,
    UPDATE_FOLDER,
    Drive,
    audit_rows,
    department_root,
    gid,
    my_drive,
    person,
)

FOLDER_DETAILS = """query($id: ID!) { folder(id: $id) { id name description drive
  parent { id } ancestors { id name } department { id name } owner { id } createdBy { id }
  shares { subject { ... on User { id } } permissions { canView canCreate canUpdate canDelete canShare canManage } }
} }"""


@pytest.fixture
async def org(factory):
    org = await factory.organization()
    return org


@pytest.fixture
async def ada(factory, org):
    return await person(factory, org, "ADMIN", "Ada (admin)")


@pytest.fixture
async def ed(factory, org):
    return await person(factory, org, "EDITOR", "Ed (editor)")


@pytest.fixture
async def finance(factory, org, ada):
    return await factory.department(org, "Finance", by=ada.user)


async def test_a_subfolder_joins_its_parents_drive_and_its_creator_gets_a_full_row(api, ada, finance):
    drive = Drive(api)
    reports, q1 = await drive.tree(ada, department_root(finance), "Reports", "Q1")
    data = (await api.ok(FOLDER_DETAILS, {"id": q1}, token=ada.token))["folder"]
    assert data["drive"] == "ORGANIZATION" and data["owner"] is None
    assert data["department"] == {"id": gid("Department", finance.id), "name": "Finance"}
    assert data["parent"] == {"id": reports}
    assert [a["name"] for a in data["ancestors"]] == ["Finance", "Reports"]
    assert data["createdBy"]["id"] == ada.id
    (creator_row,) = data["shares"]
    assert creator_row["subject"]["id"] == ada.id and all(creator_row["permissions"].values())


async def test_a_folder_in_my_drive_is_personal_and_owned(api, services, org, ed):
    drive = Drive(api)
    (notes,) = await drive.tree(ed, await my_drive(services, ed.user, org), "Notes")
    data = (await api.ok(FOLDER_DETAILS, {"id": notes}, token=ed.token))["folder"]
    assert data["drive"] == "PERSONAL" and data["owner"] == {"id": ed.id} and data["department"] is None


async def test_names_are_trimmed_and_validated(api, ada, finance):
    root = department_root(finance)
    data = await api.ok(CREATE_FOLDER, {"input": {"parentId": root, "name": "  Budget 2025  "}}, token=ada.token)
    assert data["createFolder"]["folder"]["name"] == "Budget 2025"
    for bad in ["", "   ", "a/b", "tab\there", "new\nline", "x" * 256]:
        error = await api.error(CREATE_FOLDER, {"input": {"parentId": root, "name": bad}}, token=ada.token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", f"name {bad!r}: {error}"
    await api.ok(CREATE_FOLDER, {"input": {"parentId": root, "name": "x" * 255}}, token=ada.token)


async def test_sibling_names_are_unique_case_insensitively_among_live_folders(api, ada, finance):
    drive = Drive(api)
    root = department_root(finance)
    first = await drive.create(ada, root, "Invoices")
    error = await api.error(CREATE_FOLDER, {"input": {"parentId": root, "name": "INVOICES"}}, token=ada.token)
    assert error["extensions"]["code"] == "CONFLICT" and "already exists" in error["message"]
    await api.ok("mutation($i: DeleteFolderInput!) { deleteFolder(input: $i) { folder { id } } }",
                 {"i": {"folderId": first}}, token=ada.token)
    await drive.create(ada, root, "invoices")  # the deleted one no longer counts
    (other,) = await drive.tree(ada, root, "Elsewhere")
    await drive.create(ada, other, "Invoices")  # another parent


async def test_create_needs_create_on_the_parent(api, ada, ed, finance):
    drive = Drive(api)
    (reports,) = await drive.tree(ada, department_root(finance), "Reports")
    variables = {"input": {"parentId": reports, "name": "Mine"}}
    assert await api.code(CREATE_FOLDER, variables, token=ed.token) == "NOT_FOUND"  # Ed cannot see Reports
    await drive.share(ada, reports, ed.id, {"VIEW"})
    assert await api.code(CREATE_FOLDER, variables, token=ed.token) == "FORBIDDEN"
    await drive.share(ada, reports, ed.id, {"VIEW", "CREATE"})
    await api.ok(CREATE_FOLDER, variables, token=ed.token)


async def test_bad_ids_and_missing_tokens(api, ada, finance):
    assert await api.code(CREATE_FOLDER, {"input": {"parentId": "!!", "name": "x"}}, token=ada.token) == "BAD_USER_INPUT"
    assert await api.code(CREATE_FOLDER, {"input": {"parentId": ada.id, "name": "x"}},
                          token=ada.token) == "BAD_USER_INPUT"  # a User ID where a Folder is expected
    assert await api.code(CREATE_FOLDER, {"input": {"parentId": department_root(finance), "name": "x"}}) \
        == "UNAUTHENTICATED"
    missing = gid("Folder", __import__("uuid").uuid4())
    assert await api.code(CREATE_FOLDER, {"input": {"parentId": missing, "name": "x"}}, token=ada.token) == "NOT_FOUND"


async def test_rename_and_describe_need_update(api, ada, ed, finance):
    drive = Drive(api)
    (reports,) = await drive.tree(ada, department_root(finance), "Reports")
    await drive.share(ada, reports, ed.id, {"VIEW"})
    rename = {"input": {"folderId": reports, "name": "Annual reports"}}
    assert await api.code(UPDATE_FOLDER, rename, token=ed.token) == "FORBIDDEN"
    await drive.share(ada, reports, ed.id, {"VIEW", "UPDATE"})
    data = await api.ok(UPDATE_FOLDER, {"input": {"folderId": reports, "description": "Yearly"}}, token=ed.token)
    assert data["updateFolder"]["folder"] == {"id": reports, "name": "Reports", "description": "Yearly"}
    data = await api.ok(UPDATE_FOLDER, rename, token=ed.token)
    assert data["updateFolder"]["folder"]["name"] == "Annual reports"
    assert data["updateFolder"]["folder"]["description"] == "Yearly"  # omitted: kept
    data = await api.ok(UPDATE_FOLDER, {"input": {"folderId": reports, "description": None}}, token=ed.token)
    assert data["updateFolder"]["folder"]["description"] is None  # null: cleared
    assert await api.code(UPDATE_FOLDER, {"input": {"folderId": reports, "name": None}}, token=ed.token) \
        == "BAD_USER_INPUT"


async def test_rename_conflicts_with_a_live_sibling(api, ada, finance):
    drive = Drive(api)
    root = department_root(finance)
    await drive.create(ada, root, "Taken")
    free = await drive.create(ada, root, "Free")
    error = await api.error(UPDATE_FOLDER, {"input": {"folderId": free, "name": "taken"}}, token=ada.token)
    assert error["extensions"]["code"] == "CONFLICT"
    data = await api.ok(UPDATE_FOLDER, {"input": {"folderId": free, "name": "FREE"}}, token=ada.token)
    assert data["updateFolder"]["folder"]["name"] == "FREE"  # its own name in another case is fine


async def test_drive_roots_renamed_by_admins_only_and_my_drive_never(api, factory, services, org, ada, ed, finance):
    fin = await person(factory, org, "EDITOR", "Fin (Finance admin)")
    legal = await factory.department(org, "Legal", by=ada.user, admins=(fin.user,))
    drive = Drive(api)
    root = department_root(legal)
    await drive.share(ada, root, ed.id, {"VIEW", "UPDATE"})
    rename = {"input": {"folderId": root, "name": "Legal & Compliance"}}
    assert await api.code(UPDATE_FOLDER, rename, token=ed.token) == "FORBIDDEN"  # UPDATE is not enough
    await api.ok(UPDATE_FOLDER, {"input": {"folderId": root, "description": "Contracts"}}, token=ed.token)
    data = await api.ok(UPDATE_FOLDER, rename, token=fin.token)  # its department admin may
    assert data["updateFolder"]["folder"]["name"] == "Legal & Compliance"
    mine = await my_drive(services, ed.user, org)
    assert await api.code(UPDATE_FOLDER, {"input": {"folderId": mine, "name": "Ed's"}}, token=ed.token) \
        == "BAD_USER_INPUT"


async def test_create_and_update_are_audited_and_refusals_too(api, services, org, ada, ed, finance):
    drive = Drive(api)
    (reports,) = await drive.tree(ada, department_root(finance), "Reports")
    await api.ok(UPDATE_FOLDER, {"input": {"folderId": reports, "name": "Reports 2"}}, token=ada.token)
    await api.code(UPDATE_FOLDER, {"input": {"folderId": reports, "name": "Hacked"}}, token=ed.token)
    rows = [(r.action, r.resource_type, r.status, r.user_id) for r in await audit_rows(services, org)]
    assert ("CREATE", "FOLDER", "SUCCESS", ada.user.id) in rows
    assert ("UPDATE", "FOLDER", "SUCCESS", ada.user.id) in rows
    assert ("UPDATE", "FOLDER", "FAILURE", ed.user.id) in rows
    (update,) = [r for r in await audit_rows(services, org, "UPDATE") if r.status == "SUCCESS"]
    assert update.change_details["before"]["name"] == "Reports" and update.change_details["after"]["name"] == "Reports 2"


async def test_my_permissions_of_the_creator_in_an_org_drive(api, ada, ed, finance):
    drive = Drive(api)
    (reports,) = await drive.tree(ada, department_root(finance), "Reports")
    await drive.share(ada, reports, ed.id, {"VIEW", "CREATE"})
    mine = await drive.create(ed, reports, "Ed's")
    await drive.expect(ed, mine, ALL, "creator (4b)")
