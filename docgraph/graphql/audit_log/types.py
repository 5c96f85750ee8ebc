"""Audit log entries as API types, with the audit log filter. Objects are audit_log rows."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from ... import globalid, models
from ...errors import BadInput
from ...services import audit_log as audit_log_service
from ..context import Info
from ..enums import AuditAction, AuditResourceType, AuditStatus
from ..pagination import Node, node_id, shows
from ..scalars import JSON
from ..tenancy.types import User

# The API type whose global ID names an audited resource of each type.
RESOURCE_TYPE_NAMES = {
    "DOCUMENT": "Document", "FOLDER": "Folder", "USER": "User", "ROLE": "Role", "PERMISSION": "Share",
    "ORGANIZATION": "Organization", "GROUP": "Group", "APPROVAL": "Approval",
}


def _resource_id(root: models.AuditLog) -> strawberry.ID | None:
    if root.resource_id is None:
        return None
    return strawberry.ID(globalid.encode(RESOURCE_TYPE_NAMES[root.resource_type], root.resource_id))


@strawberry.type(description="One event of the organization's append-only, hash-chained audit log.")
class AuditLogEntry(Node):
    id: strawberry.ID = node_id("AuditLogEntry")
    action: AuditAction = strawberry.field(description="What was done.")
    resource_type: AuditResourceType = strawberry.field(description="The kind of thing it was done to.")
    resource_id: strawberry.ID | None = strawberry.field(
        resolver=_resource_id, description="The resource's global ID (use it with `node`), when the action had one.")
    resource_name: str | None = strawberry.field(description="The resource's name at the time of the event.")
    change_details: JSON | None = strawberry.field(
        description="A JSON object with the event's particulars (what changed, counts, targets).")
    ip_address: str | None = strawberry.field(description="The client address the request came from, if known.")
    user_agent: str | None = strawberry.field(description="The client's User-Agent header, if it sent one.")
    timestamp: datetime = strawberry.field(description="When the event happened.")
    status: AuditStatus = strawberry.field(description="Whether the attempt succeeded.")
    error_message: str | None = strawberry.field(description="For a FAILURE: why it failed.")

    @strawberry.field(graphql_type=User | None, description="Who acted; null for events without a known user.")
    @staticmethod
    async def user(root: models.AuditLog, info: Info) -> models.User | None:
        if root.user_id is None:
            return None
        return await info.context.loaders.user.load(root.user_id)

    is_type_of = shows(models.AuditLog)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.AuditLog | None:
        """Admins of the entry's organization only."""
        return await info.context.loaders.audit_log_entry.load(row_id)


@strawberry.input(description="Conditions on audit log entries; an entry must meet every one given.")
class AuditLogFilter:
    actions: list[AuditAction] | None = strawberry.field(default=None, description="Any of these actions.")
    resource_id: strawberry.ID | None = strawberry.field(
        default=None, description="The resource's global ID (a bare UUID is accepted too).")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="Events of this user (a User ID).")
    status: AuditStatus | None = strawberry.field(default=None, description="Only successes, or only failures.")
    from_: datetime | None = strawberry.field(default=None, name="from", description="At or after this time.")
    to: datetime | None = strawberry.field(default=None, description="Before this time.")

    def parse(self) -> audit_log_service.AuditFilter:
        return audit_log_service.AuditFilter(
            actions=tuple(action.value for action in self.actions or ()),
            resource_id=_any_id(self.resource_id) if self.resource_id is not None else None,
            user_id=globalid.decode_as(self.user_id, "User") if self.user_id is not None else None,
            status=self.status.value if self.status is not None else None,
            start=self.from_, end=self.to,
        )


def _any_id(value: str) -> uuid.UUID:
    """The UUID inside any global ID, or a bare UUID (audit rows outlive their resources)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        return globalid.decode(value)[1]
    except BadInput:
        raise BadInput(f"Malformed resourceId: {value!r}", argument="filter.resourceId") from None
