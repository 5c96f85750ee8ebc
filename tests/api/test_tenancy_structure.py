"""Departments, groups and custom roles: creation, membership, access rules, batching."""

from __future__ import annotations

from sqlalchemy import event, text

from .tenancy_helpers import audit_rows, gid

CREATE_DEPARTMENT = """
mutation($name: String!) {
  createDepartment(input: {name: $name}) { department { id name rootFolder { id name drive } admins { email } } }
}"""
SET_DEPARTMENT_ADMIN = """
mutation($d: ID!, $u: ID!, $on: Boolean!) {
  setDepartmentAdmin(input: {departmentId: $d, userId: $u, isAdmin: $on}) { department { admins { email } } }
}"""
CREATE_GROUP = """
mutation($name: String!, $d: ID) {
  createGroup(input: {name: $name, departmentId: $d}) { group { id name department { name } members { email } } }
}"""
ADD_TO_GROUP = "mutation($g: ID!, $u: ID!) { addGroupMember(input: {groupId: $g, userId: $u}) { group { members { email } } } }"
REMOVE_FROM_GROUP = """
mutation($g: ID!, $u: ID!) { removeGroupMember(input: {groupId: $g, userId: $u}) { group { members { email } } } }"""
CREATE_ROLE = """
mutation($name: String!, $description: String) {
  createRole(input: {name: $name, description: $description}) { role { id name description isSystem } }
}"""
ADD_TO_ROLE = "mutation($r: ID!, $u: ID!) { addRoleMember(input: {roleId: $r, userId: $u}) { role { members { email } } } }"
REMOVE_FROM_ROLE = """
mutation($r: ID!, $u: ID!) { removeRoleMember(input: {roleId: $r, userId: $u}) { role { members { email } } } }"""


async def _acme(factory):
    org = await factory.organization("Acme")
    admin = await factory.user(org, "ADMIN", email="admin@acme.com")
    editor = await factory.user(org, "EDITOR", email="editor@acme.com")
    viewer = await factory.user(org, "VIEWER", email="viewer@acme.com")
    other = await factory.organization("Other")
    stranger = await factory.user(other, "ADMIN", email="stranger@other.com")
    return org, admin, editor, viewer, other, stranger


# --- departments ------------------------------------------------------------------------------------

async def test_admin_creates_a_department_with_its_drive(api, factory, services):
    org, admin, *_ = await _acme(factory)

    department = (await api.ok(CREATE_DEPARTMENT, {"name": "Sales"}, token=factory.token(admin, org)))
    department = department["createDepartment"]["department"]

    assert department["name"] == "Sales" and department["admins"] == []
    assert department["rootFolder"]["name"] == "Sales" and department["rootFolder"]["drive"] == "ORGANIZATION"
    async with services.db.reading() as session:
        root = (await session.execute(text(
            "SELECT f.owner_type, f.owner_id, f.parent_id, f.path = ARRAY[f.id] AS own_path, f.created_by,"
            " d.root_folder_id = f.id AS linked"
            " FROM department d JOIN folder f ON f.department_id = d.id WHERE d.name = 'Sales'"))).one()
    assert (root.owner_type, root.owner_id, root.parent_id, root.own_path, root.created_by, root.linked) == (
        "ORG", org.id, None, True, admin.id, True)
    [row] = await audit_rows(services, "CREATE")
    assert (row["resource_type"], row["resource_name"], row["status"]) == ("ORGANIZATION", "Sales", "SUCCESS")


async def test_department_refusals(api, factory):
    org, admin, editor, viewer, *_ = await _acme(factory)
    await factory.department(org, "Sales", by=admin)
    token = factory.token(admin, org)
    assert await api.code(CREATE_DEPARTMENT, {"name": "sales"}, token=token) == "CONFLICT"
    assert await api.code(CREATE_DEPARTMENT, {"name": " "}, token=token) == "BAD_USER_INPUT"
    assert await api.code(CREATE_DEPARTMENT, {"name": "x" * 256}, token=token) == "BAD_USER_INPUT"
    for user in (editor, viewer):
        assert await api.code(CREATE_DEPARTMENT, {"name": "Ops"}, token=factory.token(user, org)) == "FORBIDDEN"


async def test_admin_appoints_and_dismisses_department_admins(api, factory):
    org, admin, editor, *_ = await _acme(factory)
    department = await factory.department(org, "Sales", by=admin)
    token = factory.token(admin, org)
    variables = {"d": gid("Department", department), "u": gid("User", editor), "on": True}

    appointed = await api.ok(SET_DEPARTMENT_ADMIN, variables, token=token)
    again = await api.ok(SET_DEPARTMENT_ADMIN, variables, token=token)  # idempotent
    dismissed = await api.ok(SET_DEPARTMENT_ADMIN, {**variables, "on": False}, token=token)

    assert appointed["setDepartmentAdmin"]["department"]["admins"] == [{"email": "editor@acme.com"}]
    assert again == appointed
    assert dismissed["setDepartmentAdmin"]["department"]["admins"] == []


async def test_department_admin_refusals(api, factory):
    org, admin, editor, _, other, stranger = await _acme(factory)
    mine = await factory.department(org, by=admin)
    theirs = await factory.department(other, by=stranger)
    token = factory.token(admin, org)

    def ask(department, user):
        return {"d": gid("Department", department), "u": gid("User", user), "on": True}

    assert await api.code(SET_DEPARTMENT_ADMIN, ask(mine, stranger), token=token) == "NOT_FOUND"
    assert await api.code(SET_DEPARTMENT_ADMIN, ask(theirs, editor), token=token) == "NOT_FOUND"
    assert await api.code(SET_DEPARTMENT_ADMIN, ask(mine, editor), token=factory.token(editor, org)) == "FORBIDDEN"


# --- groups -------------------------------------------------------------------------------------------

async def test_admin_creates_a_group_in_a_department_and_manages_its_members(api, factory, services):
    org, admin, editor, viewer, *_ = await _acme(factory)
    department = await factory.department(org, "Sales", by=admin)
    token = factory.token(admin, org)

    group = (await api.ok(CREATE_GROUP, {"name": "Closers", "d": gid("Department", department)}, token=token))
    group = group["createGroup"]["group"]
    assert (group["name"], group["department"], group["members"]) == ("Closers", {"name": "Sales"}, [])

    for user in (viewer, editor, editor):  # adding twice is harmless
        added = await api.ok(ADD_TO_GROUP, {"g": group["id"], "u": gid("User", user)}, token=token)
    assert added["addGroupMember"]["group"]["members"] == [{"email": "editor@acme.com"}, {"email": "viewer@acme.com"}]
    removed = await api.ok(REMOVE_FROM_GROUP, {"g": group["id"], "u": gid("User", viewer)}, token=token)
    assert removed["removeGroupMember"]["group"]["members"] == [{"email": "editor@acme.com"}]
    assert [r["action"] for r in await audit_rows(services) if r["resource_type"] == "GROUP"] == [
        "CREATE", "UPDATE", "UPDATE", "UPDATE", "UPDATE"]


async def test_group_without_department(api, factory):
    org, admin, *_ = await _acme(factory)
    group = await api.ok(CREATE_GROUP, {"name": "Everyone"}, token=factory.token(admin, org))
    assert group["createGroup"]["group"]["department"] is None


async def test_group_refusals(api, factory):
    org, admin, editor, viewer, other, stranger = await _acme(factory)
    token = factory.token(admin, org)
    mine = await factory.group(org, name="Writers")
    theirs = await factory.group(other, name="Theirs")
    their_department = await factory.department(other, by=stranger)

    assert await api.code(CREATE_GROUP, {"name": "writers"}, token=token) == "CONFLICT"
    assert await api.code(CREATE_GROUP, {"name": ""}, token=token) == "BAD_USER_INPUT"
    assert await api.code(CREATE_GROUP, {"name": "X", "d": gid("Department", their_department)},
                          token=token) == "NOT_FOUND"
    assert await api.code(CREATE_GROUP, {"name": "X", "d": gid("Group", mine)}, token=token) == "BAD_USER_INPUT"
    assert await api.code(CREATE_GROUP, {"name": "X"}, token=factory.token(viewer, org)) == "FORBIDDEN"
    assert await api.code(ADD_TO_GROUP, {"g": gid("Group", mine), "u": gid("User", stranger)}, token=token) == "NOT_FOUND"
    assert await api.code(ADD_TO_GROUP, {"g": gid("Group", theirs), "u": gid("User", editor)}, token=token) == "NOT_FOUND"
    for mutation in (ADD_TO_GROUP, REMOVE_FROM_GROUP):
        code = await api.code(mutation, {"g": gid("Group", mine), "u": gid("User", editor)},
                              token=factory.token(editor, org))
        assert code == "FORBIDDEN"


# --- roles --------------------------------------------------------------------------------------------

async def test_admin_creates_a_custom_role_and_assigns_it(api, factory, services):
    org, admin, editor, *_ = await _acme(factory)
    token = factory.token(admin, org)

    role = (await api.ok(CREATE_ROLE, {"name": "Auditor", "description": "Reads the books"}, token=token))
    role = role["createRole"]["role"]
    assert (role["name"], role["description"], role["isSystem"]) == ("Auditor", "Reads the books", False)

    added = await api.ok(ADD_TO_ROLE, {"r": role["id"], "u": gid("User", editor)}, token=token)
    assert added["addRoleMember"]["role"]["members"] == [{"email": "editor@acme.com"}]
    removed = await api.ok(REMOVE_FROM_ROLE, {"r": role["id"], "u": gid("User", editor)}, token=token)
    assert removed["removeRoleMember"]["role"]["members"] == []
    assert [r["action"] for r in await audit_rows(services) if r["resource_type"] == "ROLE"] == [
        "CREATE", "UPDATE", "UPDATE"]


async def test_role_refusals(api, factory, services):
    org, admin, editor, viewer, other, _ = await _acme(factory)
    token = factory.token(admin, org)
    await factory.role(org, name="Auditor")
    theirs = await factory.role(other, name="Theirs")
    async with services.db.reading() as session:
        system_admin_role = (await session.execute(text(
            "SELECT id FROM role WHERE organization_id = :o AND system_key = 'ADMIN'"), {"o": org.id})).scalar_one()

    assert await api.code(CREATE_ROLE, {"name": "AUDITOR"}, token=token) == "CONFLICT"
    for reserved in ("admin", "Editor", "VIEWER"):
        error = await api.error(CREATE_ROLE, {"name": reserved}, token=token)
        assert error["extensions"]["code"] == "CONFLICT" and "reserved" in error["message"]
    assert await api.code(CREATE_ROLE, {"name": "r" * 101}, token=token) == "BAD_USER_INPUT"
    assert await api.code(CREATE_ROLE, {"name": "Ok", "description": "d" * 501}, token=token) == "BAD_USER_INPUT"
    assert await api.code(CREATE_ROLE, {"name": "Mine"}, token=factory.token(editor, org)) == "FORBIDDEN"

    error = await api.error(ADD_TO_ROLE, {"r": gid("Role", system_admin_role), "u": gid("User", viewer)}, token=token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "setSystemRole" in error["message"]
    assert await api.code(ADD_TO_ROLE, {"r": gid("Role", theirs), "u": gid("User", viewer)}, token=token) == "NOT_FOUND"
    assert await api.code(REMOVE_FROM_ROLE, {"r": gid("Role", theirs), "u": gid("User", viewer)},
                          token=token) == "NOT_FOUND"


# --- batching ------------------------------------------------------------------------------------------

GROUPS_WITH_MEMBERS = """
{ organization { groups { name department { name } members { email systemRole } }
                 departments { name admins { email } rootFolder { name } } roles { name members { email } } } }"""


async def _statements_listing_groups(api, factory, services, group_count: int) -> int:
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    people = [await factory.user(org) for _ in range(3)]
    department = await factory.department(org, by=admin, admins=(people[0],))
    for _ in range(group_count):
        await factory.group(org, *people, department=department)
        await factory.role(org, *people[:2])
    token = factory.token(admin, org)

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        data = await api.ok(GROUPS_WITH_MEMBERS, token=token)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(data["organization"]["groups"]) == group_count
    assert all(len(group["members"]) == 3 for group in data["organization"]["groups"])
    return len(statements)


async def test_listing_groups_with_members_does_not_query_per_group(api, factory, services):
    one = await _statements_listing_groups(api, factory, services, 1)
    ten = await _statements_listing_groups(api, factory, services, 10)
    assert one == ten
