"""updateOrganizationSettings: organization admins change the approval policy and limits."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from ...services import organization_settings as settings_service
from ..context import Info
from ..inputs import sent
from .types import OrganizationSettingsPayload, UpdateOrganizationSettingsInput


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Change the organization's settings (organization admins).")
    async def update_organization_settings(
            self, info: Info,
            input: Annotated[UpdateOrganizationSettingsInput, strawberry.argument(
                description="The settings to change; omitted ones keep their value.")],
    ) -> OrganizationSettingsPayload:
        policy: Any = input.approval_policy
        if policy is not None and policy is not strawberry.UNSET:
            policy = [action.value for action in policy]
        row = await settings_service.update_settings(
            info.context.db, info.context.principal,
            approval_policy=sent(policy),
            trash_retention_days=sent(input.trash_retention_days),
            max_document_size=sent(input.max_document_size),
            storage_quota=sent(input.storage_quota),
            allowed_content_types=sent(input.allowed_content_types))
        return OrganizationSettingsPayload(settings=row)
