"""The outbox worker: claims due jobs with FOR UPDATE SKIP LOCKED, runs their handler,
retries failures with exponential backoff. Any number of workers may run side by side.

Handlers are registered per job kind with `@handler("kind")` and must be idempotent: a job can
run again after a crash between its effect and the commit that marks it done.

The loop sleeps until woken by a NOTIFY on `docgraph_jobs` (publish.enqueue sends one with
every job), until the next job's `run_after`, or for `worker_poll_seconds` at most (the
fallback when notifications are missed). Periodic jobs (`@periodic`) are enqueued by whichever
worker gets there first: one job per period, thanks to the outbox's unique dedupe key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db import Database
from ..models.base import utcnow
from . import housekeeping, storage_keys, sweep
from .broker import Broker
from .jobs import HANDLERS, PERIODIC, Handler, JobContext, handler, periodic
from .publish import JOBS_CHANNEL, enqueue

# The handler modules whose jobs this worker runs (they register on import).
HANDLER_MODULES = (housekeeping, storage_keys, sweep)
# How often a worker checks whether a periodic job is due (the period itself may be longer).
SCHEDULE_CHECK_SECONDS = 60.0

__all__ = ["HANDLERS", "PERIODIC", "Handler", "JobContext", "handler", "periodic", "run_forever", "run_once",
           "schedule_periodic"]

log = logging.getLogger("docgraph.worker")

MAX_BACKOFF = timedelta(hours=1)


_CLAIM_SQL = text("""
    SELECT id, kind, payload, attempts FROM outbox
    WHERE completed_at IS NULL AND run_after <= now()
    ORDER BY run_after, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
""")


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)


async def run_once(db: Database, storage: Any = None, settings: Settings | None = None, *, limit: int = 20) -> int:
    """Claim and run up to `limit` due jobs; returns how many were claimed."""
    async with db.transaction() as session:
        jobs = (await session.execute(_CLAIM_SQL, {"limit": limit})).all()
        for job in jobs:
            await _run_job(session, JobContext(session, storage, settings), job)
    return len(jobs)


async def _run_job(session: AsyncSession, context: JobContext, job) -> None:
    run = HANDLERS.get(job.kind)
    try:
        if run is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        async with session.begin_nested():  # the handler's rows roll back alone on failure
            await run(context, job.payload)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
        log.warning("outbox job %s (%s) failed: %s", job.id, job.kind, exc)
        await session.execute(
            text("UPDATE outbox SET attempts = attempts + 1, last_error = :error, run_after = :after "
                 "WHERE id = :id"),
            {"id": job.id, "error": f"{type(exc).__name__}: {exc}"[:2000],
             "after": utcnow() + backoff(job.attempts + 1)},
        )
        return
    await session.execute(
        text("UPDATE outbox SET completed_at = now(), attempts = attempts + 1, last_error = NULL "
             "WHERE id = :id"),
        {"id": job.id},
    )


async def schedule_periodic(db: Database, now: datetime | None = None) -> int:
    """Enqueue every periodic job whose current period has none yet; returns how many."""
    now = now or utcnow()
    created = 0
    async with db.transaction() as session:
        for job in PERIODIC.values():
            period = int(now.timestamp() // job.every.total_seconds())
            if await enqueue(session, job.kind, job.payload, dedupe_key=f"periodic:{job.kind}:{period}"):
                created += 1
    return created


OUTBOX_RETENTION = timedelta(days=7)


@periodic("outbox.cleanup", every=timedelta(hours=1))
async def cleanup_outbox(context: JobContext, payload: dict) -> None:
    """Completed jobs are kept a week for inspection, then deleted (idempotent)."""
    await context.session.execute(
        text("DELETE FROM outbox WHERE completed_at < :before"), {"before": utcnow() - OUTBOX_RETENTION})


_NEXT_DUE_SQL = text("SELECT extract(epoch FROM min(run_after) - now()) FROM outbox WHERE completed_at IS NULL")


async def _seconds_until_next_job(db: Database, limit: float) -> float:
    async with db.reading() as session:
        seconds = (await session.execute(_NEXT_DUE_SQL)).scalar()
    return limit if seconds is None else max(0.0, min(float(seconds), limit))


async def run_forever(settings: Settings, database_url: str, *, storage: Any = None,
                      stop: asyncio.Event | None = None, broker: Any = None) -> None:
    """Run jobs until `stop` is set. `broker` (the app's, in-process) delivers the wake-ups;
    without one (`docgraph worker`) the worker listens on its own connection."""
    db = Database(database_url, pool_size=2)
    stop = stop or asyncio.Event()
    own_broker = broker is None
    if own_broker:
        broker = Broker(database_url, channels=(JOBS_CHANNEL,), ping_seconds=settings.listener_ping_seconds)
        await broker.start()
    wake = asyncio.Event()
    unregister = broker.on_channel(JOBS_CHANNEL, lambda _payload: wake.set())
    poll = settings.worker_poll_seconds
    last_schedule, failures = 0.0, 0
    log.info("outbox worker started")
    try:
        while not stop.is_set():
            wake.clear()  # before claiming: a NOTIFY during the run wakes the next wait at once
            try:
                if time.monotonic() - last_schedule >= SCHEDULE_CHECK_SECONDS:
                    await schedule_periodic(db)
                    last_schedule = time.monotonic()
                if await run_once(db, storage, settings):
                    failures = 0
                    continue
                timeout = await _seconds_until_next_job(db, poll)
                failures = 0
            except Exception:
                failures += 1
                timeout = min(2.0 ** failures, poll * 6)
                log.exception("outbox worker iteration failed; retrying in %.0f s", timeout)
            await _wait_any(stop, wake, timeout)
    finally:
        unregister()
        if own_broker:
            await broker.stop()
        await db.dispose()
        log.info("outbox worker stopped")


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
