"""The LISTEN/NOTIFY broker: fan-out by topic, commit-only delivery, payload size, slow
subscribers, and reconnecting after the database connection drops."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
from sqlalchemy import make_url

from docgraph import models
from docgraph.events.broker import RESYNC, Broker, SubscriberTooSlow, listen_dsn
from docgraph.events.publish import (
    EVENTS_CHANNEL,
    JOBS_CHANNEL,
    MAX_PAYLOAD_BYTES,
    FolderChanged,
    NotificationAdded,
    _notification_payloads,
    decode,
    enqueue,
    folder_event,
    folder_topic,
    notify_users,
    user_topic,
)

from .support import eventually


@pytest.fixture
async def broker(services):
    broker = Broker(services.db.url, ping_seconds=0.5)
    await broker.start()
    assert broker.listening.is_set()
    yield broker
    await broker.stop()


async def _next(subscriber, timeout: float = 5.0):
    return await asyncio.wait_for(anext(subscriber), timeout)


async def test_a_committed_notification_reaches_its_recipients_topic_only(broker, services, factory):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    async with broker.subscribe(user_topic(alice.id)) as for_alice, broker.subscribe(user_topic(bob.id)) as for_bob:
        async with services.db.transaction() as session:
            [row] = await notify_users(session, org.id, [alice.id], "SHARED_WITH_YOU", "t", "m")
        assert await _next(for_alice) == NotificationAdded(org.id, alice.id, row.id)
        await asyncio.sleep(0.1)
        assert not for_bob._items


async def test_many_recipients_are_split_over_payloads_under_the_notify_limit(broker, services, factory):
    org = await factory.organization()
    users = [models.User(email=f"u{n}-{uuid.uuid4().hex[:6]}@example.com", password_hash="x", first_name="U",
                         last_name=str(n)) for n in range(250)]
    async with services.db.transaction() as session:
        session.add_all(users)
    recipients = [u.id for u in users]
    payloads = _notification_payloads(org.id, [(r, uuid.uuid4()) for r in recipients])
    assert len(payloads) > 1 and all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads)
    assert sum(len(decode(p)) for p in payloads) == 250

    topics = [user_topic(r) for r in recipients]
    async with broker.subscribe(*topics) as everyone:
        async with services.db.transaction() as session:
            rows = await notify_users(session, org.id, recipients + recipients[:10], "SHARED_WITH_YOU", "t", "m")
        assert len(rows) == 250  # duplicates collapse
        received = set()
        while len(received) < 250:
            received.add((await _next(everyone)).notification_id)
    assert received == {row.id for row in rows}


async def test_folder_events_travel_by_folder_topic(broker, services, factory):
    org = await factory.organization()
    folder, node = uuid.uuid4(), uuid.uuid4()
    async with broker.subscribe(folder_topic(folder)) as subscriber:
        async with services.db.transaction() as session:
            await folder_event(session, org.id, folder, "REMOVED", "DOCUMENT", node)
            await folder_event(session, org.id, None, "ADDED", "FOLDER", node)  # a root: nothing to tell
        assert await _next(subscriber) == FolderChanged(org.id, folder, "REMOVED", "DOCUMENT", node)
    with pytest.raises(ValueError):
        async with services.db.transaction() as session:
            await folder_event(session, org.id, folder, "MOVED", "FOLDER", node)


def test_malformed_payloads_are_ignored():
    assert decode("not json") == []
    assert decode(json.dumps({"t": "?", "o": uuid.uuid4().hex})) == []
    assert decode(json.dumps({"t": "f", "o": uuid.uuid4().hex, "f": "x", "k": "ADDED", "nk": "FOLDER", "n": "y"})) == []


async def test_a_slow_subscriber_is_cut_off_without_holding_back_the_others(services):
    broker = Broker(services.db.url, queue_size=3)  # fan-out is in-process: no need to listen here
    org, user = uuid.uuid4(), uuid.uuid4()
    events = [NotificationAdded(org, user, uuid.uuid4()) for _ in range(5)]
    async with broker.subscribe(user_topic(user)) as slow, broker.subscribe(user_topic(user)) as reader:
        received = []
        for event in events:
            broker.dispatch(event)  # never waits: the slow one's buffer (3) overflows
            received.append(await _next(reader))
        assert received == events
        with pytest.raises(SubscriberTooSlow):
            await _next(slow)
        assert broker.stats.cut_off == 1 and broker.subscriber_count == 1


async def test_after_the_connection_drops_the_broker_listens_again_and_says_resync(broker, services, factory, server_url):
    org = await factory.organization()
    alice = await factory.user(org)
    woken = []
    broker.on_channel(JOBS_CHANNEL, woken.append)
    async with broker.subscribe(user_topic(alice.id)) as subscriber:
        old_pid = broker.backend_pid
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", old_pid)
        finally:
            await admin.close()
        assert await _next(subscriber) is RESYNC  # the buffer survived; the gap is announced
        assert broker.stats.reconnects == 1 and broker.backend_pid != old_pid
        assert woken == [None]  # the worker is told to look for jobs it may have missed
        async with services.db.transaction() as session:
            [row] = await notify_users(session, org.id, [alice.id], "SHARED_WITH_YOU", "t", "m")
        assert (await _next(subscriber)).notification_id == row.id


async def test_a_broker_started_before_the_database_is_reachable_keeps_trying(services):
    broker = Broker(make_url(services.db.url).set(database="no_such_db").render_as_string(hide_password=False))
    await broker.start(wait=0.3)
    assert not broker.listening.is_set()
    await broker.stop()
    assert listen_dsn("postgresql+asyncpg://u:p@h/db").startswith("postgresql://u:p@h/db")


async def test_jobs_channel_callbacks_get_each_payload(broker, services):
    woken = []
    broker.on_channel(JOBS_CHANNEL, woken.append)
    async with services.db.transaction() as session:
        await enqueue(session, "test.nothing", {})
    await eventually(lambda: woken == ["test.nothing"], message="the wake-up")
    with pytest.raises(ValueError):
        Broker(services.db.url, channels=(EVENTS_CHANNEL,)).on_channel(JOBS_CHANNEL, print)
