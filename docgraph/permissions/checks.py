"""`require`: how services ask the evaluation for one decision inside their transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..errors import Forbidden, NotFound
from .evaluation import evaluate
from .model import Access, Actor, Capability


def _what(kind: str) -> str:
    return kind.capitalize()


def check(access: Access, capability: Capability, *, include_deleted: bool = False) -> Access:
    """NOT_FOUND when U cannot see the resource (unknown, another organization's, deleted
    unless `include_deleted`, or no VIEW); FORBIDDEN when U sees it but lacks `capability`."""
    if not access.found or not access.can_view or (access.hidden and not include_deleted):
        raise NotFound(f"{_what(access.kind)} not found")
    if not access.allows(capability):
        raise Forbidden(f"You need the {capability.value} permission on this {access.kind.lower()}",
                        capability=capability.value)
    return access


async def require(session: AsyncSession, principal: Principal, kind: str, resource_id: uuid.UUID,
                  capability: Capability, *, include_deleted: bool = False) -> Access:
    """One evaluation (one statement) in the caller's transaction, then `check`."""
    found = await evaluate(session, Actor.of(principal), [(kind, resource_id)])
    return check(found[(kind, resource_id)], capability, include_deleted=include_deleted)
