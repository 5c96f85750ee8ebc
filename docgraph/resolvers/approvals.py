"""Queries and mutations of the approval workflow: approvals, approve, reject, cancelApproval;
and the organization settings that hold the approval policy (organizationSettings,
updateOrganizationSettings), kept here as the policy is what they are mostly about."""

from __future__ import annotations

import strawberry

from ..globalid import decode_as
from ..pagination import PageRequest
from ..schema.approvals import Approval, ApprovalConnection, ApprovalEdge, ApprovalPayload, ReviewInput
from ..schema.common import to_connection
from ..schema.enums import ApprovalStatus
from ..schema.organization_settings import (
    OrganizationSettings, OrganizationSettingsPayload, UpdateOrganizationSettingsInput,
)
from ..services import approvals as approval_service
from ..services import organization_settings as settings_service
from .context import Info


async def approval_connection(info: Info, status: ApprovalStatus | None, first: int | None, after: str | None,
                              **scope) -> ApprovalConnection:
    """A page of the approvals the viewer may see (Query.approvals, Document.approvals)."""
    page, count = await approval_service.list_approvals(
        info.context.db, info.context.principal, PageRequest.parse(first, after),
        status=status.value if status is not None else None, **scope)
    return to_connection(page, Approval.from_model, count, connection=ApprovalConnection, edge=ApprovalEdge)


def _setting(value):
    return settings_service.UNCHANGED if value is strawberry.UNSET else value


@strawberry.type
class Query:
    @strawberry.field(description="Approvals the viewer may review, or requested.")
    async def approvals(self, info: Info, status: ApprovalStatus | None = None, first: int | None = None,
                        after: str | None = None) -> ApprovalConnection:
        return await approval_connection(info, status, first, after)

    @strawberry.field(description="The settings of the viewer's organization.")
    async def organization_settings(self, info: Info) -> OrganizationSettings:
        return OrganizationSettings.of(await settings_service.read_settings(info.context.db, info.context.principal))


async def _decide(info: Info, input: ReviewInput, decision) -> ApprovalPayload:
    """approve, reject and cancel take the same input and answer the same payload."""
    row = await decision(info.context.db, info.context.principal,
                         approval_id=decode_as(input.approval_id, "Approval"), comment=input.comment)
    return ApprovalPayload(approval=Approval.from_model(row))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Apply the requested change (reviewers of the resource, not the requester).")
    async def approve(self, info: Info, input: ReviewInput) -> ApprovalPayload:
        return await _decide(info, input, approval_service.approve)

    @strawberry.mutation(description="Refuse the requested change (reviewers of the resource, not the requester).")
    async def reject(self, info: Info, input: ReviewInput) -> ApprovalPayload:
        return await _decide(info, input, approval_service.reject)

    @strawberry.mutation(description="Withdraw your own pending request.")
    async def cancel_approval(self, info: Info, input: ReviewInput) -> ApprovalPayload:
        return await _decide(info, input, approval_service.cancel)

    @strawberry.mutation(description="Change the organization's settings (organization admins).")
    async def update_organization_settings(self, info: Info,
                                           input: UpdateOrganizationSettingsInput) -> OrganizationSettingsPayload:
        policy = input.approval_policy
        if policy is not None and policy is not strawberry.UNSET:
            policy = [action.value for action in policy]
        row = await settings_service.update_settings(
            info.context.db, info.context.principal,
            approval_policy=_setting(policy),
            trash_retention_days=_setting(input.trash_retention_days),
            max_document_size=_setting(input.max_document_size),
            storage_quota=_setting(input.storage_quota),
            allowed_content_types=_setting(input.allowed_content_types))
        return OrganizationSettingsPayload(settings=OrganizationSettings.of(row))
