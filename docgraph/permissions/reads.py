"""The evaluation as read functions for the API's loaders: each opens its own short read, so
the GraphQL layer batches checks per request without touching sessions or SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ..auth.principal import Principal
from ..db import Database
from .evaluation import evaluate, evaluate_with_rows
from .model import Access, Actor, ResourceKey


async def access_of(db: Database, principal: Principal, keys: Sequence[ResourceKey]) -> dict[ResourceKey, Access]:
    """The principal's `Access` to each resource, in one statement."""
    async with db.reading() as session:
        return await evaluate(session, Actor.of(principal), keys)


async def visible_rows_of(db: Database, principal: Principal, kind: str, ids: Sequence[uuid.UUID], *,
                          lineage: bool = False) -> dict[uuid.UUID, tuple[Access, Any | None]]:
    """Each resource's `Access` and its row when the principal may see it (live and viewable),
    else None: the check and the fetch in one statement. With `lineage` (folders), every
    ancestor of the folders is checked and fetched too, and is in the answer."""
    async with db.reading() as session:
        return await evaluate_with_rows(session, Actor.of(principal), kind, ids, lineage=lineage)
