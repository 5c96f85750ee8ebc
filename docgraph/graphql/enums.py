"""The API's enums. Each is the one definition its values have below (models, services,
permissions, events), registered here as a GraphQL enum: the stored strings are the GraphQL
names, output fields may return the stored string or the member, and inputs arrive as members
(str subclasses), which services take as they are. The modules defining them never import
Strawberry; registering only attaches the GraphQL definition to the class."""

from __future__ import annotations

from enum import Enum

import strawberry

from .. import models
from ..events import publish
from ..permissions import Reason
from ..services.organization_settings import PolicyAction

Capability = strawberry.enum(models.Capability)
SystemRole = strawberry.enum(models.SystemRole)
OrganizationStatus = strawberry.enum(models.OrganizationStatus)
ApprovalAction = strawberry.enum(models.ApprovalAction)
ApprovalStatus = strawberry.enum(models.ApprovalStatus)
ApprovalPolicyAction = strawberry.enum(
    PolicyAction, name="ApprovalPolicyAction",
    description="A sensitive action that the approval policy may require a review for.")
NotificationType = strawberry.enum(models.NotificationType)
AuditAction = strawberry.enum(models.AuditAction)
AuditResourceType = strawberry.enum(models.AuditResourceType)
AuditStatus = strawberry.enum(models.AuditStatus)
FolderEventKind = strawberry.enum(publish.FolderEventKind)
AccessReason = strawberry.enum(
    Reason, name="AccessReason",
    description="What decided: steps 1-4 (implicit access), step 5 (the nearest grants, or the "
                "system-role ceiling that capped them), step 6 (no grant: deny).")


@strawberry.enum
class DriveKind(Enum):
    # The API's names for a folder's owner type (ORG, USER).
    ORGANIZATION = "ORGANIZATION"
    PERSONAL = "PERSONAL"
