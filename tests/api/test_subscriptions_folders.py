"""folderEvents(folderId): ADDED / UPDATED / REMOVED of a folder's direct children, each
delivered only if the subscriber may see it at delivery time.

Alice (EDITOR) has VIEW on folder F (a share from the admin); Bob (EDITOR) has nothing. The
folder rows are made by the folder and sharing services, which publish the events themselves;
documents made directly publish theirs with events.publish.folder_event."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import update

from docgraph import globalid, models
from docgraph.auth.principal import Principal
from docgraph.events.publish import folder_event
from docgraph.permissions import FOLDER, Capability
from docgraph.services import folders as folder_service
from docgraph.services import sharing as sharing_service

from ..events.support import WsClient, eventually, serving

FOLDER_EVENTS = """subscription($id: ID!) { folderEvents(folderId: $id) {
  kind node { __typename ... on Folder { id name deletedAt } ... on Document { id name } } } }"""


@pytest.fixture
async def live(app, services):
    services.settings.run_worker = False
    async with serving(app) as address:
        yield address


@pytest.fixture
async def world(factory, services):
    org = await factory.organization()
    admin, alice, bob = await factory.user(org, "ADMIN"), await factory.user(org), await factory.user(org)
    department = await factory.department(org, by=admin)
    as_admin = Principal(admin.id, org.id, "ADMIN", False)
    folder = await folder_service.create_folder(services.db, as_admin, parent_id=department.root_folder_id, name="F")
    await sharing_service.share(services.db, as_admin, resource=(FOLDER, folder.id), subject_type="USER",
                                subject_id=alice.id, capabilities=[Capability.VIEW])
    return type("World", (), {"org": org, "admin": admin, "alice": alice, "bob": bob, "as_admin": as_admin, "folder": folder})


async def _publish(services, world, kind: str, node_kind: str, node_id: uuid.UUID) -> None:
    async with services.db.transaction() as session:
        await folder_event(session, world.org.id, world.folder.id, kind, node_kind, node_id)


async def _child(services, world, name: str):
    return await folder_service.create_folder(services.db, world.as_admin, parent_id=world.folder.id, name=name)


async def _subscribe(client, services, folder_id) -> str:
    op = await client.subscribe(FOLDER_EVENTS, {"id": globalid.encode("Folder", folder_id)})
    await eventually(lambda: services.broker.subscriber_count >= 1, message="the subscription")
    return op


async def test_alice_sees_children_added_updated_and_removed_but_not_a_child_restricted_for_her(live, world, services):
    hidden = await _child(services, world, "restricted")
    await sharing_service.share(services.db, world.as_admin, resource=(FOLDER, hidden.id), subject_type="USER",
                                subject_id=world.alice.id, capabilities=[])  # a restriction: no access
    async with WsClient.connect(live, (await _token(services, world.alice, world.org))) as client:
        op = await _subscribe(client, services, world.folder.id)
        # The folder services publish their own events, in their transactions. Events carry ids
        # and the node is read at delivery, so each change waits for the previous event.
        visible = await _child(services, world, "visible")
        events = [(await client.data(op))["folderEvents"]]
        await folder_service.update_folder(services.db, world.as_admin, folder_id=visible.id, name="renamed")
        events.append((await client.data(op))["folderEvents"])
        await folder_service.delete_folder(services.db, world.as_admin, folder_id=hidden.id)
        await folder_service.delete_folder(services.db, world.as_admin, folder_id=visible.id)
        events.append((await client.data(op))["folderEvents"])
        assert [(e["kind"], e["node"]["name"]) for e in events] == [
            ("ADDED", "visible"), ("UPDATED", "renamed"), ("REMOVED", "renamed")]
        assert events[0]["node"]["id"] == globalid.encode("Folder", visible.id)
        assert events[0]["node"]["deletedAt"] is None and events[2]["node"]["deletedAt"] is not None
        await asyncio.sleep(0.2)
        assert client.pending(op) == 0  # nothing about the restricted child, not even its removal


async def test_a_child_moved_out_of_alices_sight_is_still_removed_from_her_view(live, world, services):
    elsewhere = await folder_service.create_folder(services.db, world.as_admin, parent_id=world.folder.parent_id,
                                                   name="not shared")
    child = await _child(services, world, "leaving")
    async with WsClient.connect(live, await _token(services, world.alice, world.org)) as client:
        op = await _subscribe(client, services, world.folder.id)
        await folder_service.move_folder(services.db, world.as_admin, folder_id=child.id, new_parent_id=elsewhere.id)
        event = (await client.data(op))["folderEvents"]
        assert (event["kind"], event["node"]["name"]) == ("REMOVED", "leaving")


async def test_documents_arrive_as_the_document_member_of_the_union(live, world, services, factory):
    async with services.db.transaction() as session:
        document = models.Document(organization_id=world.org.id, folder_id=world.folder.id, name="report.pdf",
                                   content_type="application/pdf", file_size=3, created_by=world.admin.id)
        session.add(document)
    async with WsClient.connect(live, await _token(services, world.alice, world.org)) as client:
        op = await _subscribe(client, services, world.folder.id)
        await _publish(services, world, "ADDED", "DOCUMENT", document.id)
        event = (await client.data(op))["folderEvents"]
        assert event == {"kind": "ADDED", "node": {"__typename": "Document", "name": "report.pdf",
                                                    "id": globalid.encode("Document", document.id)}}


@pytest.mark.parametrize("folder", ["unknown", "not shared with bob", "malformed"])
async def test_subscribing_to_a_folder_bob_cannot_see_fails(live, world, services, folder):
    folder_id = {"unknown": globalid.encode("Folder", uuid.uuid4()),
                 "not shared with bob": globalid.encode("Folder", world.folder.id),
                 "malformed": "nope"}[folder]
    async with WsClient.connect(live, await _token(services, world.bob, world.org)) as client:
        op = await client.subscribe(FOLDER_EVENTS, {"id": folder_id})
        expected = "BAD_USER_INPUT" if folder == "malformed" else "NOT_FOUND"
        assert await client.error_code(op) == expected
        await eventually(lambda: services.broker.subscriber_count == 0, message="the subscription to end")


async def test_when_alices_share_is_revoked_her_subscription_ends_with_not_found(live, world, services):
    async with WsClient.connect(live, await _token(services, world.alice, world.org)) as client:
        op = await _subscribe(client, services, world.folder.id)
        async with services.db.transaction() as session:
            await session.execute(update(models.Grant).where(models.Grant.folder_id == world.folder.id,
                                                             models.Grant.subject_id == world.alice.id)
                                  .values(can_view=False))
        await _child(services, world, "after revocation")  # its ADDED event meets the revoked share
        assert await client.error_code(op) == "NOT_FOUND"
        assert (await client.message(op))["type"] == "complete"


async def _token(services, user, org) -> str:
    return services.signer.issue(user.id, org.id, uuid.uuid4())
