"""The access evaluation, step by step, through the API: each case names the user, the
resource and the expected outcome (None = the folder does not exist for them: NOT_FOUND)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.permissions.helpers import (
    ALL,
    CHILDREN,
    EDITOR_MAX,
    EXPLAIN,
    MOVE_FOLDER,
    Drive,
    Person,
    department_root,
    my_drive,
    person,
)


@dataclass
class World:
    org: object
    admin: Person
    finance_admin: Person      # EDITOR who administers the Finance department
    editor: Person
    editor2: Person
    viewer: Person
    super_admin: Person        # no membership
    finance: object
    legal: object
    reports: str               # Finance/Reports (by admin)
    q1: str                    # Finance/Reports/Q1
    secret: str                # Finance/Reports/Q1/Secret
    contracts: str             # Legal/Contracts (by admin)


@pytest.fixture
async def world(api, factory) -> World:
    org = await factory.organization()
    admin = await person(factory, org, "ADMIN", "Ada (org admin)")
    finance_admin = await person(factory, org, "EDITOR", "Fin (Finance admin)")
    editor = await person(factory, org, "EDITOR", "Ed (editor)")
    editor2 = await person(factory, org, "EDITOR", "Eve (editor)")
    viewer = await person(factory, org, "VIEWER", "Vic (viewer)")
    root_user = await factory.user(None, super_admin=True, first_name="Sam")
    super_admin = Person(root_user, factory.token(root_user, org), "Sam (super admin, no membership)")
    finance = await factory.department(org, "Finance", by=admin.user, admins=(finance_admin.user,))
    legal = await factory.department(org, "Legal", by=admin.user)
    drive = Drive(api)
    reports, q1, secret = await drive.tree(admin, department_root(finance), "Reports", "Q1", "Secret")
    (contracts,) = await drive.tree(admin, department_root(legal), "Contracts")
    return World(org, admin, finance_admin, editor, editor2, viewer, super_admin, finance, legal,
                 reports, q1, secret, contracts)


@pytest.fixture
def drive(api) -> Drive:
    return Drive(api)


# --- steps 1-4: implicit access ----------------------------------------------------------------

async def test_super_admin_without_membership_may_do_everything_everywhere(world, drive, services):
    await drive.expect(world.super_admin, world.secret, ALL, "step 1")
    ed_drive = await my_drive(services, world.editor.user, world.org)
    await drive.expect(world.super_admin, ed_drive, ALL, "step 1 in someone's My Drive")


async def test_org_admin_may_do_everything_including_other_members_my_drives(world, drive, services):
    await drive.expect(world.admin, world.contracts, ALL, "step 2")
    ed_drive = await my_drive(services, world.editor.user, world.org)
    await drive.expect(world.admin, ed_drive, ALL, "step 2 in Ed's My Drive")


async def test_department_admin_has_everything_in_its_department_and_nothing_outside(world, drive):
    await drive.expect(world.finance_admin, department_root(world.finance), ALL, "step 3 on the Finance root")
    await drive.expect(world.finance_admin, world.secret, ALL, "step 3 deep in Finance")
    await drive.expect(world.finance_admin, world.contracts, None, "Legal is not its department")


async def test_my_drive_owner_has_everything_in_its_drive_even_folders_others_created(world, drive, services):
    ed_drive = await my_drive(services, world.editor.user, world.org)
    (made_by_admin,) = await drive.tree(world.admin, ed_drive, "Made by Ada")
    await drive.expect(world.editor, made_by_admin, ALL, "step 4a")
    await drive.expect(world.editor2, made_by_admin, None, "someone else's My Drive")
    assert "isReviewer=True" in await drive.explain(world.editor, made_by_admin)


async def test_creator_keeps_full_access_when_the_share_that_let_it_create_is_gone(world, drive, api):
    share_id = await drive.share(world.admin, world.reports, world.editor.id, {"VIEW", "CREATE"})
    mine = await drive.create(world.editor, world.reports, "Ed's notes")
    await drive.expect(world.editor, mine, ALL, "step 4b")
    await api.ok("mutation($i: RevokeShareInput!) { revokeShare(input: $i) { share { id } } }",
                 {"i": {"shareId": share_id}}, token=world.admin.token)
    await drive.expect(world.editor, world.reports, None, "share revoked")
    await drive.expect(world.editor, mine, ALL, "still the creator (4b)")
    explained = await drive.explain(world.editor, mine)
    assert "isReviewer=False" in explained and "CREATOR" in explained, explained


# --- step 5: grants -----------------------------------------------------------------------------

async def test_user_grant_gives_exactly_its_capabilities_and_is_inherited(world, drive):
    await drive.expect(world.editor, world.reports, None, "no grant yet")
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW", "UPDATE"})
    await drive.expect(world.editor, world.reports, {"VIEW", "UPDATE"}, "USER grant on Reports")
    await drive.expect(world.editor, world.secret, {"VIEW", "UPDATE"}, "inherited two levels down")
    await drive.expect(world.editor2, world.reports, None, "Eve has no grant")


async def test_group_grant_applies_to_members_only(world, drive, factory):
    team = await factory.group(world.org, world.editor.user)
    await drive.share(world.admin, world.q1, f"{_gid('Group', team.id)}", {"VIEW", "CREATE"})
    await drive.expect(world.editor, world.secret, {"VIEW", "CREATE"}, "group member")
    await drive.expect(world.editor2, world.secret, None, "not in the group")


async def test_custom_role_grant_and_system_role_grant(world, drive, factory, services):
    auditors = await factory.role(world.org, world.editor2.user, name="Auditors")
    await drive.share(world.admin, world.contracts, _gid("Role", auditors.id), {"VIEW", "UPDATE"})
    await drive.expect(world.editor2, world.contracts, {"VIEW", "UPDATE"}, "custom role holder")
    await drive.expect(world.editor, world.contracts, None, "no custom role")
    viewers_role = await _system_role(services, world.org, "VIEWER")
    await drive.share(world.admin, world.reports, _gid("Role", viewers_role), {"VIEW"})
    await drive.expect(world.viewer, world.q1, {"VIEW"}, "every VIEWER through the system-role row")
    await drive.expect(world.editor, world.q1, None, "EDITORs do not hold the VIEWER role")


async def test_nearest_node_wins_both_to_widen_and_to_restrict(world, drive):
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW"})
    await drive.share(world.admin, world.q1, world.editor.id, {"VIEW", "CREATE", "UPDATE"})
    await drive.expect(world.editor, world.reports, {"VIEW"}, "farther grant")
    await drive.expect(world.editor, world.q1, {"VIEW", "CREATE", "UPDATE"}, "nearer grant widens")
    await drive.expect(world.editor, world.secret, {"VIEW", "CREATE", "UPDATE"}, "inherits the nearest")
    await drive.share(world.admin, world.secret, world.editor.id, set())
    await drive.expect(world.editor, world.secret, None, "a restriction at the nearest node hides it")
    await drive.expect(world.editor, world.q1, {"VIEW", "CREATE", "UPDATE"}, "the parent is unaffected")


async def test_user_grant_alone_decides_over_group_grants_at_the_same_node(world, drive, factory):
    team = await factory.group(world.org, world.editor.user)
    await drive.share(world.admin, world.q1, _gid("Group", team.id), {"VIEW", "UPDATE", "DELETE"})
    await drive.share(world.admin, world.q1, world.editor.id, {"VIEW"})
    await drive.expect(world.editor, world.q1, {"VIEW"}, "USER grant decides alone")
    # At a nearer node the group grant decides, the farther USER grant does not count.
    await drive.share(world.admin, world.secret, _gid("Group", team.id), {"VIEW", "CREATE"})
    await drive.expect(world.editor, world.secret, {"VIEW", "CREATE"}, "nearer group grant")


async def test_group_and_role_grants_at_the_same_node_add_up(world, drive, factory):
    team = await factory.group(world.org, world.editor.user)
    reviewers = await factory.role(world.org, world.editor.user)
    await drive.share(world.admin, world.q1, _gid("Group", team.id), {"VIEW", "CREATE"})
    await drive.share(world.admin, world.q1, _gid("Role", reviewers.id), {"VIEW", "UPDATE"})
    await drive.expect(world.editor, world.q1, {"VIEW", "CREATE", "UPDATE"}, "union of group and role")


async def test_a_restriction_row_hides_the_subfolder_from_the_group_and_from_listings(world, drive, factory, api):
    team = await factory.group(world.org, world.editor.user, world.editor2.user)
    await drive.share(world.admin, world.reports, _gid("Group", team.id), {"VIEW", "CREATE"})
    (open_folder,) = await drive.tree(world.admin, world.reports, "Open")
    await drive.share(world.admin, world.q1, _gid("Group", team.id), set())
    await drive.expect(world.editor, world.q1, None, "restricted for the group")
    await drive.expect(world.editor, world.secret, None, "and below it")
    await drive.expect(world.editor, open_folder, {"VIEW", "CREATE"}, "the sibling is not")
    listing = (await api.ok(CHILDREN, {"id": world.reports}, token=world.editor.token))["folder"]["children"]
    assert listing["totalCount"] == 1 and [e["node"]["id"] for e in listing["edges"]] == [open_folder]
    # A USER grant at the restricted node decides alone for that user.
    await drive.share(world.admin, world.q1, world.editor2.id, {"VIEW"})
    await drive.expect(world.editor2, world.q1, {"VIEW"}, "own USER grant beats the group restriction")


async def test_a_grant_that_expires_during_the_test_stops_counting(world, drive):
    expires = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW", "UPDATE"}, expires_at=expires)
    await drive.expect(world.editor, world.reports, {"VIEW", "UPDATE"}, "before expiry")
    await asyncio.sleep(1.6)
    await drive.expect(world.editor, world.reports, None, "after expiry")


async def test_an_expired_nearer_grant_lets_the_farther_one_decide(world, drive, services):
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW"})
    expires = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    await drive.share(world.admin, world.q1, world.editor.id, {"VIEW", "UPDATE"}, expires_at=expires)
    await drive.expect(world.editor, world.q1, {"VIEW", "UPDATE"}, "nearer grant live")
    await asyncio.sleep(1.1)
    await drive.expect(world.editor, world.q1, {"VIEW"}, "nearer grant expired: Reports' grant decides")


# --- ceilings --------------------------------------------------------------------------------------

async def test_viewer_ceiling_caps_a_full_grant_to_view(world, drive):
    await drive.share(world.admin, world.reports, world.viewer.id, {"VIEW", "CREATE", "UPDATE", "DELETE", "SHARE"})
    await drive.expect(world.viewer, world.reports, {"VIEW"}, "VIEWER ceiling")
    explained = await drive.explain(world.viewer, world.reports)
    assert "UPDATE: deny step 5 SYSTEM_ROLE_CEILING" in explained, explained


async def test_editor_ceiling_never_gives_manage(world, drive):
    await drive.share(world.admin, world.reports, world.editor.id, ALL)
    await drive.expect(world.editor, world.reports, EDITOR_MAX, "EDITOR ceiling: no MANAGE")


# --- moves and deletes change what applies ------------------------------------------------------

async def test_moving_a_folder_changes_what_it_inherits(world, drive, api):
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW"})
    (moving,) = await drive.tree(world.admin, world.contracts, "Moving")
    await drive.expect(world.editor, moving, None, "under Legal/Contracts: no grant")
    await api.ok(MOVE_FOLDER, {"input": {"folderId": moving, "newParentId": world.q1}}, token=world.admin.token)
    await drive.expect(world.editor, moving, {"VIEW"}, "now under Reports: inherits its grant")
    await api.ok(MOVE_FOLDER, {"input": {"folderId": moving, "newParentId": world.contracts}}, token=world.admin.token)
    await drive.expect(world.editor, moving, None, "moved back out")


async def test_moving_out_of_a_my_drive_ends_the_owners_implicit_access(world, drive, api, services):
    ed_drive = await my_drive(services, world.editor.user, world.org)
    (by_admin,) = await drive.tree(world.admin, ed_drive, "Ada's folder in Ed's drive")
    await drive.expect(world.editor, by_admin, ALL, "4a in Ed's My Drive")
    await api.ok(MOVE_FOLDER, {"input": {"folderId": by_admin, "newParentId": world.contracts}}, token=world.admin.token)
    await drive.expect(world.editor, by_admin, None, "now in Legal: Ed neither owns the drive nor created it")
    await drive.expect(world.finance_admin, by_admin, None, "Legal is not Finance")


async def test_a_deleted_ancestor_hides_the_subtree(world, drive, api):
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW"})
    await api.ok("mutation($i: DeleteFolderInput!) { deleteFolder(input: $i) { folder { id } } }",
                 {"i": {"folderId": world.q1}}, token=world.admin.token)
    await drive.expect(world.editor, world.secret, None, "its ancestor Q1 is deleted")
    await drive.expect(world.admin, world.secret, None, "even for admins in normal queries")
    node = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": world.secret}, token=world.admin.token)
    assert node["node"] is None


# --- NOT_FOUND versus FORBIDDEN --------------------------------------------------------------------

async def test_not_found_without_view_forbidden_with_view(world, drive, api):
    rename = "mutation($i: UpdateFolderInput!) { updateFolder(input: $i) { folder { id } } }"
    variables = {"i": {"folderId": world.reports, "name": "Renamed"}}
    assert await api.code(rename, variables, token=world.editor.token) == "NOT_FOUND"
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW"})
    assert await api.code(rename, variables, token=world.editor.token) == "FORBIDDEN"


async def test_explain_names_the_grant_node_and_subject_that_decided(world, drive, api, factory):
    team = await factory.group(world.org, world.editor.user)
    share_id = await drive.share(world.admin, world.reports, _gid("Group", team.id), {"VIEW", "CREATE"})
    data = await api.ok(EXPLAIN, {"r": world.secret, "u": None}, token=world.editor.token)
    decisions = {d["capability"]: d for d in data["explainAccess"]["decisions"]}
    assert decisions["CREATE"] == {**decisions["CREATE"], "allowed": True, "reason": "GROUP_OR_ROLE_GRANTS",
                                   "step": "5", "grantId": share_id, "nodeId": world.reports,
                                   "subjectId": _gid("Group", team.id)}
    assert decisions["UPDATE"]["allowed"] is False and decisions["UPDATE"]["reason"] == "GROUP_OR_ROLE_GRANTS"
    assert decisions["MANAGE"]["step"] == "5"
    data = await api.ok(EXPLAIN, {"r": world.secret, "u": world.editor2.id}, token=world.admin.token)
    assert {d["reason"] for d in data["explainAccess"]["decisions"]} == {"NO_GRANT"}


async def test_explain_about_someone_else_needs_admin(world, drive, api):
    await drive.share(world.admin, world.reports, world.editor.id, {"VIEW"})
    variables = {"r": world.reports, "u": world.editor2.id}
    assert await api.code(EXPLAIN, variables, token=world.editor.token) == "FORBIDDEN"
    assert await api.code(EXPLAIN, {"r": world.contracts, "u": None}, token=world.editor.token) == "NOT_FOUND"
    stranger = _gid("User", world.super_admin.user.id)  # not a member
    assert await api.code(EXPLAIN, {"r": world.reports, "u": stranger}, token=world.admin.token) == "NOT_FOUND"


# --- helpers -------------------------------------------------------------------------------------------

def _gid(type_name: str, value) -> str:
    from tests.permissions.helpers import gid

    return gid(type_name, value)


async def _system_role(services, org, key: str):
    from sqlalchemy import select

    from docgraph import models

    async with services.db.reading() as session:
        return (await session.execute(select(models.Role.id).where(
            models.Role.organization_id == org.id, models.Role.system_key == key))).scalar_one()
