"""Why U may or may not do each thing to a resource: the evaluation's answer, per capability,
with the step that decided and, for step 5, the grant, the node it sits on and its subject.

The decisions themselves always come from the SQL evaluation; this module only names the
reason, from the same row (plus the deciding grant rows).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Grant
from .evaluation import evaluate
from .model import CAPABILITIES, CEILINGS, Access, Actor, Capability, Rule


class Reason(str, Enum):
    SUPER_ADMIN = "SUPER_ADMIN"
    ORGANIZATION_ADMIN = "ORGANIZATION_ADMIN"
    DEPARTMENT_ADMIN = "DEPARTMENT_ADMIN"
    MY_DRIVE_OWNER = "MY_DRIVE_OWNER"
    CREATOR = "CREATOR"
    USER_GRANT = "USER_GRANT"
    GROUP_OR_ROLE_GRANTS = "GROUP_OR_ROLE_GRANTS"
    SYSTEM_ROLE_CEILING = "SYSTEM_ROLE_CEILING"
    NO_GRANT = "NO_GRANT"


STEPS = {
    Reason.SUPER_ADMIN: "1", Reason.ORGANIZATION_ADMIN: "2", Reason.DEPARTMENT_ADMIN: "3",
    Reason.MY_DRIVE_OWNER: "4a", Reason.CREATOR: "4b", Reason.USER_GRANT: "5",
    Reason.GROUP_OR_ROLE_GRANTS: "5", Reason.SYSTEM_ROLE_CEILING: "5", Reason.NO_GRANT: "6",
}


@dataclass(frozen=True)
class Decision:
    capability: Capability
    allowed: bool
    reason: Reason
    # Step 5: the grant that decided this capability (for a denial, the user's grant or the
    # first of the group/role grants that together leave it out).
    grant: Grant | None
    message: str

    @property
    def step(self) -> str:
        return STEPS[self.reason]


@dataclass(frozen=True)
class Explanation:
    user_id: uuid.UUID
    access: Access
    decisions: list[Decision]
    # Step 5's deciding grants at the nearest node (empty when another step decided).
    grants: list[Grant]

    def __str__(self) -> str:  # handy in test failure messages
        lines = [f"access of user {self.user_id} to {self.access.kind} {self.access.id}: rule {self.access.rule.value}"]
        lines += [f"  {d.capability.value}: {'allow' if d.allowed else 'deny'} ({d.step}) {d.message}"
                  for d in self.decisions]
        return "\n".join(lines)


_IMPLICIT_REASONS = {
    Rule.SUPER_ADMIN: (Reason.SUPER_ADMIN, "super admin"),
    Rule.ORGANIZATION_ADMIN: (Reason.ORGANIZATION_ADMIN, "ADMIN of the organization"),
    Rule.DEPARTMENT_ADMIN: (Reason.DEPARTMENT_ADMIN, "administers the department whose drive holds it"),
    Rule.MY_DRIVE_OWNER: (Reason.MY_DRIVE_OWNER, "it lies in the user's My Drive"),
    Rule.CREATOR: (Reason.CREATOR, "the user created it"),
}


def _grant_text(grant: Grant | None) -> str:
    if grant is None:
        return "no grant"
    node = f"folder {grant.folder_id}" if grant.folder_id else f"document {grant.document_id}"
    return f"{grant.subject_type} grant {grant.id} for {grant.subject_id} on {node}"


def decide(access: Access, grants: list[Grant], capability: Capability) -> Decision:
    allowed = access.allows(capability)
    if access.rule in _IMPLICIT_REASONS:
        reason, why = _IMPLICIT_REASONS[access.rule]
        return Decision(capability, allowed, reason, None, why)
    if access.rule is not Rule.GRANT:
        return Decision(capability, allowed, Reason.NO_GRANT, None,
                        "no live grant for the user on the resource or any ancestor")
    reason = Reason.USER_GRANT if access.decided_by_user_grant else Reason.GROUP_OR_ROLE_GRANTS
    giving = [g for g in grants if getattr(g, capability.column)]
    if capability in access.granted and not allowed:
        ceiling = CEILINGS.get(access.system_role or "", frozenset())
        return Decision(capability, False, Reason.SYSTEM_ROLE_CEILING, giving[0] if giving else None,
                        f"granted by {_grant_text(giving[0] if giving else None)}, but the "
                        f"{access.system_role} ceiling allows only {sorted(c.value for c in ceiling)}")
    if allowed:
        return Decision(capability, True, reason, giving[0], f"given by {_grant_text(giving[0])}")
    restriction = " (a restriction)" if grants and not any(
        getattr(g, c.column) for g in grants for c in CAPABILITIES) else ""
    return Decision(capability, False, reason, grants[0] if grants else None,
                    f"the nearest grants leave it out{restriction}: {_grant_text(grants[0] if grants else None)}")


async def explain(session: AsyncSession, actor: Actor, kind: str, resource_id: uuid.UUID) -> Explanation:
    access = (await evaluate(session, actor, [(kind, resource_id)]))[(kind, resource_id)]
    grants: list[Grant] = []
    if access.grant_ids:
        rows = (await session.execute(select(Grant).where(Grant.id.in_(access.grant_ids)))).scalars().all()
        # USER grant first, then by id: the order the evaluation reports them in.
        grants = sorted(rows, key=lambda g: (g.subject_type != "USER", str(g.id)))
    decisions = [decide(access, grants, c) for c in CAPABILITIES]
    return Explanation(actor.user_id, access, decisions, grants)
