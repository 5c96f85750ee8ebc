"""The per-request access loader: every check of one GraphQL request that is pending at the
same tick resolves in one evaluation statement (keys are (kind, id)). `visible_rows` checks and
fetches rows in one statement, and leaves both answers in the request's loaders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from aiodataloader import DataLoader

from .evaluation import evaluate, evaluate_with_rows
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


def remember(context: Context, accesses: Iterable[Access]) -> None:
    """Give the request's access loader evaluations already made (a listing returns its rows'),
    so asking for those resources again costs no statement."""
    loader = access_loader(context)
    for access in accesses:
        loader.prime(access.key, access)


def row_loader(context: Context, kind: str) -> DataLoader:
    """The request's loader of folder / document rows by id (no access check)."""
    from ..models import Document
    from ..resolvers.loaders import rows_by_id

    if kind == FOLDER:
        return context.loaders.folder
    return context.loaders.get("document", rows_by_id(Document))


def _keep(context: Context, kind: str, found: dict) -> None:
    """Leave evaluated rows in the request's loaders: accesses, rows, visible rows."""
    remember(context, (access for access, _ in found.values()))
    rows, visible = row_loader(context, kind), _visible_loader(context, kind)
    for i, (_, row) in found.items():
        visible.prime(i, row)
        if row is not None:
            rows.prime(i, row)


def _visible_rows_batch(kind: str):
    async def load(context: Context, ids: Sequence) -> list:
        async with context.db.reading() as session:
            found = await evaluate_with_rows(session, Actor.of(context.principal), kind, ids)
        _keep(context, kind, found)
        return [found[i][1] for i in ids]

    return load


def _visible_loader(context: Context, kind: str) -> DataLoader:
    return context.loaders.get(f"visible_{kind}", _visible_rows_batch(kind))


async def visible_rows(context: Context, kind: str, ids: Sequence) -> list:
    """Rows of the resources the principal may see now (live and viewable), None for the
    others, in the order of `ids`: one statement per batch for the check and the rows."""
    return await _visible_loader(context, kind).load_many(list(ids))


async def visible_folder_with_ancestors(context: Context, folder_id) -> object | None:
    """`visible_rows` of one folder whose ancestors will be asked for too (breadcrumbs): they
    are checked and fetched in the same statement and wait in the request's loaders."""
    async with context.db.reading() as session:
        found = await evaluate_with_rows(session, Actor.of(context.principal), FOLDER, [folder_id], lineage=True)
    _keep(context, FOLDER, found)
    return found[folder_id][1]
