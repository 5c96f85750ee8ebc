"""document(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...errors import NotFound
from ...globalid import decode_as
from ..context import Info
from .types import Document


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Document | None, description="A document the viewer may see; NOT_FOUND otherwise.")
    async def document(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(
            description="The document's ID.")]) -> models.Document:
        info.context.principal.require_organization()
        row = await info.context.loaders.visible_document.load(decode_as(id, "Document"))
        if row is None:
            raise NotFound("Document not found")
        return row
