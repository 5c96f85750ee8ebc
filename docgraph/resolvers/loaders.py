"""Per-request DataLoaders (aiodataloader). Each batch runs in its own short session, so
concurrent resolvers never share an AsyncSession. Every relation goes through one of these.

Relation fields are plain functions returning `loader.now_or_later(key, convert)`: the value
itself when the request already holds it (a connection prefetched its page's relations, or a
listing primed the loader), else an awaitable. graphql-core resolves a plain value far more
cheaply than a coroutine, which matters on a page of a hundred nodes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import select

from ..models import Department, Document, DocumentVersion, Folder, Organization, Role, User

if TYPE_CHECKING:
    from .context import Context

T = TypeVar("T")


class RequestLoader(DataLoader):
    """A DataLoader whose answers already in hand can be used without awaiting."""

    def __init__(self, batch_load_fn, **options) -> None:
        self.answers: dict[Any, Any] = {}  # key → Future, aiodataloader's cache
        super().__init__(batch_load_fn, cache_map=self.answers, **options)

    def now_or_later(self, key, convert: Callable[[Any], T]) -> T | Awaitable[T]:
        """`convert(value of key)`: at once when this request already loaded the key, else an
        awaitable of it (batched with the other keys asked for in the same tick)."""
        future = self.answers.get(key)
        if future is not None and future.done() and not future.cancelled() and future.exception() is None:
            return convert(future.result())
        return _converted(self.load(key), convert)


async def _converted(future, convert):
    return convert(await future)


def rows_by_id(model) -> Callable:
    """A batch function loading rows of `model` by primary key, None for misses."""

    async def load(context: Context, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with context.db.reading() as session:
            rows = (await session.execute(select(model).where(model.id.in_(keys)))).scalars().all()
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]

    return load


class Loaders:
    """Loaders are created lazily on first use, one instance per request."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._loaders: dict[str, RequestLoader] = {}

    def get(self, name: str, batch: Callable) -> RequestLoader:
        loader = self._loaders.get(name)
        if loader is None:
            context = self._context

            async def batch_load(keys):
                return await batch(context, keys)

            loader = self._loaders[name] = RequestLoader(batch_load, max_batch_size=1000)
        return loader

    @property
    def user(self) -> RequestLoader:
        return self.get("user", rows_by_id(User))

    @property
    def organization(self) -> RequestLoader:
        return self.get("organization", rows_by_id(Organization))

    @property
    def folder(self) -> RequestLoader:
        return self.get("folder", rows_by_id(Folder))

    @property
    def department(self) -> RequestLoader:
        return self.get("department", rows_by_id(Department))

    @property
    def role(self) -> RequestLoader:
        return self.get("role", rows_by_id(Role))

    @property
    def document(self) -> RequestLoader:
        """Document rows by id, no access check (permissions.row_loader shares it)."""
        return self.get("document", rows_by_id(Document))

    @property
    def document_version(self) -> RequestLoader:
        return self.get("document_version", rows_by_id(DocumentVersion))
