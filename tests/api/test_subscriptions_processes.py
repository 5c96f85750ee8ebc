"""Two real server processes on one database: an event committed anywhere reaches the
subscribers of every process, through PostgreSQL LISTEN/NOTIFY alone."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from docgraph.events.publish import notify_users

from ..events.support import WsClient, metric, server_process, wait_until_up

SUBSCRIPTION = "subscription { notificationAdded { title } }"


async def _until_subscribed(address: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while await metric(address, "docgraph_live_subscribers") < count:
        assert time.monotonic() < deadline, f"{address} never held {count} subscription(s)"
        await asyncio.sleep(0.05)


async def test_subscribers_on_two_processes_receive_what_a_third_commits(database_url, settings, factory, services,
                                                                         tmp_path):
    org = await factory.organization()
    alice, bob = await factory.user(org), await factory.user(org)
    with server_process(database_url=database_url, secret_key=settings.secret_key, data_dir=tmp_path / "a") as (a, pa), \
         server_process(database_url=database_url, secret_key=settings.secret_key, data_dir=tmp_path / "b") as (b, pb):
        await asyncio.gather(wait_until_up(a, pa), wait_until_up(b, pb))
        async with WsClient.connect(b, factory.token(alice, org)) as on_b, \
                WsClient.connect(a, factory.token(bob, org)) as on_a:
            alice_op, bob_op = await on_b.subscribe(SUBSCRIPTION), await on_a.subscribe(SUBSCRIPTION)
            await asyncio.gather(_until_subscribed(b, 1), _until_subscribed(a, 1))

            with pytest.raises(RuntimeError):
                async with services.db.transaction() as session:
                    await notify_users(session, org.id, [alice.id, bob.id], "SHARED_WITH_YOU", "rolled back", "m")
                    raise RuntimeError("the use case failed")
            async with services.db.transaction() as session:
                await notify_users(session, org.id, [alice.id], "SHARED_WITH_YOU", "for alice", "m")
            async with services.db.transaction() as session:
                await notify_users(session, org.id, [bob.id], "SHARED_WITH_YOU", "for bob", "m")

            assert (await on_b.data(alice_op, timeout=10))["notificationAdded"]["title"] == "for alice"
            assert (await on_a.data(bob_op, timeout=10))["notificationAdded"]["title"] == "for bob"
            await asyncio.sleep(0.3)
            assert on_b.pending(alice_op) == on_a.pending(bob_op) == 0

        # Process A serves the same data over HTTP: alice's one committed notification.
        async with httpx.AsyncClient() as client:
            response = await client.post(f"http://{a}/graphql", json={"query": "{ unreadNotificationCount }"},
                                         headers={"Authorization": f"Bearer {factory.token(alice, org)}"})
        assert response.json()["data"] == {"unreadNotificationCount": 1}
