"""The organization's settings as an API type, with the input of updateOrganizationSettings."""

from __future__ import annotations

from enum import Enum

import strawberry

from ..services.organization_settings import POLICY_ACTIONS, OrganizationSettings as SettingsRow


@strawberry.enum(description="A sensitive action that the approval policy may require a review for.")
class ApprovalPolicyAction(Enum):
    DOCUMENT_REPLACE = "DOCUMENT_REPLACE"
    DOCUMENT_DELETE = "DOCUMENT_DELETE"
    FOLDER_DELETE_NONEMPTY = "FOLDER_DELETE_NONEMPTY"


@strawberry.type
class OrganizationSettings:
    approval_policy: list[ApprovalPolicyAction] = strawberry.field(
        description="Actions that wait for a reviewer when someone who is not one attempts them.")
    trash_retention_days: int = strawberry.field(description="Days deleted items stay restorable.")
    max_document_size: int = strawberry.field(description="Largest accepted document, in bytes.")
    storage_quota: int | None = strawberry.field(
        description="Bytes of stored content the organization may use; null: unlimited.")
    allowed_content_types: list[str]

    @classmethod
    def of(cls, row: SettingsRow) -> OrganizationSettings:
        return cls(
            approval_policy=[ApprovalPolicyAction(a) for a in POLICY_ACTIONS if a in row.approval_policy],
            trash_retention_days=row.trash_retention_days, max_document_size=row.max_document_size,
            storage_quota=row.storage_quota, allowed_content_types=sorted(row.allowed_content_types),
        )


@strawberry.input(description="Omitted fields keep their value; null restores the default.")
class UpdateOrganizationSettingsInput:
    approval_policy: list[ApprovalPolicyAction] | None = strawberry.UNSET
    trash_retention_days: int | None = strawberry.UNSET
    max_document_size: int | None = strawberry.UNSET
    storage_quota: int | None = strawberry.field(default=strawberry.UNSET, description="null: unlimited.")
    allowed_content_types: list[str] | None = strawberry.UNSET


@strawberry.type
class OrganizationSettingsPayload:
    settings: OrganizationSettings
