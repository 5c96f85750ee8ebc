"""The app's background machinery: the LISTEN broker and, unless `run_worker` is false, the
outbox worker loop, started in the lifespan and stopped cleanly with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .broker import Broker
from .worker import run_forever

log = logging.getLogger("docgraph.events")

WORKER_STOP_TIMEOUT = 10.0


async def start_background(services) -> Callable[[], Awaitable[None]]:
    """Start the broker (put on `services.broker`, unless one is there already) and the
    in-process worker; returns the coroutine function that stops what was started here."""
    settings = services.settings
    own_broker = services.broker is None
    if own_broker:
        services.broker = Broker(services.db.url, queue_size=settings.subscriber_queue_size,
                                 ping_seconds=settings.listener_ping_seconds)
        await services.broker.start()
    stop = asyncio.Event()
    worker: asyncio.Task | None = None
    if settings.run_worker:
        worker = asyncio.create_task(
            run_forever(settings, services.db.url, storage=services.storage, stop=stop, broker=services.broker),
            name="docgraph-worker")
        worker.add_done_callback(_report_crash)

    async def stop_background() -> None:
        stop.set()
        if worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(worker), WORKER_STOP_TIMEOUT)
            except TimeoutError:
                log.warning("the outbox worker did not stop in %.0f s; cancelling it", WORKER_STOP_TIMEOUT)
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            except Exception:
                log.exception("the outbox worker failed")
        if own_broker:
            await services.broker.stop()
            services.broker = None

    return stop_background


def _report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the in-process outbox worker stopped", exc_info=task.exception())
