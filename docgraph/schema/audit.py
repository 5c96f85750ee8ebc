"""Audit log entries as API types, with the audit log filter."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from .. import globalid, models
from ..errors import BadInput
from ..services import audit_log as audit_log_service
from .common import Node
from .enums import AuditAction, AuditResourceType, AuditStatus
from .types_registry import register_node

from ..resolvers.context import Context, Info

if TYPE_CHECKING:
    from .tenancy import User

UserRef = Annotated["User", strawberry.lazy("docgraph.schema.tenancy")]

# The API type whose global ID names an audited resource of each type.
RESOURCE_TYPE_NAMES = {
    "DOCUMENT": "Document", "FOLDER": "Folder", "USER": "User", "ROLE": "Role", "PERMISSION": "Share",
    "ORGANIZATION": "Organization", "GROUP": "Group", "APPROVAL": "Approval",
}


async def _entries(context: Context, keys: Sequence[uuid.UUID]) -> list[models.AuditLog | None]:
    found = await audit_log_service.entries_by_ids(context.db, context.principal, keys)
    return [found.get(key) for key in keys]


@register_node
@strawberry.type
class AuditLogEntry(Node):
    id: strawberry.ID
    action: AuditAction
    resource_type: AuditResourceType
    resource_id: strawberry.ID | None = strawberry.field(
        description="The resource's global ID (use it with `node`), when the action had one.")
    resource_name: str | None
    change_details: JSON | None
    ip_address: str | None
    user_agent: str | None
    timestamp: datetime
    status: AuditStatus
    error_message: str | None
    row: strawberry.Private[models.AuditLog]

    @classmethod
    def from_model(cls, row: models.AuditLog) -> AuditLogEntry:
        resource_id = None
        if row.resource_id is not None:
            resource_id = strawberry.ID(globalid.encode(RESOURCE_TYPE_NAMES[row.resource_type], row.resource_id))
        return cls(
            id=strawberry.ID(globalid.encode("AuditLogEntry", row.id)), action=AuditAction(row.action),
            resource_type=AuditResourceType(row.resource_type), resource_id=resource_id,
            resource_name=row.resource_name, change_details=row.change_details, ip_address=row.ip_address,
            user_agent=row.user_agent, timestamp=row.timestamp, status=AuditStatus(row.status),
            error_message=row.error_message, row=row,
        )

    @strawberry.field(description="Who acted; null for events without a known user.")
    async def user(self, info: Info) -> UserRef | None:
        from .tenancy import User

        if self.row.user_id is None:
            return None
        row = await info.context.loaders.user.load(self.row.user_id)
        return User.from_model(row) if row is not None else None

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> AuditLogEntry | None:
        """Admins of the entry's organization only."""
        row = await info.context.loaders.get("audit_log_entry", _entries).load(row_id)
        return cls.from_model(row) if row is not None else None


@strawberry.input
class AuditLogFilter:
    actions: list[AuditAction] | None = None
    resource_id: strawberry.ID | None = strawberry.field(
        default=None, description="The resource's global ID (a bare UUID is accepted too).")
    user_id: strawberry.ID | None = None
    status: AuditStatus | None = None
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
