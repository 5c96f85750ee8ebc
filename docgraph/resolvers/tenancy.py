"""Queries and mutations of organizations, members, departments, groups and roles."""

from __future__ import annotations

import strawberry

from ..schema.tenancy import User
from .context import Info


@strawberry.type
class Query:
    @strawberry.field
    async def _placeholder_user(self, info: Info) -> User | None:
        return None
