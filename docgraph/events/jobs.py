"""Background jobs as handlers see them: the registry of handlers per job kind (`@handler`),
periodic jobs (`@periodic`), and what a handler is given (`JobContext`). Handler modules
(housekeeping.py, sweep.py) register here; worker.py runs them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..storage import Storage, storage_from_settings


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


@contextlib.asynccontextmanager
async def job_storage(context: JobContext) -> AsyncIterator[Storage]:
    """The worker's storage; a standalone `docgraph worker` may have none: build the configured one."""
    if context.storage is not None:
        yield context.storage
        return
    if context.settings is None:
        raise RuntimeError("the worker has neither storage nor settings")
    storage = storage_from_settings(context.settings)
    try:
        yield storage
    finally:
        await storage.close()


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: timedelta
    payload: dict


PERIODIC: dict[str, Periodic] = {}


def periodic(kind: str, every: timedelta, payload: dict | None = None) -> Callable[[Handler], Handler]:
    """Register a handler AND enqueue its job once per `every` (aligned on the epoch)."""
    def register(fn: Handler) -> Handler:
        PERIODIC[kind] = Periodic(kind, every, payload or {})
        return handler(kind)(fn)

    return register
