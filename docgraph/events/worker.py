"""The outbox worker: claims due jobs with FOR UPDATE SKIP LOCKED, runs their handler,
retries failures with exponential backoff. Any number of workers may run side by side.

Handlers are registered per job kind with `@handler("kind")` and must be idempotent: a job can
run again after a crash between its effect and the commit that marks it done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db import Database
from ..models.base import utcnow

log = logging.getLogger("docgraph.worker")

MAX_BACKOFF = timedelta(hours=1)
IDLE_SLEEP_SECONDS = 1.0


@dataclass
class JobContext:
    session: AsyncSession
    storage: Any
    settings: Settings | None


Handler = Callable[[JobContext, dict], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


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


async def run_forever(settings: Settings, database_url: str, *, storage: Any = None,
                      stop: asyncio.Event | None = None) -> None:
    db = Database(database_url, pool_size=2)
    stop = stop or asyncio.Event()
    log.info("outbox worker started")
    try:
        while not stop.is_set():
            claimed = await run_once(db, storage, settings)
            if claimed == 0:
                try:
                    await asyncio.wait_for(stop.wait(), IDLE_SLEEP_SECONDS)
                except TimeoutError:
                    pass
    finally:
        await db.dispose()
