"""auditLog: the organization's audit log (organization admins and super admins)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...services import audit_log as audit_log_service
from ..context import Info
from ..pagination import After, Before, Connection, First, Last, page_request, to_connection
from .types import AuditLogEntry, AuditLogFilter


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Connection[AuditLogEntry],
                      description="The organization's audit log, newest first; organization admins only.")
    async def audit_log(self, info: Info, filter: Annotated[AuditLogFilter | None, strawberry.argument(
            description="Conditions the entries must meet; omit for all.")] = None,
                        first: First = None, after: After = None, last: Last = None,
                        before: Before = None) -> Connection[models.AuditLog]:
        page = page_request(first, after, last, before)
        audit_filter = filter.parse() if filter is not None else audit_log_service.AuditFilter()
        rows, count = await audit_log_service.list_entries(info.context.db, info.context.principal,
                                                           audit_filter, page)
        return to_connection(rows, count)
