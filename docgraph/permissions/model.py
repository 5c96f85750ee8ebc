"""The vocabulary of access control: capabilities, the system-role ceilings, the rule that
decided, and `Access`, the evaluation's answer for one (principal, resource).

Nothing here touches the database; `evaluation.py` turns these rules into SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum

from ..auth.principal import Principal
from ..models.grants import CAPABILITIES as CAPABILITIES
from ..models.grants import CAPABILITY_COLUMNS as CAPABILITY_COLUMNS
from ..models.grants import Capability as Capability

FOLDER = "FOLDER"
DOCUMENT = "DOCUMENT"
RESOURCE_KINDS = (FOLDER, DOCUMENT)

# A resource as the evaluation sees it: ("FOLDER" | "DOCUMENT", id).
ResourceKey = tuple[str, uuid.UUID]


# What step 5 (grants) may give at most, by the member's system role. ADMIN never reaches
# step 5 (step 2 allows everything first); it is listed so the table is total.
CEILINGS: dict[str, frozenset[Capability]] = {
    "VIEWER": frozenset({Capability.VIEW}),
    "EDITOR": frozenset({Capability.VIEW, Capability.CREATE, Capability.UPDATE, Capability.DELETE,
                         Capability.SHARE}),
    "ADMIN": frozenset(CAPABILITIES),
}


def roles_allowing(capability: Capability) -> tuple[str, ...]:
    """System roles whose ceiling lets a grant give `capability`."""
    return tuple(role for role, allowed in CEILINGS.items() if capability in allowed)


class Rule(str, Enum):
    """The step of DESIGN's evaluation that decided (first match wins, in this order)."""

    SUPER_ADMIN = "SUPER_ADMIN"                  # 1
    ORGANIZATION_ADMIN = "ORGANIZATION_ADMIN"    # 2
    DEPARTMENT_ADMIN = "DEPARTMENT_ADMIN"        # 3
    MY_DRIVE_OWNER = "MY_DRIVE_OWNER"            # 4a
    CREATOR = "CREATOR"                          # 4b
    GRANT = "GRANT"                              # 5: the nearest node carrying a live grant for U
    NONE = "NONE"                                # 6: deny

    @property
    def is_implicit(self) -> bool:
        """Steps 1-4: full access, no grant involved."""
        return self in IMPLICIT_RULES

    @property
    def makes_reviewer(self) -> bool:
        """Steps 1, 2, 3 and 4a: the administrative part of implicit access."""
        return self in REVIEWER_RULES


IMPLICIT_RULES = frozenset({Rule.SUPER_ADMIN, Rule.ORGANIZATION_ADMIN, Rule.DEPARTMENT_ADMIN,
                            Rule.MY_DRIVE_OWNER, Rule.CREATOR})
REVIEWER_RULES = IMPLICIT_RULES - {Rule.CREATOR}


@dataclass(frozen=True)
class Actor:
    """Whose access is evaluated, in which organization (the token's)."""

    user_id: uuid.UUID
    organization_id: uuid.UUID

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.user_id, principal.require_organization())


@dataclass(frozen=True)
class Access:
    """One resource's evaluation for one user.

    `found` is False for an unknown id or another organization's resource; `hidden` is True
    when the resource (or, for a document, its folder) is soft-deleted. The six booleans are
    the final decision (ceilings applied). For step 5, `grant_*` describe the deciding node:
    which node, whether a USER grant decided alone, the deciding grant rows, and the union of
    their capabilities before the ceiling.
    """

    kind: str
    id: uuid.UUID
    found: bool = False
    hidden: bool = False
    can_view: bool = False
    can_create: bool = False
    can_update: bool = False
    can_delete: bool = False
    can_share: bool = False
    can_manage: bool = False
    rule: Rule = Rule.NONE
    system_role: str | None = None
    grant_node_kind: str | None = None
    grant_node_id: uuid.UUID | None = None
    decided_by_user_grant: bool = False
    grant_ids: tuple[uuid.UUID, ...] = ()
    granted: frozenset[Capability] = field(default_factory=frozenset)

    @property
    def key(self) -> ResourceKey:
        return (self.kind, self.id)

    @property
    def is_reviewer(self) -> bool:
        return self.rule.makes_reviewer

    @property
    def is_implicit(self) -> bool:
        return self.rule.is_implicit

    @property
    def visible(self) -> bool:
        """What normal queries show: found, not deleted, and viewable."""
        return self.found and not self.hidden and self.can_view

    def allows(self, capability: Capability) -> bool:
        allowed: bool = getattr(self, capability.column)
        return allowed

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset(c for c in CAPABILITIES if self.allows(c))
