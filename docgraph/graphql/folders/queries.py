"""folder(id) and drives."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...errors import NotFound
from ...globalid import decode_as
from ...services import folders as folder_service
from ..context import Info
from ..pagination import After, Before, Connection, First, Last, page_request, selects, to_connection
from .types import Folder


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Folder | None, description="A folder the viewer may see; NOT_FOUND otherwise.")
    async def folder(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(
            description="The folder's ID.")]) -> models.Folder:
        info.context.principal.require_organization()
        folder_id = decode_as(id, "Folder")
        loaders = info.context.loaders
        if selects(info, "ancestors"):
            row = await loaders.visible_folder_with_ancestors(folder_id)
        else:
            row = await loaders.visible_folder.load(folder_id)
        if row is None:
            raise NotFound("Folder not found")
        return row

    @strawberry.field(graphql_type=list[Folder],
                      description="Roots the viewer can enter: department roots it may view, then its My Drive.")
    async def drives(self, info: Info) -> list[models.Folder]:
        return await folder_service.list_drives(info.context.db, info.context.principal)

    @strawberry.field(graphql_type=Connection[Folder],
                      description="The drives of `drives` (department roots, then the viewer's My Drive), a page at "
                                  "a time.")
    async def drives_connection(self, info: Info, first: First = None, after: After = None, last: Last = None,
                                before: Before = None) -> Connection[models.Folder]:
        return to_connection(*await folder_service.drives_page(
            info.context.db, info.context.principal, page_request(first, after, last, before)))
