"""Live subscriptions over graphql-transport-ws on a real uvicorn (lifespan on: the broker
LISTENs on its own connection). Events are published the way services publish them, in a
transaction of this test process: they reach the server only through PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import update

from docgraph import globalid, models
from docgraph.auth.tokens import TokenSigner
from docgraph.events.publish import EVENTS_CHANNEL, notify_users

from ..events.support import WsClient, eventually, serving

NOTIFICATION_ADDED = "subscription { notificationAdded { id type title read resource { id } } }"


@pytest.fixture
async def live(app, services):
    services.settings.run_worker = False
    async with serving(app) as address:
        yield address


async def _notify(services, org, user, title, resource=(None, None)):
    async with services.db.transaction() as session:
        return (await notify_users(session, org.id, [user.id], "SHARED_WITH_YOU", title, "m", *resource))[0]


async def _subscribed(services, count: int = 1) -> None:
    await eventually(lambda: services.broker.subscriber_count >= count, message="the subscription")


async def test_a_subscriber_receives_its_own_notifications_as_they_are_committed(live, factory, services):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    async with WsClient.connect(live, factory.token(alice, org)) as client:
        op = await client.subscribe(NOTIFICATION_ADDED)
        await _subscribed(services)
        await _notify(services, org, bob, "for bob")
        row = await _notify(services, org, alice, "for alice")
        data = (await client.data(op))["notificationAdded"]
        assert data == {"id": globalid.encode("Notification", row.id), "type": "SHARED_WITH_YOU",
                        "title": "for alice", "read": False, "resource": None}
        await asyncio.sleep(0.2)
        assert client.pending(op) == 0  # bob's never came


async def test_nothing_is_delivered_before_commit_or_after_rollback(live, factory, services):
    org = await factory.organization()
    alice = await factory.user(org)
    async with WsClient.connect(live, factory.token(alice, org)) as client:
        op = await client.subscribe(NOTIFICATION_ADDED)
        await _subscribed(services)

        with pytest.raises(RuntimeError):
            async with services.db.transaction() as session:
                await notify_users(session, org.id, [alice.id], "SHARED_WITH_YOU", "rolled back", "m")
                raise RuntimeError("the use case failed")

        async with services.db.transaction() as session:
            await notify_users(session, org.id, [alice.id], "SHARED_WITH_YOU", "committed", "m")
            await asyncio.sleep(0.3)
            assert client.pending(op) == 0  # written and NOTIFY'd, but not committed yet
        assert (await client.data(op))["notificationAdded"]["title"] == "committed"
        await asyncio.sleep(0.2)
        assert client.pending(op) == 0


async def test_the_resource_is_resolved_with_the_subscribers_access(live, factory, services):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    alice_drive = await factory.join(alice, await factory.organization())  # another org's folder
    async with WsClient.connect(live, factory.token(bob, org)) as client:
        op = await client.subscribe(NOTIFICATION_ADDED)
        await _subscribed(services)
        await _notify(services, org, bob, "not visible", resource=("FOLDER", alice_drive.id))
        assert (await client.data(op))["notificationAdded"]["resource"] is None


async def test_an_expired_token_stops_delivery_with_unauthenticated(live, factory, services, settings):
    org = await factory.organization()
    alice = await factory.user(org)
    # Valid for about one second (the verifier allows 5 s of clock skew past `exp`).
    short_lived = TokenSigner(settings.secret_key, ttl_seconds=-4).issue(alice.id, org.id, alice.id)
    async with WsClient.connect(live, short_lived) as client:
        op = await client.subscribe(NOTIFICATION_ADDED)
        await _subscribed(services)
        await asyncio.sleep(1.5)
        await _notify(services, org, alice, "too late")
        assert await client.error_code(op) == "UNAUTHENTICATED"
        assert (await client.message(op))["type"] == "complete"
        await eventually(lambda: services.broker.subscriber_count == 0, message="the subscription to end")


async def test_a_member_removed_from_the_organization_stops_receiving(live, factory, services):
    org = await factory.organization()
    alice = await factory.user(org)
    async with WsClient.connect(live, factory.token(alice, org)) as client:
        op = await client.subscribe(NOTIFICATION_ADDED)
        await _subscribed(services)
        async with services.db.transaction() as session:
            await session.execute(update(models.Membership).where(models.Membership.user_id == alice.id)
                                  .values(left_at=models.base.utcnow()))
        await _notify(services, org, alice, "after leaving")
        assert await client.error_code(op) == "UNAUTHENTICATED"


async def test_several_subscriptions_on_one_connection_each_get_the_event(live, factory, services):
    org = await factory.organization()
    alice = await factory.user(org)
    async with WsClient.connect(live, factory.token(alice, org)) as client:
        ops = [await client.subscribe(NOTIFICATION_ADDED) for _ in range(2)]
        await _subscribed(services, 2)
        await _notify(services, org, alice, "twice")
        for op in ops:
            assert (await client.data(op))["notificationAdded"]["title"] == "twice"
        await client.ws.send('{"id": "1", "type": "complete"}')
        await eventually(lambda: services.broker.subscriber_count == 1, message="one subscription to end")


async def test_notifications_committed_while_the_listener_was_deaf_are_replayed_once(live, factory, services):
    org = await factory.organization()
    alice = await factory.user(org)
    broker = services.broker
    async with WsClient.connect(live, factory.token(alice, org)) as client:
        op = await client.subscribe(NOTIFICATION_ADDED)
        await _subscribed(services)
        delivered = await _notify(services, org, alice, "heard live")
        assert (await client.data(op))["notificationAdded"]["title"] == "heard live"
        # What the broker goes through between losing its connection and listening again.
        await broker._connection.remove_listener(EVENTS_CHANNEL, broker._on_notification)
        missed = await _notify(services, org, alice, "committed meanwhile")
        await asyncio.sleep(0.2)
        assert client.pending(op) == 0
        await broker._connection.add_listener(EVENTS_CHANNEL, broker._on_notification)
        broker._resync()
        data = (await client.data(op))["notificationAdded"]
        assert data["id"] == globalid.encode("Notification", missed.id) != globalid.encode("Notification", delivered.id)
        broker._resync()  # nothing new: nothing replayed twice
        await asyncio.sleep(0.2)
        assert client.pending(op) == 0


async def test_a_burst_reaches_every_subscriber_in_shared_checks(live, factory, services):
    """Twenty subscribers, one notification each, committed together: each gets its own, the
    one who left the organization meanwhile gets UNAUTHENTICATED, and the deliveries were
    checked in batches (two statements per batch), not two statements per subscriber."""
    from .test_access_statements import counting

    org = await factory.organization()
    users = [await factory.user(org) for _ in range(20)]
    leaver = users[-1]
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(WsClient.connect(live, factory.token(u, org))) for u in users]
        ops = [await client.subscribe("subscription { notificationAdded { title } }") for client in clients]
        await _subscribed(services, len(users))
        async with services.db.transaction() as session:
            await session.execute(update(models.Membership).where(models.Membership.user_id == leaver.id)
                                  .values(left_at=models.base.utcnow()))
        with counting(services) as statements:
            async with services.db.transaction() as session:
                for user in users:
                    await notify_users(session, org.id, [user.id], "SHARED_WITH_YOU", f"for {user.email}", "m")
            written = len(statements)
            for user, client, op in zip(users[:-1], clients, ops, strict=False):
                assert (await client.data(op))["notificationAdded"] == {"title": f"for {user.email}"}
            assert await clients[-1].error_code(ops[-1]) == "UNAUTHENTICATED"
        delivering = len(statements) - written
        print(f"statements to deliver 20 notifications: {delivering}")
        assert delivering <= 8, statements[written:]
