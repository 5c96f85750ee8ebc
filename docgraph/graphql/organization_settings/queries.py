"""organizationSettings: the settings of the viewer's organization."""

from __future__ import annotations

import strawberry

from ...services import organization_settings as settings_service
from ..context import Info
from .types import OrganizationSettings


@strawberry.type
class Query:
    @strawberry.field(graphql_type=OrganizationSettings, description="The settings of the viewer's organization.")
    async def organization_settings(self, info: Info) -> settings_service.OrganizationSettings:
        return await settings_service.read_settings(info.context.db, info.context.principal)
