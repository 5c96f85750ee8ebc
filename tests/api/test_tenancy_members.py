"""Members: createUser, addMember, setSystemRole, removeMember and the members listing."""

from __future__ import annotations

import base64

from sqlalchemy import text

from .tenancy_helpers import ME, audit_rows, gid, login

CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email firstName lastName systemRole } } }"""
ADD_MEMBER = """
mutation($email: String!, $role: SystemRole!) {
  addMember(input: {email: $email, systemRole: $role}) { user { id email systemRole } }
}"""
SET_ROLE = """
mutation($id: ID!, $role: SystemRole!) {
  setSystemRole(input: {userId: $id, systemRole: $role}) { user { email systemRole } }
}"""
REMOVE = "mutation($id: ID!) { removeMember(input: {userId: $id}) { user { id email } } }"
MEMBERS = """
query($first: Int, $after: String) {
  organization { members(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { email } }
  } }
}"""


def _new_user(**overrides) -> dict:
    return {"input": {"email": "new.hire@acme.com", "password": "welcome-aboard", "firstName": "New",
                      "lastName": "Hire", "systemRole": "EDITOR", **overrides}}


async def _org_with_staff(factory):
    org = await factory.organization("Acme")
    admin = await factory.user(org, "ADMIN", email="admin@acme.com")
    editor = await factory.user(org, "EDITOR", email="editor@acme.com")
    viewer = await factory.user(org, "VIEWER", email="viewer@acme.com")
    return org, admin, editor, viewer


# --- createUser -------------------------------------------------------------------------------------

async def test_admin_creates_a_user_who_can_sign_in_to_their_my_drive(api, factory, services):
    org, admin, _, _ = await _org_with_staff(factory)

    user = (await api.ok(CREATE_USER, _new_user(), token=factory.token(admin, org)))["createUser"]["user"]

    assert (user["email"], user["firstName"], user["lastName"], user["systemRole"]) == (
        "new.hire@acme.com", "New", "Hire", "EDITOR")
    me = (await api.ok(ME, token=(await login(api, "new.hire@acme.com", "welcome-aboard"))["accessToken"]))["me"]
    assert me["organization"]["name"] == "Acme" and me["systemRole"] == "EDITOR"
    assert me["myDrive"]["name"] == "My Drive"
    [row] = await audit_rows(services, "CREATE")
    assert (row["resource_type"], row["user_id"], row["organization_id"], row["status"]) == (
        "USER", admin.id, org.id, "SUCCESS")


async def test_editor_and_viewer_cannot_create_users(api, factory, services):
    org, _, editor, viewer = await _org_with_staff(factory)
    for user in (editor, viewer):
        assert await api.code(CREATE_USER, _new_user(), token=factory.token(user, org)) == "FORBIDDEN"
    assert [row["status"] for row in await audit_rows(services, "CREATE")] == ["FAILURE", "FAILURE"]


async def test_create_user_refuses_a_taken_email_in_any_case(api, factory):
    org, admin, _, _ = await _org_with_staff(factory)
    error = await api.error(CREATE_USER, _new_user(email="EDITOR@acme.com"), token=factory.token(admin, org))
    assert error["extensions"]["code"] == "CONFLICT" and "addMember" in error["message"]


async def test_create_user_bad_input(api, factory):
    org, admin, _, _ = await _org_with_staff(factory)
    token = factory.token(admin, org)
    for overrides in ({"email": "no-at-sign"}, {"email": "two@@acme.com"}, {"email": "a@b"},
                      {"email": "trailing.@acme.com"}, {"password": "1234567"}, {"password": "p" * 73},
                      {"firstName": ""}, {"lastName": "  "}, {"firstName": "f" * 101}):
        assert await api.code(CREATE_USER, _new_user(**overrides), token=token) == "BAD_USER_INPUT", overrides
    # A role outside the enum never reaches the resolver.
    assert await api.code(CREATE_USER, _new_user(systemRole="OWNER"), token=token) == "BAD_USER_INPUT"


# --- addMember -----------------------------------------------------------------------------------------

async def test_admin_adds_an_existing_user_who_then_must_choose_at_login(api, factory):
    org, admin, _, _ = await _org_with_staff(factory)
    elsewhere = await factory.organization("Elsewhere")
    outsider = await factory.user(elsewhere, "EDITOR", email="out@else.com", is_default=False)

    added = (await api.ok(ADD_MEMBER, {"email": "OUT@else.com", "role": "VIEWER"},
                          token=factory.token(admin, org)))["addMember"]["user"]

    assert added == {"id": gid("User", outsider), "email": "out@else.com", "systemRole": "VIEWER"}
    # Joining made Acme the default (the user had none), so login picks it.
    assert (await login(api, "out@else.com"))["viewer"]["organization"]["name"] == "Acme"
    me = (await api.ok(ME, token=factory.token(outsider, org)))["me"]
    assert me["myDrive"] is not None


async def test_add_member_refusals(api, factory):
    org, admin, editor, _ = await _org_with_staff(factory)
    token = factory.token(admin, org)
    assert await api.code(ADD_MEMBER, {"email": "nobody@acme.com", "role": "VIEWER"}, token=token) == "NOT_FOUND"
    assert await api.code(ADD_MEMBER, {"email": "editor@acme.com", "role": "VIEWER"}, token=token) == "CONFLICT"
    await factory.user(None, email="free@agent.com")
    assert await api.code(ADD_MEMBER, {"email": "free@agent.com", "role": "VIEWER"},
                          token=factory.token(editor, org)) == "FORBIDDEN"


# --- setSystemRole -----------------------------------------------------------------------------------

async def test_admin_promotes_an_editor_who_gains_admin_rights_at_once(api, factory):
    org, admin, editor, _ = await _org_with_staff(factory)
    editor_token = factory.token(editor, org)  # issued before the promotion

    changed = await api.ok(SET_ROLE, {"id": gid("User", editor), "role": "ADMIN"}, token=factory.token(admin, org))

    assert changed["setSystemRole"]["user"] == {"email": "editor@acme.com", "systemRole": "ADMIN"}
    assert (await api.ok(ME, token=editor_token))["me"]["systemRole"] == "ADMIN"
    assert await api.ok(CREATE_USER, _new_user(), token=editor_token)


async def test_the_last_admin_cannot_demote_themselves_but_one_of_two_can(api, factory, services):
    org, admin, editor, _ = await _org_with_staff(factory)
    token = factory.token(admin, org)

    error = await api.error(SET_ROLE, {"id": gid("User", admin), "role": "EDITOR"}, token=token)
    assert error["extensions"]["code"] == "CONFLICT" and "last admin" in error["message"]

    await api.ok(SET_ROLE, {"id": gid("User", editor), "role": "ADMIN"}, token=token)
    demoted = await api.ok(SET_ROLE, {"id": gid("User", admin), "role": "EDITOR"}, token=token)
    assert demoted["setSystemRole"]["user"]["systemRole"] == "EDITOR"
    changes = [(r["status"], r["action"]) for r in await audit_rows(services, "PERMISSION_CHANGE")]
    assert changes == [("FAILURE", "PERMISSION_CHANGE"), ("SUCCESS", "PERMISSION_CHANGE"),
                       ("SUCCESS", "PERMISSION_CHANGE")]


async def test_set_system_role_refusals(api, factory):
    org, admin, editor, viewer = await _org_with_staff(factory)
    other = await factory.organization()
    stranger = await factory.user(other, "EDITOR")
    token = factory.token(admin, org)
    assert await api.code(SET_ROLE, {"id": gid("User", stranger), "role": "VIEWER"}, token=token) == "NOT_FOUND"
    assert await api.code(SET_ROLE, {"id": gid("Group", viewer), "role": "VIEWER"}, token=token) == "BAD_USER_INPUT"
    assert await api.code(SET_ROLE, {"id": "%%%", "role": "VIEWER"}, token=token) == "BAD_USER_INPUT"
    assert await api.code(SET_ROLE, {"id": gid("User", viewer), "role": "ADMIN"},
                          token=factory.token(editor, org)) == "FORBIDDEN"


# --- removeMember ----------------------------------------------------------------------------------------

async def test_remove_member_keeps_history_drops_groups_and_a_return_gets_the_same_my_drive(
        api, factory, services):
    org, admin, editor, _ = await _org_with_staff(factory)
    token = factory.token(admin, org)
    await factory.group(org, editor, name="Writers")
    role = await factory.role(org, editor, name="Reviewer")
    department = await factory.department(org, by=admin, admins=(editor,))
    drive_before = (await api.ok(ME, token=factory.token(editor, org)))["me"]["myDrive"]["id"]

    removed = await api.ok(REMOVE, {"id": gid("User", editor)}, token=token)

    assert removed["removeMember"]["user"]["email"] == "editor@acme.com"
    listing = await api.ok("{ organization { members { edges { node { email } } } groups { members { email } } } }",
                           token=token)
    assert "editor@acme.com" not in [e["node"]["email"] for e in listing["organization"]["members"]["edges"]]
    assert listing["organization"]["groups"] == [{"members": []}]
    async with services.db.reading() as session:
        left_at = (await session.execute(text(
            "SELECT left_at FROM membership WHERE user_id = :u"), {"u": editor.id})).scalar_one()
        links = (await session.execute(text(
            "SELECT (SELECT count(*) FROM member_role WHERE role_id = :r)"
            " + (SELECT count(*) FROM department_admin WHERE department_id = :d)"),
            {"r": role.id, "d": department.id})).scalar_one()
    assert left_at is not None and links == 0

    await api.ok(ADD_MEMBER, {"email": "editor@acme.com", "role": "VIEWER"}, token=token)
    assert (await api.ok(ME, token=factory.token(editor, org)))["me"]["myDrive"]["id"] == drive_before


async def test_remove_member_refusals(api, factory):
    org, admin, editor, viewer = await _org_with_staff(factory)
    stranger = await factory.user(await factory.organization())
    token = factory.token(admin, org)
    assert await api.code(REMOVE, {"id": gid("User", admin)}, token=token) == "CONFLICT"  # the last admin
    assert await api.code(REMOVE, {"id": gid("User", stranger)}, token=token) == "NOT_FOUND"
    assert await api.code(REMOVE, {"id": gid("User", viewer)}, token=factory.token(editor, org)) == "FORBIDDEN"
    await api.ok(REMOVE, {"id": gid("User", viewer)}, token=token)
    assert await api.code(REMOVE, {"id": gid("User", viewer)}, token=token) == "NOT_FOUND"  # already gone


# --- members listing ----------------------------------------------------------------------------------

async def test_members_are_paginated_by_email_with_a_total(api, factory):
    org, admin, _, _ = await _org_with_staff(factory)
    for name in ("dora", "bill", "carl"):
        await factory.user(org, email=f"{name}@acme.com")
    await factory.user(await factory.organization(), email="aaa@other.com")  # never listed
    token = factory.token(admin, org)

    seen, after, pages = [], None, 0
    while True:
        page = (await api.ok(MEMBERS, {"first": 2, "after": after}, token=token))["organization"]["members"]
        assert page["totalCount"] == 6
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        seen += [edge["node"]["email"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == sorted(["admin@acme.com", "editor@acme.com", "viewer@acme.com", "dora@acme.com",
                           "bill@acme.com", "carl@acme.com"])
    assert pages == 3


async def test_members_page_stays_stable_when_members_join(api, factory):
    org, admin, _, _ = await _org_with_staff(factory)
    token = factory.token(admin, org)
    first = (await api.ok(MEMBERS, {"first": 2}, token=token))["organization"]["members"]
    await factory.user(org, email="aardvark@acme.com")  # sorts before the cursor
    rest = (await api.ok(MEMBERS, {"after": first["pageInfo"]["endCursor"]}, token=token))["organization"]["members"]
    assert [e["node"]["email"] for e in rest["edges"]] == ["viewer@acme.com"]


async def test_members_paging_bad_input(api, factory):
    org, admin, _, _ = await _org_with_staff(factory)
    token = factory.token(admin, org)
    wrong_shape = base64.urlsafe_b64encode(b'["only-one-part"]').decode()
    bad_uuid = base64.urlsafe_b64encode(b'["a@acme.com","not-a-uuid"]').decode()
    for variables in ({"first": 101}, {"first": -1}, {"after": "%%%not-a-cursor"}, {"after": wrong_shape},
                      {"after": bad_uuid}):
        assert await api.code(MEMBERS, variables, token=token) == "BAD_USER_INPUT", variables
