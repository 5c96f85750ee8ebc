"""share, updateShare, revokeShare, Folder.shares, sharedWithMe, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.permissions.helpers import (
    ALL,
    DELETE_FOLDER,
    REVOKE_SHARE,
    SHARE,
    UPDATE_SHARE,
    Drive,
    audit_rows,
    capabilities,
    department_root,
    gid,
    my_drive,
    person,
)

SHARES = """query($id: ID!) { folder(id: $id) { shares { id subject { __typename ... on User { id } ... on Group { id }
  ... on Role { id } } grantedBy { id } resource { ... on Folder { id } } } } }"""
SHARED_WITH_ME = """query($first: Int, $after: String) { sharedWithMe(first: $first, after: $after) { totalCount
  pageInfo { hasNextPage endCursor } edges { node { id subject { __typename } resource { ... on Folder { name } } } } } }"""


def _future(seconds: int = 3600) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@pytest.fixture
async def s(api, factory):
    org = await factory.organization()
    ada = await person(factory, org, "ADMIN", "Ada (admin)")
    ed = await person(factory, org, "EDITOR", "Ed (editor)")
    eve = await person(factory, org, "EDITOR", "Eve (editor)")
    vic = await person(factory, org, "VIEWER", "Vic (viewer)")
    finance = await factory.department(org, "Finance", by=ada.user)
    drive = Drive(api)
    reports, q1 = await drive.tree(ada, department_root(finance), "Reports", "Q1")
    return type("S", (), {"org": org, "ada": ada, "ed": ed, "eve": eve, "vic": vic, "finance": finance, "drive": drive,
                              "reports": reports, "q1": q1})


def _share_input(resource: str, subject: str, caps, expires_at=None) -> dict:
    return {"input": {"resourceId": resource, "subjectId": subject, "capabilities": sorted(caps),
                      "expiresAt": expires_at}}


async def test_sharing_again_updates_the_one_row(api, s):
    first = await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW"})
    second = await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW", "UPDATE"})
    assert first == second
    await s.drive.expect(s.ed, s.reports, {"VIEW", "UPDATE"})
    shares = (await api.ok(SHARES, {"id": s.reports}, token=s.ada.token))["folder"]["shares"]
    assert [x["subject"]["id"] for x in shares].count(s.ed.id) == 1


async def test_share_needs_share_and_grants_at_most_what_the_sharer_has(api, s):
    variables = _share_input(s.reports, s.eve.id, {"VIEW"})
    assert await api.code(SHARE, variables, token=s.ed.token) == "NOT_FOUND"  # Ed cannot see Reports
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW", "UPDATE"})
    assert await api.code(SHARE, variables, token=s.ed.token) == "FORBIDDEN"  # no SHARE
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW", "UPDATE", "SHARE"})
    await s.drive.share(s.ed, s.reports, s.eve.id, {"VIEW", "UPDATE"})
    error = await api.error(SHARE, _share_input(s.reports, s.eve.id, {"VIEW", "DELETE"}), token=s.ed.token)
    assert error["extensions"]["code"] == "FORBIDDEN" and "DELETE" in error["message"]
    assert await api.code(SHARE, _share_input(s.reports, s.vic.id, {"VIEW", "MANAGE"}), token=s.ed.token) \
        == "FORBIDDEN"  # an EDITOR never has MANAGE


async def test_restrictions_need_manage(api, s):
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW", "SHARE"})
    assert await api.code(SHARE, _share_input(s.q1, s.eve.id, set()), token=s.ed.token) == "FORBIDDEN"
    await s.drive.share(s.ada, s.q1, s.eve.id, set())  # the admin may restrict
    await s.drive.expect(s.eve, s.q1, None, "restricted")


async def test_share_input_errors(api, factory, s):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cases = {
        "expiresAt in the past": (_share_input(s.reports, s.ed.id, {"VIEW"}, past), "BAD_USER_INPUT"),
        "subject is a folder": (_share_input(s.reports, s.q1, {"VIEW"}), "BAD_USER_INPUT"),
        "resource is a user": (_share_input(s.ed.id, s.eve.id, {"VIEW"}), "BAD_USER_INPUT"),
        "unknown user": (_share_input(s.reports, gid("User", uuid.uuid4()), {"VIEW"}), "NOT_FOUND"),
        "unknown group": (_share_input(s.reports, gid("Group", uuid.uuid4()), {"VIEW"}), "NOT_FOUND"),
        "unknown folder": (_share_input(gid("Folder", uuid.uuid4()), s.ed.id, {"VIEW"}), "NOT_FOUND"),
    }
    loner = await factory.user(None)  # a user of no organization
    cases["a user who is not a member"] = (_share_input(s.reports, gid("User", loner.id), {"VIEW"}), "NOT_FOUND")
    for name, (variables, code) in cases.items():
        assert await api.code(SHARE, variables, token=s.ada.token) == code, name


async def test_update_and_revoke_own_grants_with_share_others_need_manage(api, s):
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW", "UPDATE", "SHARE"})
    await s.drive.share(s.ada, s.reports, s.eve.id, {"VIEW", "SHARE"})
    by_ed = await s.drive.share(s.ed, s.reports, s.vic.id, {"VIEW"})
    by_ada = (await api.ok(SHARES, {"id": s.reports}, token=s.ada.token))["folder"]["shares"]
    eves = next(x["id"] for x in by_ada if x["subject"].get("id") == s.eve.id)
    # Ed changes and revokes the share he gave; Eve's (given by Ada) needs MANAGE.
    data = await api.ok(UPDATE_SHARE, {"input": {"shareId": by_ed, "capabilities": ["VIEW", "UPDATE"],
                                                 "expiresAt": _future()}}, token=s.ed.token)
    assert capabilities(data["updateShare"]["share"]["permissions"]) == {"VIEW", "UPDATE"}
    assert await api.code(UPDATE_SHARE, {"input": {"shareId": eves, "capabilities": ["VIEW"]}},
                          token=s.ed.token) == "FORBIDDEN"
    assert await api.code(REVOKE_SHARE, {"input": {"shareId": eves}}, token=s.ed.token) == "FORBIDDEN"
    assert await api.code(UPDATE_SHARE, {"input": {"shareId": by_ed, "capabilities": ["DELETE"]}},
                          token=s.ed.token) == "FORBIDDEN"  # more than Ed has
    await api.ok(REVOKE_SHARE, {"input": {"shareId": by_ed}}, token=s.ed.token)
    await s.drive.expect(s.vic, s.reports, None, "revoked")
    await api.ok(REVOKE_SHARE, {"input": {"shareId": eves}}, token=s.ada.token)  # the admin has MANAGE
    await s.drive.expect(s.eve, s.reports, None, "revoked by the admin")
    assert await api.code(REVOKE_SHARE, {"input": {"shareId": eves}}, token=s.ada.token) == "NOT_FOUND"


async def test_update_share_keeps_or_clears_the_expiry(api, s):
    share_id = await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW"}, expires_at=_future())
    data = await api.ok(UPDATE_SHARE, {"input": {"shareId": share_id, "capabilities": ["VIEW", "CREATE"]}},
                        token=s.ada.token)
    assert data["updateShare"]["share"]["expiresAt"] is not None  # omitted: kept
    data = await api.ok(UPDATE_SHARE, {"input": {"shareId": share_id, "capabilities": ["VIEW"], "expiresAt": None}},
                        token=s.ada.token)
    assert data["updateShare"]["share"]["expiresAt"] is None  # null: removed


async def test_shares_are_listed_only_for_holders_of_share_or_manage(api, s):
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW"})
    assert (await api.ok(SHARES, {"id": s.reports}, token=s.ed.token))["folder"]["shares"] == []
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW", "SHARE"})
    shares = (await api.ok(SHARES, {"id": s.reports}, token=s.ed.token))["folder"]["shares"]
    subjects = {x["subject"]["id"] for x in shares}
    assert subjects == {s.ada.id, s.ed.id}  # Ada's creator row and Ed's share
    assert all(x["resource"]["id"] == s.reports for x in shares)


async def test_group_and_role_subjects(api, factory, services, s):
    team = await factory.group(s.org, s.ed.user)
    auditors = await factory.role(s.org, s.eve.user)
    await s.drive.share(s.ada, s.reports, gid("Group", team.id), {"VIEW"})
    await s.drive.share(s.ada, s.reports, gid("Role", auditors.id), {"VIEW"})
    types = {x["subject"]["__typename"] for x in
             (await api.ok(SHARES, {"id": s.reports}, token=s.ada.token))["folder"]["shares"]}
    assert types == {"User", "Group", "Role"}
    await s.drive.expect(s.ed, s.reports, {"VIEW"}, "via the group")
    await s.drive.expect(s.eve, s.reports, {"VIEW"}, "via the role")


async def test_shared_with_me_lists_what_others_shared_with_me_or_my_groups(api, factory, services, s):
    team = await factory.group(s.org, s.ed.user)
    auditors = await factory.role(s.org, s.ed.user)
    (contracts,) = await s.drive.tree(s.ada, department_root(s.finance), "Contracts")
    (old,) = await s.drive.tree(s.ada, department_root(s.finance), "Old")
    (gone,) = await s.drive.tree(s.ada, department_root(s.finance), "Gone")
    (by_role,) = await s.drive.tree(s.ada, department_root(s.finance), "By role")
    await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW"})
    await s.drive.share(s.ada, s.reports, gid("Group", team.id), {"VIEW", "CREATE"})  # same resource: one entry
    await s.drive.share(s.ada, contracts, gid("Group", team.id), {"VIEW"})
    await s.drive.share(s.ada, by_role, gid("Role", auditors.id), {"VIEW"})  # roles are not "shared with me"
    await s.drive.share(s.ada, old, s.ed.id, {"VIEW"}, expires_at=_future(1))
    await s.drive.share(s.ada, gone, s.ed.id, {"VIEW"})
    await api.ok(DELETE_FOLDER, {"input": {"folderId": gone}}, token=s.ada.token)
    await s.drive.share(s.ada, s.q1, s.ed.id, set())  # a restriction is not a share
    mine = await my_drive(services, s.ed.user, s.org)
    await s.drive.create(s.ed, mine, "Own")  # Ed's own creator row is not shared *with* him
    import asyncio

    await asyncio.sleep(1.05)  # `old` expires
    data = (await api.ok(SHARED_WITH_ME, {}, token=s.ed.token))["sharedWithMe"]
    entries = [(e["node"]["resource"]["name"], e["node"]["subject"]["__typename"]) for e in data["edges"]]
    assert data["totalCount"] == 2 and entries == [("Contracts", "Group"), ("Reports", "User")], entries
    page = (await api.ok(SHARED_WITH_ME, {"first": 1}, token=s.ed.token))["sharedWithMe"]
    assert page["pageInfo"]["hasNextPage"] and page["totalCount"] == 2
    rest = (await api.ok(SHARED_WITH_ME, {"after": page["pageInfo"]["endCursor"]}, token=s.ed.token))["sharedWithMe"]
    assert [e["node"]["resource"]["name"] for e in rest["edges"]] == ["Reports"]


async def test_shared_with_me_hides_what_a_nearer_restriction_hides(api, s):
    await s.drive.share(s.ada, s.q1, s.ed.id, {"VIEW"})
    (inner,) = await s.drive.tree(s.ada, s.q1, "Inner")
    await s.drive.share(s.ada, inner, s.eve.id, {"VIEW"})
    data = (await api.ok(SHARED_WITH_ME, {}, token=s.ed.token))["sharedWithMe"]
    assert data["totalCount"] == 1
    # A group restriction on Q1 does not override Ed's USER grant there; a USER restriction does.
    await s.drive.share(s.ada, s.q1, s.ed.id, set())
    assert (await api.ok(SHARED_WITH_ME, {}, token=s.ed.token))["sharedWithMe"]["totalCount"] == 0


async def test_sharing_is_audited_in_the_same_transaction_and_refusals_too(api, services, s):
    share_id = await s.drive.share(s.ada, s.reports, s.ed.id, {"VIEW"})
    await api.ok(UPDATE_SHARE, {"input": {"shareId": share_id, "capabilities": ["VIEW", "CREATE"]}}, token=s.ada.token)
    await api.ok(REVOKE_SHARE, {"input": {"shareId": share_id}}, token=s.ada.token)
    await api.code(SHARE, _share_input(s.reports, s.eve.id, {"VIEW"}), token=s.ed.token)
    rows = await audit_rows(services, s.org)
    shares = [r for r in rows if r.action in ("SHARE", "PERMISSION_CHANGE")]
    assert [(r.action, r.status) for r in shares] == [
        ("SHARE", "SUCCESS"), ("PERMISSION_CHANGE", "SUCCESS"), ("PERMISSION_CHANGE", "SUCCESS"), ("SHARE", "FAILURE")]
    share_row, update_row, revoke_row, _ = shares
    assert share_row.resource_type == "FOLDER" and share_row.change_details["capabilities"] == ["VIEW"]
    assert update_row.change_details["before"]["capabilities"] == ["VIEW"]
    assert update_row.change_details["capabilities"] == ["VIEW", "CREATE"]
    assert revoke_row.change_details["revoked"] is True


async def test_full_grant_shows_every_flag(api, s):
    share_id = await s.drive.share(s.ada, s.reports, s.ed.id, ALL)
    data = await api.ok("query($id: ID!) { node(id: $id) { ... on Share { permissions { canView canCreate canUpdate "
                        "canDelete canShare canManage } grantedBy { id } } } }", {"id": share_id}, token=s.ed.token)
    assert capabilities(data["node"]["permissions"]) == ALL  # the row as written; the ceiling applies on use
    assert data["node"]["grantedBy"] == {"id": s.ada.id}


SHARE_MUTATION = """mutation($input: ShareInput!) { share(input: $input) { share { id } } }"""
INBOX = "{ notifications { edges { node { type message resource { id } } } } }"


async def test_sharing_notifies_the_user_or_every_group_member_but_not_the_sharer(api, factory):
    """SHARED_WITH_YOU: a USER share reaches that user; a GROUP share each member except the
    admin who shared; sharing again (an update) does not notify twice."""
    from docgraph import globalid

    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    alice, bob, carol = await factory.user(org), await factory.user(org), await factory.user(org)
    team = await factory.group(org, bob, admin)
    department = await factory.department(org, by=admin)
    admin_token = factory.token(admin, org)
    folder_id = (await api.ok("""mutation($p: ID!) { createFolder(input: {parentId: $p, name: "Board"})
                                 { folder { id } } }""",
                              {"p": globalid.encode("Folder", department.root_folder_id)}, token=admin_token)
                 )["createFolder"]["folder"]["id"]
    for subject in (globalid.encode("User", alice.id), globalid.encode("Group", team.id)):
        await api.ok(SHARE_MUTATION, {"input": {"resourceId": folder_id, "subjectId": subject,
                                                "capabilities": ["VIEW"]}}, token=admin_token)
    await api.ok(SHARE_MUTATION, {"input": {"resourceId": folder_id, "subjectId": globalid.encode("User", alice.id),
                                            "capabilities": ["VIEW", "CREATE"]}}, token=admin_token)

    async def inbox(user):
        return (await api.ok(INBOX, token=factory.token(user, org)))["notifications"]["edges"]

    for user in (alice, bob):
        edges = await inbox(user)
        assert [e["node"]["type"] for e in edges] == ["SHARED_WITH_YOU"], user.email
        assert edges[0]["node"]["resource"] == {"id": folder_id}
        assert '"Board"' in edges[0]["node"]["message"]
    assert await inbox(carol) == []
    assert await inbox(admin) == []
