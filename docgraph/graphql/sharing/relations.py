"""The viewer's permissions on a folder or document and the resource's shares: fields of
Folder and Document, answered from the request's access loader."""

from __future__ import annotations

import uuid

from ... import models
from ...permissions import Access
from ..context import Info, Later


def my_permissions(info: Info, kind: str, resource_id: uuid.UUID) -> Later[Access]:
    """The viewer's evaluation (a Permissions object reads its decisions): at once when a
    listing or an earlier check already made it."""
    return info.context.loaders.access.now_or_later((kind, resource_id))


async def shares_of(info: Info, kind: str, resource_id: uuid.UUID) -> list[models.Grant]:
    """The live shares of a resource, for viewers who may SHARE or MANAGE it; else empty."""
    access = await info.context.loaders.access.load((kind, resource_id))
    if not (access.can_share or access.can_manage):
        return []
    return await info.context.loaders.shares(kind).load(resource_id)
