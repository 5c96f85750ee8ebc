"""Per-request DataLoaders (aiodataloader). Each batch runs in its own short session, so
concurrent resolvers never share an AsyncSession. Every relation goes through one of these."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from sqlalchemy import select

from ..models import Department, Document, DocumentVersion, Folder, Organization, Role, User

if TYPE_CHECKING:
    from .context import Context


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
        self._loaders: dict[str, DataLoader] = {}

    def get(self, name: str, batch: Callable) -> DataLoader:
        loader = self._loaders.get(name)
        if loader is None:
            context = self._context

            async def batch_load(keys):
                return await batch(context, keys)

            loader = self._loaders[name] = DataLoader(batch_load, max_batch_size=1000)
        return loader

    @property
    def user(self) -> DataLoader:
        return self.get("user", rows_by_id(User))

    @property
    def organization(self) -> DataLoader:
        return self.get("organization", rows_by_id(Organization))

    @property
    def folder(self) -> DataLoader:
        return self.get("folder", rows_by_id(Folder))

    @property
    def department(self) -> DataLoader:
        return self.get("department", rows_by_id(Department))

    @property
    def role(self) -> DataLoader:
        return self.get("role", rows_by_id(Role))

    @property
    def document(self) -> DataLoader:
        """Document rows by id, no access check (permissions.row_loader shares it)."""
        return self.get("document", rows_by_id(Document))

    @property
    def document_version(self) -> DataLoader:
        return self.get("document_version", rows_by_id(DocumentVersion))
