"""me: the signed-in viewer."""

from __future__ import annotations

import strawberry

from ...auth.principal import Principal
from ..context import Info
from ..tenancy.types import Viewer


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Viewer, description="The signed-in user: account, organization, role, My Drive.")
    async def me(self, info: Info) -> Principal:
        return info.context.principal
