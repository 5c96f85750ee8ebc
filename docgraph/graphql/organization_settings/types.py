"""The organization's settings as an API type, with the input of updateOrganizationSettings.
Objects are `services.organization_settings.OrganizationSettings`."""

from __future__ import annotations

import strawberry

from ...services.organization_settings import POLICY_ACTIONS, PolicyAction
from ...services.organization_settings import OrganizationSettings as Settings
from ..enums import ApprovalPolicyAction


def _approval_policy(root: Settings) -> list[PolicyAction]:
    return [action for action in POLICY_ACTIONS if action in root.approval_policy]


@strawberry.type
class OrganizationSettings:
    approval_policy: list[ApprovalPolicyAction] = strawberry.field(
        resolver=_approval_policy, graphql_type=list[ApprovalPolicyAction],
        description="Actions that wait for a reviewer when someone who is not one attempts them.")
    trash_retention_days: int = strawberry.field(description="Days deleted items stay restorable.")
    max_document_size: int = strawberry.field(description="Largest accepted document, in bytes.")
    storage_quota: int | None = strawberry.field(
        description="Bytes of stored content the organization may use; null: unlimited.")

    @strawberry.field(graphql_type=list[str])
    @staticmethod
    def allowed_content_types(root: Settings) -> list[str]:
        return sorted(root.allowed_content_types)


@strawberry.input(description="Omitted fields keep their value; null restores the default.")
class UpdateOrganizationSettingsInput:
    approval_policy: list[ApprovalPolicyAction] | None = strawberry.UNSET
    trash_retention_days: int | None = strawberry.UNSET
    max_document_size: int | None = strawberry.UNSET
    storage_quota: int | None = strawberry.field(default=strawberry.UNSET, description="null: unlimited.")
    allowed_content_types: list[str] | None = strawberry.UNSET


@strawberry.type
class OrganizationSettingsPayload:
    settings: Settings = strawberry.field(graphql_type=OrganizationSettings)
