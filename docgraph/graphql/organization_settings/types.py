"""The organization's settings as an API type, with the input of updateOrganizationSettings.
Objects are `services.organization_settings.OrganizationSettings`."""

from __future__ import annotations

import strawberry

from ...services.organization_settings import POLICY_ACTIONS, PolicyAction
from ...services.organization_settings import OrganizationSettings as Settings
from ..enums import ApprovalPolicyAction
from ..scalars import BigInt


def _approval_policy(root: Settings) -> list[PolicyAction]:
    return [action for action in POLICY_ACTIONS if action in root.approval_policy]


@strawberry.type(description="Organization-wide rules (organization admins).")
class OrganizationSettings:
    approval_policy: list[ApprovalPolicyAction] = strawberry.field(
        resolver=_approval_policy, graphql_type=list[ApprovalPolicyAction],
        description="Actions that wait for a reviewer when someone who is not one attempts them.")
    trash_retention_days: int = strawberry.field(description="Days deleted items stay restorable.")
    max_document_size: BigInt = strawberry.field(description="Largest accepted document, in bytes.")
    storage_quota: BigInt | None = strawberry.field(
        description="Bytes of stored content the organization may use; null: unlimited.")

    @strawberry.field(graphql_type=list[str], description="Media types documents may have, such as application/pdf.")
    @staticmethod
    def allowed_content_types(root: Settings) -> list[str]:
        return sorted(root.allowed_content_types)


@strawberry.input(description="Omitted fields keep their value; null restores the default.")
class UpdateOrganizationSettingsInput:
    approval_policy: list[ApprovalPolicyAction] | None = strawberry.field(
        default=strawberry.UNSET, description="The actions that wait for a reviewer (the whole list).")
    trash_retention_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Days deleted items stay restorable before they are purged.")
    max_document_size: BigInt | None = strawberry.field(
        default=strawberry.UNSET, description="Largest accepted document, in bytes.")
    storage_quota: BigInt | None = strawberry.field(
        default=strawberry.UNSET, description="Bytes of stored content the organization may use; null: unlimited.")
    allowed_content_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Media types documents may have (the whole list).")


@strawberry.type(description="The organization's settings after a change.")
class OrganizationSettingsPayload:
    settings: Settings = strawberry.field(graphql_type=OrganizationSettings,
                                          description="The settings as they are now.")
