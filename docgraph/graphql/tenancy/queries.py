"""organization: the organization of the current token."""

from __future__ import annotations

import strawberry

from ... import models
from ..context import Info
from .types import Organization


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Organization | None,
                      description="The organization of the current token (null for a super admin without one).")
    async def organization(self, info: Info) -> models.Organization | None:
        organization_id = info.context.principal.organization_id
        if organization_id is None:
            return None
        return await info.context.loaders.organization.load(organization_id)
