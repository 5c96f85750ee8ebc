"""The audit log query (organization admins and super admins)."""

from __future__ import annotations

import strawberry

from ..pagination import PageRequest
from ..schema.audit import AuditLogEntry, AuditLogFilter
from ..schema.common import Connection, to_connection
from ..services import audit_log as audit_log_service
from .context import Info


@strawberry.type
class Query:
    @strawberry.field(description="The organization's audit log, newest first; organization admins only.")
    async def audit_log(self, info: Info, filter: AuditLogFilter | None = None, first: int | None = None,
                        after: str | None = None) -> Connection[AuditLogEntry]:
        page = PageRequest.parse(first, after)
        audit_filter = filter.parse() if filter is not None else audit_log_service.AuditFilter()
        rows, count = await audit_log_service.list_entries(info.context.db, info.context.principal,
                                                           audit_filter, page)
        return to_connection(rows, AuditLogEntry.from_model, count)
