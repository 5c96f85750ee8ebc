"""Deciding approvals (approve, reject, cancel) and listing them.

Requests are made by the document and folder services (approval_requests.py). A decision locks
the approval row (FOR UPDATE), so of two concurrent decisions exactly one finds it PENDING; the
other gets CONFLICT. Approving applies the change in the same transaction, through the same
functions the direct path uses (documents.add_version_in, documents.delete_document_in,
folders.delete_folder_in), after checking that the request still fits the resource: not
deleted meanwhile, not locked by someone else, and for REPLACE not changed since the request.

Who may do what with an approval (the evaluation decides who reviews its resource, now):
- see it: its requester and the resource's reviewers; anyone else gets NOT_FOUND;
- approve / reject: reviewers other than the requester (FORBIDDEN otherwise);
- cancel: the requester only (FORBIDDEN for reviewers).
Rejected or cancelled staged content is reclaimed by the worker (`approval.cleanup` job).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import Conflict, Forbidden, NotFound
from ..events import publish
from ..models import Approval, Blob, DepartmentAdmin, Document, Folder, User
from ..models.base import utcnow
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page
from ..permissions import DOCUMENT, FOLDER, Access, Actor
from . import audit, documents, folders
from .approval_requests import VERBS, display_name, resource_of, reviewers_of
from .content import StoredContent
from .documents import lock_is_active
from .tenancy import clean_description

# The worker job that reclaims the staged content of a rejected or cancelled request (its
# handler lives with the orphan sweep, events/sweep.py, whose checks it shares).
CLEANUP_JOB = "approval.cleanup"
MAX_COMMENT_LENGTH = 1000
_UUID = UUID(as_uuid=True)


# Refused decisions are recorded as FAILURE rows on the approval.


def resource_key(approval: Approval) -> permissions.ResourceKey:
    return (FOLDER, approval.folder_id) if approval.folder_id is not None else (DOCUMENT, approval.document_id)


def staged_content(approval: Approval) -> StoredContent:
    return StoredContent(blob_id=approval.staged_blob_id, size=approval.staged_file_size,
                         content_type=approval.staged_content_type, sha256=approval.staged_content_hash,
                         file_name=approval.staged_file_name)


# --- deciding -------------------------------------------------------------------------------------

async def _approval_for_update(session: AsyncSession, actor: Principal,
                               approval_id: uuid.UUID) -> tuple[Approval, Access]:
    """The approval, locked, with the actor's access to its resource; NOT_FOUND unless the
    actor requested it or reviews its resource."""
    approval = (await session.execute(
        select(Approval).where(Approval.id == approval_id, Approval.organization_id == actor.require_organization())
        .with_for_update().execution_options(populate_existing=True))).scalar_one_or_none()
    if approval is None:
        raise NotFound("Approval not found")
    key = resource_key(approval)
    access = (await permissions.evaluate(session, Actor.of(actor), [key]))[key]
    if not access.is_reviewer and approval.requested_by != actor.user_id:
        raise NotFound("Approval not found")
    return approval, access


def _ensure_reviewer(approval: Approval, access: Access, actor: Principal) -> None:
    if approval.requested_by == actor.user_id:
        raise Forbidden("You cannot review your own request")
    if not access.is_reviewer:
        raise Forbidden("Only reviewers of the resource can decide this request")


def _ensure_pending(approval: Approval) -> None:
    if approval.status != "PENDING":
        raise Conflict(f"This request is already {approval.status.lower()}", status=approval.status)


async def _apply(session: AsyncSession, actor: Principal, approval: Approval) -> None:
    """Make the requested change, if the resource still is as the request found it."""
    if approval.folder_id is not None:
        await folders.lock_folder_tree(session, approval.organization_id, exclusive=True)
        folder = await session.get(Folder, approval.folder_id, with_for_update=True, populate_existing=True)
        if folder.deleted_at is not None:
            raise Conflict("The folder was deleted since the request")
        await folders.delete_folder_in(session, actor, folder, comment=approval.comment, approval=approval)
        return
    document = await session.get(Document, approval.document_id, with_for_update=True, populate_existing=True)
    if document.deleted_at is not None:
        raise Conflict("The document was deleted since the request")
    if lock_is_active(document) and document.locked_by not in (approval.requested_by, actor.user_id):
        raise Conflict("The document is locked by another user; it must be unlocked before this request is approved")
    if approval.action == "DELETE":
        await documents.delete_document_in(session, actor, document, comment=approval.comment, approval=approval)
        return
    if document.current_version_id != approval.base_version_id:
        raise Conflict("The document changed since the request; ask for a new one")
    blob = await session.get(Blob, approval.staged_blob_id)
    if blob.purged_at is not None:  # cannot happen while PENDING (the sweep keeps it); be explicit
        raise Conflict("The staged content is no longer stored; ask for a new request")
    await documents.add_version_in(session, actor, document, staged_content(approval),
                                   change_comment=approval.comment, created_by=approval.requested_by,
                                   approval=approval)


async def _close(session: AsyncSession, actor: Principal, approval: Approval, status: str,
                 comment: str | None, audit_action: str) -> None:
    """Record the decision, audit it, notify, and schedule the cleanup of unused staged content."""
    now = utcnow()
    approval.status, approval.reviewed_at, approval.review_comment = status, now, comment
    approval.reviewed_by = actor.user_id if status != "CANCELLED" else None
    await session.flush()
    resource = await resource_of(session, approval)
    what = "document" if approval.document_id is not None else "folder"
    await audit.record_by(session, actor, audit_action, "APPROVAL", resource_id=approval.id,
                          resource_name=resource.name,
                          details={"status": status, "action": approval.action, "resourceType": what.upper(),
                                   "resourceId": str(resource.id), "comment": comment})
    actor_name = display_name(await session.get(User, actor.user_id))
    note = f": {comment}" if comment else ""
    request = f'the request to {VERBS[approval.action]} the {what} "{resource.name}"'
    if status == "CANCELLED":  # the reviewers need not look at it any more
        recipients = [u for u in await reviewers_of(session, approval.organization_id, resource)
                      if u != actor.user_id]
        message = f"{actor_name} cancelled {request}"
    else:
        recipients = [approval.requested_by]
        message = f"{actor_name} {status.lower()} your {request.removeprefix('the ')}{note}"
    await publish.notify_users(session, approval.organization_id, recipients, "APPROVAL_DECIDED",
                               f"Request {status.lower()}", message, "APPROVAL", approval.id)
    if status != "APPROVED" and approval.staged_blob_id is not None:
        await publish.enqueue(session, CLEANUP_JOB, {"approvalId": str(approval.id)},
                              dedupe_key=f"{CLEANUP_JOB}:{approval.id}", organization_id=approval.organization_id)


def _clean_comment(comment: str | None) -> str | None:
    return clean_description(comment, field="comment", max_length=MAX_COMMENT_LENGTH)


@audit.audited("APPROVE", "APPROVAL", resource="approval_id")
async def approve(db: Database, actor: Principal, *, approval_id: uuid.UUID, comment: str | None = None) -> Approval:
    """Apply the requested change and record the approval, in one transaction."""
    comment = _clean_comment(comment)
    async with db.transaction() as session:
        approval, access = await _approval_for_update(session, actor, approval_id)
        _ensure_reviewer(approval, access, actor)
        _ensure_pending(approval)
        await _apply(session, actor, approval)
        await _close(session, actor, approval, "APPROVED", comment, "APPROVE")
    return approval


@audit.audited("REJECT", "APPROVAL", resource="approval_id")
async def reject(db: Database, actor: Principal, *, approval_id: uuid.UUID, comment: str | None = None) -> Approval:
    comment = _clean_comment(comment)
    async with db.transaction() as session:
        approval, access = await _approval_for_update(session, actor, approval_id)
        _ensure_reviewer(approval, access, actor)
        _ensure_pending(approval)
        await _close(session, actor, approval, "REJECTED", comment, "REJECT")
    return approval


@audit.audited("UPDATE", "APPROVAL", resource="approval_id")
async def cancel(db: Database, actor: Principal, *, approval_id: uuid.UUID, comment: str | None = None) -> Approval:
    """The requester withdraws a pending request."""
    comment = _clean_comment(comment)
    async with db.transaction() as session:
        approval, _ = await _approval_for_update(session, actor, approval_id)
        if approval.requested_by != actor.user_id:
            raise Forbidden("Only the requester can cancel a request; reviewers reject it")
        _ensure_pending(approval)
        await _close(session, actor, approval, "CANCELLED", comment, "UPDATE")
    return approval


# --- reading --------------------------------------------------------------------------------------

def _visible_to(actor: Principal):
    """The approvals `actor` may see: requested by it, or on a resource it reviews now. The
    review part mirrors steps 1-4a of the evaluation, as a join on the resource's drive root:
    super admins and organization ADMINs review everything in the organization, department
    admins what lies in their departments' drives, members what lies in their My Drive."""
    organization_id = actor.require_organization()
    requested = Approval.requested_by == actor.user_id
    query = select(Approval).where(Approval.organization_id == organization_id)
    if actor.is_super_admin or actor.is_org_admin:
        return query, true()
    if actor.system_role is None:  # not a member: steps 2-4 do not apply
        return query, requested
    place, root = aliased(Folder), aliased(Folder)
    query = (
        query.outerjoin(Document, Document.id == Approval.document_id)
        .join(place, place.id == func.coalesce(Approval.folder_id, Document.folder_id))
        .join(root, root.id == place.path[1])
    )
    administered = select(DepartmentAdmin.department_id).where(
        DepartmentAdmin.user_id == actor.user_id, DepartmentAdmin.organization_id == organization_id)
    reviews = or_(root.department_id.in_(administered),
                  and_(root.owner_type == "USER", root.owner_id == actor.user_id))
    return query, or_(requested, reviews)


_NEWEST_FIRST = Keyset("requested_at", (Key.time(Approval.requested_at, "requested_at"), Key.id(Approval.id)),
                       descending=True)


async def list_approvals(db: Database, actor: Principal, page: PageRequest, *, status: str | None = None,
                         document_id: uuid.UUID | None = None) -> tuple[Page[Approval], CountFn]:
    """Approvals the actor may see (optionally of one status, of one document), newest first."""
    query, visible = _visible_to(actor)
    query = query.where(visible)
    if status is not None:
        query = query.where(Approval.status == status)
    if document_id is not None:
        query = query.where(Approval.document_id == document_id)
    matching = query.with_only_columns(Approval.id).subquery()
    result = await read_page(db, query, _NEWEST_FIRST, page, key_of=lambda row: (row.Approval.requested_at,
                                                                                row.Approval.id),
                             row_of=lambda row: row.Approval)
    return result, counter(db, matching)


async def approvals_by_ids(db: Database, actor: Principal, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Approval]:
    """The approvals among `ids` the actor may see."""
    if actor.organization_id is None or not ids:
        return {}
    query, visible = _visible_to(actor)
    async with db.reading() as session:
        rows = (await session.execute(query.where(visible, Approval.id.in_(list(ids))))).scalars().all()
    return {row.id: row for row in rows}

