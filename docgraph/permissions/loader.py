"""The per-request access loader: every check of one GraphQL request that is pending at the
same tick resolves in one evaluation statement (keys are (kind, id))."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiodataloader import DataLoader

from .evaluation import evaluate
from .model import FOLDER, Access, Actor, ResourceKey

if TYPE_CHECKING:
    from ..resolvers.context import Context

LOADER_NAME = "access"


async def _batch(context: Context, keys: Sequence[ResourceKey]) -> list[Access]:
    actor = Actor.of(context.principal)
    async with context.db.reading() as session:
        found = await evaluate(session, actor, keys)
    return [found[key] for key in keys]


def access_loader(context: Context) -> DataLoader:
    """The request's loader of `Access` for the signed-in principal."""
    return context.loaders.get(LOADER_NAME, _batch)


def row_loader(context: Context, kind: str) -> DataLoader:
    """The request's loader of folder / document rows by id (no access check)."""
    from ..models import Document
    from ..resolvers.loaders import rows_by_id

    if kind == FOLDER:
        return context.loaders.folder
    return context.loaders.get("document", rows_by_id(Document))


async def visible_rows(context: Context, kind: str, ids: Sequence) -> list:
    """Rows of the resources the principal may see now (live and viewable), None for the
    others, in the order of `ids`: one access batch, then one row batch."""
    accesses = await access_loader(context).load_many([(kind, i) for i in ids])
    shown = [a.id for a in accesses if a.visible]
    rows = dict(zip(shown, await row_loader(context, kind).load_many(shown)))
    return [rows.get(i) for i in ids]
