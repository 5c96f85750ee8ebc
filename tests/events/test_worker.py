"""The outbox worker: at-most-once enqueue, idempotent re-runs, retries with backoff,
periodic jobs, and the in-process loop woken by NOTIFY."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from docgraph import models
from docgraph.events import worker
from docgraph.events.publish import enqueue
from docgraph.models.base import utcnow

from .support import serving

FAILURES_BEFORE_SUCCESS: dict[str, int] = {}


@worker.handler("test.welcome")
async def welcome(context: worker.JobContext, payload: dict) -> None:
    """Idempotent by construction: the notification's id derives from the job's key."""
    row_id = uuid.uuid5(uuid.NAMESPACE_URL, f"welcome:{payload['user']}")
    await context.session.execute(text("""
        INSERT INTO notification (id, organization_id, recipient_id, type, title, message, created_at)
        VALUES (:id, :org, :user, 'SHARED_WITH_YOU', 'Welcome', 'Welcome aboard', now())
        ON CONFLICT (id) DO NOTHING"""), {"id": row_id, "org": payload["org"], "user": payload["user"]})


@worker.handler("test.flaky")
async def flaky(context: worker.JobContext, payload: dict) -> None:
    remaining = FAILURES_BEFORE_SUCCESS.get(payload["key"], 0)
    if remaining:
        FAILURES_BEFORE_SUCCESS[payload["key"]] = remaining - 1
        raise ConnectionError("storage unreachable")


async def _job(services, job_id: int) -> models.OutboxJob:
    async with services.db.reading() as session:
        return await session.get(models.OutboxJob, job_id)


async def _welcomes(services, user) -> int:
    async with services.db.reading() as session:
        return (await session.execute(select(func.count()).select_from(models.Notification)
                                      .where(models.Notification.recipient_id == user.id))).scalar_one()


async def test_a_job_enqueued_twice_and_run_twice_has_one_effect(services, factory):
    org = await factory.organization()
    user = await factory.user(org)
    payload = {"org": str(org.id), "user": str(user.id)}
    async with services.db.transaction() as session:
        job_id = await enqueue(session, "test.welcome", payload, dedupe_key=f"welcome:{user.id}")
        assert await enqueue(session, "test.welcome", payload, dedupe_key=f"welcome:{user.id}") is None
    assert await worker.run_once(services.db) == 1
    assert (await _job(services, job_id)).completed_at is not None
    # A crash after the effect but before the commit that marks the job done: it runs again.
    async with services.db.transaction() as session:
        await session.execute(update(models.OutboxJob).where(models.OutboxJob.id == job_id).values(completed_at=None))
    assert await worker.run_once(services.db) == 1
    assert await _welcomes(services, user) == 1
    job = await _job(services, job_id)
    assert job.attempts == 2 and job.completed_at is not None
    assert await worker.run_once(services.db) == 0


async def test_a_failing_job_is_retried_with_growing_backoff_then_succeeds(services):
    key = uuid.uuid4().hex
    FAILURES_BEFORE_SUCCESS[key] = 2
    async with services.db.transaction() as session:
        job_id = await enqueue(session, "test.flaky", {"key": key})

    async def run_due_now() -> models.OutboxJob:
        async with services.db.transaction() as session:
            await session.execute(update(models.OutboxJob).where(models.OutboxJob.id == job_id)
                                  .values(run_after=func.now()))
        assert await worker.run_once(services.db) == 1
        return await _job(services, job_id)

    started = utcnow()
    assert await worker.run_once(services.db) == 1
    job = await _job(services, job_id)
    assert job.attempts == 1 and job.completed_at is None
    assert job.last_error == "ConnectionError: storage unreachable"
    assert started + timedelta(seconds=1.5) < job.run_after < utcnow() + timedelta(seconds=2.5)
    assert await worker.run_once(services.db) == 0  # not due before its backoff

    job = await run_due_now()
    assert job.attempts == 2 and job.run_after > utcnow() + timedelta(seconds=3)  # 4 s now
    job = await run_due_now()
    assert job.attempts == 3 and job.completed_at is not None and job.last_error is None


async def test_a_job_without_handler_is_kept_and_retried(services):
    async with services.db.transaction() as session:
        job_id = await enqueue(session, "test.nobody-handles-this", {})
    await worker.run_once(services.db)
    job = await _job(services, job_id)
    assert job.completed_at is None and "no handler" in job.last_error


async def test_periodic_jobs_are_enqueued_once_per_period_whoever_schedules(services):
    now = utcnow()
    assert await worker.schedule_periodic(services.db, now) == len(worker.PERIODIC) >= 1
    assert await worker.schedule_periodic(services.db, now) == 0  # a second worker, same period
    async with services.db.transaction() as session:
        old = models.OutboxJob(kind="test.flaky", payload={"key": "old"}, completed_at=now - timedelta(days=8))
        session.add(old)
    while await worker.run_once(services.db):
        pass
    assert await _job(services, old.id) is None  # outbox.cleanup removed the week-old job


async def _periodic_done(services) -> bool:
    async with services.db.reading() as session:
        return bool((await session.execute(select(func.count()).select_from(models.OutboxJob).where(
            models.OutboxJob.kind == "outbox.cleanup", models.OutboxJob.completed_at.is_not(None)))).scalar_one())


@pytest.mark.parametrize("run_worker", [True, False])
async def test_the_app_runs_the_worker_in_process_and_notify_wakes_it(app, services, factory, run_worker):
    services.settings.run_worker = run_worker
    services.settings.worker_poll_seconds = 30  # so only the NOTIFY can explain a quick pick-up
    org = await factory.organization()
    user = await factory.user(org)
    async with serving(app):
        assert services.broker is not None and services.broker.listening.is_set()
        if run_worker:  # let the worker finish its first pass (it schedules and runs the periodic job)
            deadline = time.monotonic() + 5
            while not await _periodic_done(services):
                assert time.monotonic() < deadline, "the in-process worker did not start"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
        async with services.db.transaction() as session:
            await enqueue(session, "test.welcome", {"org": str(org.id), "user": str(user.id)})
        started = time.monotonic()
        while await _welcomes(services, user) == 0 and time.monotonic() - started < (3 if run_worker else 0.5):
            await asyncio.sleep(0.05)
        # Woken at once; with `serve --no-worker` the job is left to `docgraph worker` processes.
        assert await _welcomes(services, user) == (1 if run_worker else 0)
    assert services.broker is None  # stopped with the app


async def test_docgraph_worker_listens_on_its_own_connection_and_stops_cleanly(services, settings, factory):
    """What `docgraph worker` runs: no app, its own LISTEN connection for the wake-ups."""
    settings.worker_poll_seconds = 30
    org = await factory.organization()
    user = await factory.user(org)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(settings, services.db.url, stop=stop))
    try:
        deadline = time.monotonic() + 5
        while not await _periodic_done(services):
            assert time.monotonic() < deadline, "the worker did not start"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        async with services.db.transaction() as session:
            await enqueue(session, "test.welcome", {"org": str(org.id), "user": str(user.id)})
        deadline = time.monotonic() + 3
        while await _welcomes(services, user) == 0:
            assert time.monotonic() < deadline, "the worker was not woken"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
