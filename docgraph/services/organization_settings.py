"""An organization's settings (organization.settings, JSON): the approval policy, trash
retention, the per-document size limit, the storage quota and the allowed content types.

Keys in the JSON, shared with their readers: `approval_policy` (here and approval_requests.py),
`trash_retention_days`, and `max_document_size`, `storage_quota`, `allowed_content_types`
(read by validation.ContentPolicy). A missing key means the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput
from ..models import Organization
from ..models.base import utcnow
from . import audit
from .tenancy import require_org_admin
from .unchanged import UNCHANGED
from .validation import MAX_DOCUMENT_SIZE_CEILING, ContentPolicy, clean_content_types


class PolicyAction(StrEnum):
    """A sensitive action that the approval policy may require a review for."""

    DOCUMENT_REPLACE = "DOCUMENT_REPLACE"
    DOCUMENT_DELETE = "DOCUMENT_DELETE"
    FOLDER_DELETE_NONEMPTY = "FOLDER_DELETE_NONEMPTY"


POLICY_ACTIONS: tuple[PolicyAction, ...] = tuple(PolicyAction)
DEFAULT_APPROVAL_POLICY = frozenset(POLICY_ACTIONS)

DEFAULT_TRASH_RETENTION_DAYS = 30
MAX_TRASH_RETENTION_DAYS = 3650
MAX_ALLOWED_TYPES = 200
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


@dataclass(frozen=True)
class OrganizationSettings:
    approval_policy: frozenset[str]
    trash_retention_days: int
    max_document_size: int
    storage_quota: int | None  # None: unlimited
    allowed_content_types: frozenset[str]

    @classmethod
    def of(cls, settings: dict[str, Any] | None) -> OrganizationSettings:
        settings = settings or {}
        content = ContentPolicy.of(settings)
        return cls(
            approval_policy=approval_policy(settings),
            trash_retention_days=_retention(settings.get("trash_retention_days")),
            max_document_size=content.max_document_size,
            storage_quota=content.storage_quota,
            allowed_content_types=content.allowed_types,
        )


def approval_policy(settings: dict[str, Any] | None) -> frozenset[str]:
    """The sensitive actions that need approval; the default when the key is absent."""
    listed = (settings or {}).get("approval_policy")
    if not isinstance(listed, list):
        return DEFAULT_APPROVAL_POLICY
    return frozenset(action for action in listed if action in POLICY_ACTIONS)


def _retention(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 \
        else DEFAULT_TRASH_RETENTION_DAYS


# --- validation of new values -----------------------------------------------------------------------

def _in_range(value: int, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise BadInput(f"{field} must be between {low} and {high}", field=field)
    return value


def _clean_policy(actions: list[str]) -> list[str]:
    unknown = [a for a in actions if a not in POLICY_ACTIONS]
    if unknown:
        raise BadInput(f"Unknown approval policy actions: {', '.join(map(str, unknown))}", field="approvalPolicy")
    return [a for a in POLICY_ACTIONS if a in actions]  # canonical order, no repeats


def _clean_content_types(types: list[str]) -> list[str]:
    cleaned = clean_content_types(types, field="allowedContentTypes", max_count=MAX_ALLOWED_TYPES)
    if not cleaned:
        raise BadInput(f"allowedContentTypes must list 1 to {MAX_ALLOWED_TYPES} types", field="allowedContentTypes")
    bad = [t for t in cleaned if not _CONTENT_TYPE.match(t)]
    if bad:
        raise BadInput(f"Not a content type (type/subtype): {', '.join(bad)}", field="allowedContentTypes")
    return sorted(cleaned)


def _changes(*, approval_policy: Any, trash_retention_days: Any, max_document_size: Any, storage_quota: Any,
             allowed_content_types: Any) -> dict[str, Any]:
    """The JSON keys to set (a value) or to drop (None: back to the default)."""
    changes: dict[str, Any] = {}
    if approval_policy is not UNCHANGED:
        changes["approval_policy"] = None if approval_policy is None else _clean_policy(approval_policy)
    if trash_retention_days is not UNCHANGED:
        changes["trash_retention_days"] = None if trash_retention_days is None else _in_range(
            trash_retention_days, "trashRetentionDays", 1, MAX_TRASH_RETENTION_DAYS)
    if max_document_size is not UNCHANGED:
        changes["max_document_size"] = None if max_document_size is None else _in_range(
            max_document_size, "maxDocumentSize", 1, MAX_DOCUMENT_SIZE_CEILING)
    if storage_quota is not UNCHANGED:
        changes["storage_quota"] = None if storage_quota is None else _in_range(
            storage_quota, "storageQuota", 0, 2**63 - 1)
    if allowed_content_types is not UNCHANGED:
        changes["allowed_content_types"] = None if allowed_content_types is None else _clean_content_types(
            allowed_content_types)
    return changes


# --- use cases ------------------------------------------------------------------------------------------

async def read_settings(db: Database, actor: Principal) -> OrganizationSettings:
    """The settings of the caller's organization (any member may read them: they explain what
    uploads are accepted and which changes await approval)."""
    organization_id = actor.require_organization()
    async with db.reading() as session:
        organization = await session.get(Organization, organization_id)
    return OrganizationSettings.of(organization.settings)


@audit.audited("UPDATE", "ORGANIZATION")
async def update_settings(db: Database, actor: Principal, *, approval_policy: Any = UNCHANGED,
                          trash_retention_days: Any = UNCHANGED, max_document_size: Any = UNCHANGED,
                          storage_quota: Any = UNCHANGED, allowed_content_types: Any = UNCHANGED
                          ) -> OrganizationSettings:
    """Change some settings (organization admins and super admins). UNCHANGED keeps a setting;
    None restores its default (for the storage quota: unlimited)."""
    organization_id = require_org_admin(actor)
    changes = _changes(approval_policy=approval_policy, trash_retention_days=trash_retention_days,
                       max_document_size=max_document_size, storage_quota=storage_quota,
                       allowed_content_types=allowed_content_types)
    async with db.transaction() as session:
        organization = (await session.execute(
            select(Organization).where(Organization.id == organization_id).with_for_update()
            .execution_options(populate_existing=True))).scalar_one()
        before = dict(organization.settings or {})
        after = {**before, **changes}
        after = {key: value for key, value in after.items() if value is not None}
        if after != before:
            organization.settings = after  # a new dict: the JSON column sees the change
            organization.updated_at = utcnow()
            await session.flush()
            changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
            await audit.record_by(session, actor, "UPDATE", "ORGANIZATION", resource_id=organization.id,
                                  resource_name=organization.name,
                                  details={"settings": {"before": {k: before.get(k) for k in changed},
                                                        "after": {k: after.get(k) for k in changed}}})
    return OrganizationSettings.of(after)

