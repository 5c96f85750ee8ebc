"""Asking for approval: what the document and folder services call, inside their transaction,
when a sensitive change by someone who is not a reviewer must wait for one (DESIGN "Approvals").

- `approval_required`: the organization's policy lists the action and the actor is not a
  reviewer of the resource (steps 1, 2, 3, 4a of the evaluation: `Access.is_reviewer`).
- `request_approval_in`: the PENDING approval row (with the staged content for REPLACE), its
  audit row and an APPROVAL_REQUESTED notification to every reviewer but the requester.

Deciding (approve, reject, cancel) lives in approvals.py, which applies the change through the
same functions the direct path uses. This module imports neither documents.py nor folders.py,
which import it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..errors import Conflict
from ..events import publish
from ..models import (
    Approval,
    DepartmentAdmin,
    Document,
    Folder,
    Membership,
    Organization,
    User,
)
from ..permissions import Access
from . import audit
from .content import StoredContent
from .organization_settings import approval_policy
from .validation import name_from_file_name

# Approval.action per policy action.
ACTIONS = {"DOCUMENT_REPLACE": "REPLACE", "DOCUMENT_DELETE": "DELETE", "FOLDER_DELETE_NONEMPTY": "DELETE"}
VERBS = {"REPLACE": "replace", "DELETE": "delete"}


async def approval_required(session: AsyncSession, actor: Principal, access: Access, policy_action: str) -> bool:
    """Whether `actor`'s `policy_action` on the resource of `access` must wait for approval."""
    if access.is_reviewer:
        return False
    organization = await session.get(Organization, actor.require_organization())
    return policy_action in approval_policy(organization.settings)


def approval_details(approval: Approval | None) -> dict:
    """What the audit row of a change gains when an approval applies it."""
    if approval is None:
        return {}
    return {"approvalId": str(approval.id), "requestedBy": str(approval.requested_by)}


def display_name(user: User | None) -> str:
    if user is None:
        return "Someone"
    return f"{user.first_name} {user.last_name}".strip() or user.email


async def resource_of(session: AsyncSession, approval: Approval) -> Folder | Document:
    if approval.folder_id is not None:
        return await session.get(Folder, approval.folder_id)
    return await session.get(Document, approval.document_id)


async def reviewers_of(session: AsyncSession, organization_id: uuid.UUID,
                       resource: Folder | Document) -> list[uuid.UUID]:
    """Live, active members who review the resource: organization ADMINs, super admins (members
    only: they get no inbox elsewhere), admins of the department whose drive holds it, and the
    owner of the My Drive that holds it. Mirrors steps 1, 2, 3 and 4a of the evaluation."""
    folder = resource if isinstance(resource, Folder) else await session.get(Folder, resource.folder_id)
    root = folder if folder.parent_id is None else await session.get(Folder, folder.path[0])
    reviewing = [Membership.system_role == "ADMIN", User.is_super_admin]
    if root.department_id is not None:
        reviewing.append(Membership.user_id.in_(
            select(DepartmentAdmin.user_id).where(DepartmentAdmin.department_id == root.department_id)))
    if root.owner_type == "USER":
        reviewing.append(Membership.user_id == root.owner_id)
    query = (
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id, Membership.left_at.is_(None), User.is_active,
               User.deleted_at.is_(None), or_(*reviewing))
        .order_by(Membership.user_id)
    )
    return list((await session.execute(query)).scalars())


async def _ensure_not_pending(session: AsyncSession, actor: Principal, action: str, resource_column,
                              resource_id: uuid.UUID, what: str) -> None:
    """One pending request per requester, action and resource: a second one would only be
    stale once the first is decided."""
    pending = (await session.execute(select(Approval.id).where(
        and_(resource_column == resource_id, Approval.action == action, Approval.status == "PENDING",
             Approval.requested_by == actor.user_id)).limit(1))).first()
    if pending is not None:
        raise Conflict(f"You already asked to {VERBS[action]} this {what}; cancel that request to make a new one",
                       approvalId=str(pending.id))


async def request_approval_in(session: AsyncSession, actor: Principal, policy_action: str, *,
                              document: Document | None = None, folder: Folder | None = None,
                              comment: str | None = None, staged: StoredContent | None = None) -> Approval:
    """A PENDING approval for the change (exactly one of `document` / `folder`; `staged`: the
    new content of a REPLACE, already stored as a blob), audited and announced to the reviewers.
    The caller has checked the actor's capability and the lock, and holds the resource's lock."""
    organization_id = actor.require_organization()
    action = ACTIONS[policy_action]
    resource = document if document is not None else folder
    what = "document" if document is not None else "folder"
    column = Approval.document_id if document is not None else Approval.folder_id
    await _ensure_not_pending(session, actor, action, column, resource.id, what)
    approval = Approval(
        organization_id=organization_id, action=action, requested_by=actor.user_id, comment=comment,
        document_id=document.id if document is not None else None,
        folder_id=folder.id if folder is not None else None,
    )
    if staged is not None:
        approval.staged_blob_id = staged.blob_id
        approval.staged_file_size, approval.staged_content_type = staged.size, staged.content_type
        approval.staged_content_hash = staged.sha256
        approval.staged_file_name = (name_from_file_name(staged.file_name) or "")[:255] or None
        approval.base_version_id = document.current_version_id
    session.add(approval)
    await session.flush()
    details = {"action": action, "resourceType": what.upper(), "resourceId": str(resource.id), "comment": comment}
    if staged is not None:
        details.update(contentHash=staged.sha256, fileSize=staged.size, contentType=staged.content_type,
                       baseVersionId=str(approval.base_version_id))
    await audit.record_by(session, actor, "APPROVAL_REQUEST", "APPROVAL", resource_id=approval.id,
                          resource_name=resource.name, details=details)
    requester = await session.get(User, actor.user_id)
    reviewers = [user for user in await reviewers_of(session, organization_id, resource) if user != actor.user_id]
    note = f": {comment}" if comment else ""
    await publish.notify_users(
        session, organization_id, reviewers, "APPROVAL_REQUESTED", "Approval requested",
        f'{display_name(requester)} asks to {VERBS[action]} the {what} "{resource.name}"{note}',
        "APPROVAL", approval.id)
    return approval
