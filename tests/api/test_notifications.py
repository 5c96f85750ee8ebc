"""The notification inbox: listing (newest first, keyset, exact totalCount), the unread
count, markNotificationsRead, and each notification's resource."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from docgraph import globalid, models
from docgraph.events.publish import notify_subject, notify_users

LIST = """query($unread: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unread, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id type title message read createdAt } }
  }
}"""
UNREAD = "{ unreadNotificationCount }"
MARK = """mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { unreadCount } }"""


async def _notify(services, org, users, title="Shared", resource=(None, None), type="SHARED_WITH_YOU"):
    async with services.db.transaction() as session:
        return await notify_users(session, org.id, [u.id for u in users], type, title, f"{title}!", *resource)


async def test_a_user_lists_only_its_own_notifications_newest_first_with_keyset_pages(api, factory, services):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    for n in range(5):
        await _notify(services, org, [alice], title=f"for alice {n}")
    await _notify(services, org, [bob], title="for bob")
    token = factory.token(alice, org)

    first = (await api.ok(LIST, {"first": 2}, token=token))["notifications"]
    assert first["totalCount"] == 5
    assert [e["node"]["title"] for e in first["edges"]] == ["for alice 4", "for alice 3"]
    assert first["pageInfo"]["hasNextPage"] is True
    await _notify(services, org, [alice], title="newer, after the first page")  # does not shift the pages
    rest = (await api.ok(LIST, {"first": 10, "after": first["pageInfo"]["endCursor"]}, token=token))["notifications"]
    assert [e["node"]["title"] for e in rest["edges"]] == ["for alice 2", "for alice 1", "for alice 0"]
    assert rest["pageInfo"]["hasNextPage"] is False
    node = rest["edges"][0]["node"]
    assert node["type"] == "SHARED_WITH_YOU" and node["message"] == "for alice 2!" and node["read"] is False


async def test_notifications_of_another_organization_are_not_listed(api, factory, services):
    acme, globex = await factory.organization(), await factory.organization()
    alice = await factory.user(acme)
    await factory.join(alice, globex)
    await _notify(services, acme, [alice], title="acme")
    await _notify(services, globex, [alice], title="globex")
    data = await api.ok(LIST, token=factory.token(alice, acme))
    assert [e["node"]["title"] for e in data["notifications"]["edges"]] == ["acme"]


async def test_mark_some_then_all_read_updates_the_unread_count_and_the_filter(api, factory, services):
    org = await factory.organization()
    alice = await factory.user(org)
    rows = [(await _notify(services, org, [alice], title=f"n{n}"))[0] for n in range(3)]
    token = factory.token(alice, org)
    assert (await api.ok(UNREAD, token=token))["unreadNotificationCount"] == 3

    first_id = globalid.encode("Notification", rows[0].id)
    data = await api.ok(MARK, {"input": {"ids": [first_id]}}, token=token)
    assert data["markNotificationsRead"]["unreadCount"] == 2
    unread = (await api.ok(LIST, {"unread": True}, token=token))["notifications"]
    assert unread["totalCount"] == 2 and {e["node"]["title"] for e in unread["edges"]} == {"n1", "n2"}
    everything = (await api.ok(LIST, token=token))["notifications"]
    assert {e["node"]["title"]: e["node"]["read"] for e in everything["edges"]} == {"n0": True, "n1": False, "n2": False}

    data = await api.ok(MARK, {"input": {"all": True}}, token=token)
    assert data["markNotificationsRead"]["unreadCount"] == 0
    assert (await api.ok(UNREAD, token=token))["unreadNotificationCount"] == 0


async def test_marking_someone_elses_notification_is_not_found_and_marks_nothing(api, factory, services):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    mine = (await _notify(services, org, [alice]))[0]
    theirs = (await _notify(services, org, [bob]))[0]
    ids = [globalid.encode("Notification", mine.id), globalid.encode("Notification", theirs.id)]
    assert await api.code(MARK, {"input": {"ids": ids}}, token=factory.token(alice, org)) == "NOT_FOUND"
    assert (await api.ok(UNREAD, token=factory.token(alice, org)))["unreadNotificationCount"] == 1
    assert (await api.ok(UNREAD, token=factory.token(bob, org)))["unreadNotificationCount"] == 1
    async with services.db.reading() as session:
        failure = (await session.execute(select(models.AuditLog).where(
            models.AuditLog.user_id == alice.id, models.AuditLog.status == "FAILURE"))).scalar_one()
    assert failure.action == "UPDATE" and failure.change_details["code"] == "NOT_FOUND"


async def test_mark_read_input_errors(api, factory):
    org = await factory.organization()
    alice = await factory.user(org)
    token = factory.token(alice, org)
    folder_id = globalid.encode("Folder", uuid.uuid4())
    for bad_input in ({}, {"ids": [globalid.encode("Notification", uuid.uuid4())], "all": True},
                      {"ids": ["not-an-id"]}, {"ids": [folder_id]},
                      {"ids": [globalid.encode("Notification", uuid.uuid4()) for _ in range(101)]}):
        assert await api.code(MARK, {"input": bad_input}, token=token) == "BAD_USER_INPUT", bad_input
    assert await api.code(MARK, {"input": {"all": True}}) == "UNAUTHENTICATED"
    assert await api.code(UNREAD) == "UNAUTHENTICATED"
    assert await api.code(LIST, {"first": 101}, token=token) == "BAD_USER_INPUT"
    assert await api.code(LIST, {"after": "garbage"}, token=token) == "BAD_USER_INPUT"


async def test_resource_shows_only_what_the_recipient_may_view(api, factory, services):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    alice_drive = await _my_drive(services, alice)
    bob_drive = await _my_drive(services, bob)
    await _notify(services, org, [alice], title="yours", resource=("FOLDER", alice_drive))
    await _notify(services, org, [alice], title="not yours", resource=("FOLDER", bob_drive))
    await _notify(services, org, [alice], title="approval", resource=("APPROVAL", uuid.uuid4()),
                  type="APPROVAL_REQUESTED")
    data = await api.ok("""{ notifications { edges { node { title resource { id ... on Folder { name } } } } } }""",
                        token=factory.token(alice, org))
    shown = {e["node"]["title"]: e["node"]["resource"] for e in data["notifications"]["edges"]}
    assert shown == {"yours": {"id": globalid.encode("Folder", alice_drive), "name": "My Drive"},
                     "not yours": None, "approval": None}


async def test_node_returns_a_notification_to_its_recipient_only(api, factory, services):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    row = (await _notify(services, org, [alice], title="hello"))[0]
    query = "query($id: ID!) { node(id: $id) { ... on Notification { title } } }"
    variables = {"id": globalid.encode("Notification", row.id)}
    assert (await api.ok(query, variables, token=factory.token(alice, org)))["node"] == {"title": "hello"}
    assert (await api.ok(query, variables, token=factory.token(bob, org)))["node"] is None


async def test_notify_subject_reaches_each_live_member_of_a_group_or_role(factory, services):
    org = await factory.organization()
    actor, ann, ben, left = [await factory.user(org) for _ in range(4)]
    group = await factory.group(org, actor, ann, ben, left)
    role = await factory.role(org, ann)
    async with services.db.transaction() as session:
        membership = (await session.execute(select(models.Membership).where(
            models.Membership.user_id == left.id))).scalar_one()
        membership.left_at = membership.joined_at
    async with services.db.transaction() as session:
        to_group = await notify_subject(session, org.id, "GROUP", group.id, "SHARED_WITH_YOU", "t", "m",
                                        exclude=[actor.id])
        to_role = await notify_subject(session, org.id, "ROLE", role.id, "SHARED_WITH_YOU", "t", "m")
        system_role = (await session.execute(select(models.Role).where(
            models.Role.organization_id == org.id, models.Role.system_key == "EDITOR"))).scalar_one()
        to_editors = await notify_subject(session, org.id, "ROLE", system_role.id, "SHARED_WITH_YOU", "t", "m")
    assert {n.recipient_id for n in to_group} == {ann.id, ben.id}
    assert {n.recipient_id for n in to_role} == {ann.id}
    assert {n.recipient_id for n in to_editors} == {actor.id, ann.id, ben.id}


async def _my_drive(services, user) -> uuid.UUID:
    async with services.db.reading() as session:
        return (await session.execute(select(models.Folder.id).where(
            models.Folder.owner_id == user.id, models.Folder.parent_id.is_(None)))).scalar_one()
