"""The API's enums. Each is the one definition its values have below (models, services,
permissions, events), registered here as a GraphQL enum: the stored strings are the GraphQL
names, output fields may return the stored string or the member, and inputs arrive as members
(str subclasses), which services take as they are. The modules defining them never import
Strawberry; registering only attaches the GraphQL definition (and the descriptions clients
read) to the class."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from .. import models
from ..events import publish
from ..permissions import Reason
from ..services.organization_settings import PolicyAction


def described(enum: type[Enum], description: str, values: dict[str, str], *, name: str | None = None) -> Any:
    """`enum` registered as a GraphQL enum with a description for the enum and for each value
    (a value left out shows undescribed, which tests/test_schema_descriptions.py reports)."""
    registered = strawberry.enum(enum, name=name, description=description)
    definition = registered.__strawberry_definition__  # type: ignore[attr-defined]  # set by strawberry.enum
    unknown = set(values) - {value.name for value in definition.values}
    if unknown:
        raise ValueError(f"{definition.name} has no value {', '.join(sorted(unknown))}")
    for value in definition.values:
        value.description = values.get(value.name)
    return registered


Capability = described(models.Capability, "Something one may do with a folder or document.", {
    "VIEW": "See it and download its content.",
    "CREATE": "Create subfolders in it or upload documents into it (folders).",
    "UPDATE": "Rename it, change its details, upload new versions.",
    "DELETE": "Delete it (some deletions await approval).",
    "SHARE": "Share it with others, giving at most what one has oneself.",
    "MANAGE": "Change or revoke others' shares on it, restrictions included.",
})
SystemRole = described(models.SystemRole, "Every member's base role in an organization; it caps what shares give.", {
    "ADMIN": "Full access to everything of the organization, and its administration.",
    "EDITOR": "Shares give at most VIEW, CREATE, UPDATE, DELETE and SHARE.",
    "VIEWER": "Shares give at most VIEW.",
})
OrganizationStatus = described(models.OrganizationStatus, "Whether an organization is in use.", {
    "ACTIVE": "In use: its members sign in and work.",
    "INACTIVE": "Closed: its members cannot sign in to it.",
    "SUSPENDED": "Blocked for now: its members cannot sign in to it until it is active again.",
})
ApprovalAction = described(models.ApprovalAction, "A change that can wait for a reviewer's approval.", {
    "REPLACE": "A new version of a document; its content is staged until the decision.",
    "DELETE": "Deleting a document or a non-empty folder.",
})
ApprovalStatus = described(models.ApprovalStatus, "Where an approval request stands.", {
    "PENDING": "Awaiting a reviewer's decision; nothing has changed yet.",
    "APPROVED": "A reviewer approved it and the change was applied.",
    "REJECTED": "A reviewer refused it; nothing changed.",
    "CANCELLED": "The requester withdrew it; nothing changed.",
})
ApprovalPolicyAction = described(
    PolicyAction, "A sensitive action that the approval policy may require a review for.", {
        "DOCUMENT_REPLACE": "Uploading a new version of a document.",
        "DOCUMENT_DELETE": "Deleting a document.",
        "FOLDER_DELETE_NONEMPTY": "Deleting a folder that holds live folders or documents.",
    }, name="ApprovalPolicyAction")
NotificationType = described(models.NotificationType, "What a notification is about.", {
    "APPROVAL_REQUESTED": "Someone asked for a change you may review.",
    "APPROVAL_DECIDED": "A change you asked for was approved, rejected or cancelled.",
    "SHARED_WITH_YOU": "A folder or document was shared with you or with a group or role of yours.",
    "DOCUMENT_REPLACED": "Someone uploaded a new version of a document you created.",
    "DOCUMENT_DELETED": "Someone deleted a document you created.",
})
AuditAction = described(models.AuditAction, "What an audit log entry records.", {
    "CREATE": "Something was created (a folder, a document, a user, a group...).",
    "READ": "Reserved for audited reads; downloads are recorded as DOWNLOAD.",
    "UPDATE": "Something's details were changed.",
    "DELETE": "Something was deleted.",
    "DOWNLOAD": "A download link was issued for a document's content.",
    "SHARE": "A folder or document was shared (a share made, or renewed by sharing again).",
    "LOGIN": "Someone signed in, or failed to.",
    "LOGOUT": "Someone signed out.",
    "PERMISSION_CHANGE": "A share was changed or revoked, or a member's system role or department admin role changed.",
    "LOCK": "A document was locked.",
    "UNLOCK": "A document was unlocked.",
    "MOVE": "A folder or document was moved.",
    "RESTORE": "Something came back from the trash.",
    "APPROVAL_REQUEST": "A change was put up for review.",
    "APPROVE": "A reviewer approved a change.",
    "REJECT": "A reviewer rejected a change.",
})
AuditResourceType = described(models.AuditResourceType, "The kind of thing an audit log entry is about.", {
    "DOCUMENT": "A document or one of its versions.",
    "FOLDER": "A folder (created, renamed, moved, deleted...).",
    "USER": "A user account.",
    "ROLE": "A role or its members.",
    "PERMISSION": "A share (a grant of capabilities).",
    "ORGANIZATION": "The organization or its settings.",
    "GROUP": "A group or its members.",
    "APPROVAL": "An approval request.",
})
AuditStatus = described(models.AuditStatus, "Whether an audited attempt succeeded.", {
    "SUCCESS": "The action was done.",
    "FAILURE": "The action was refused or failed; nothing changed.",
})
FolderEventKind = described(publish.FolderEventKind, "What happened to a direct child of a watched folder.", {
    "ADDED": "It appeared: created, uploaded, moved in or restored.",
    "UPDATED": "It changed: renamed, described, a new version, locked or unlocked.",
    "REMOVED": "It left: deleted or moved out.",
})
AccessReason = described(
    Reason, "What decided: steps 1-4 (implicit access), step 5 (the nearest grants, or the system-role ceiling "
            "that capped them), step 6 (no grant: deny).", {
        "SUPER_ADMIN": "Step 1: the user is a super admin.",
        "ORGANIZATION_ADMIN": "Step 2: the user is an ADMIN of the organization.",
        "DEPARTMENT_ADMIN": "Step 3: the user administers the department whose drive holds the resource.",
        "MY_DRIVE_OWNER": "Step 4a: the resource is in the user's My Drive.",
        "CREATOR": "Step 4b: the user created the resource.",
        "USER_GRANT": "Step 5: a share to the user at the nearest place that has shares for the user.",
        "GROUP_OR_ROLE_GRANTS": "Step 5: shares to the user's groups and roles at that nearest place.",
        "SYSTEM_ROLE_CEILING": "Step 5: a share gave it, but the user's system role caps it.",
        "NO_GRANT": "Step 6: nothing gives it.",
    }, name="AccessReason")


@strawberry.enum(description="Which kind of drive a folder is in.")
class DriveKind(Enum):
    # The API's names for a folder's owner type (ORG, USER).
    ORGANIZATION = strawberry.enum_value("ORGANIZATION", description="A department's drive, owned by the organization.")
    PERSONAL = strawberry.enum_value("PERSONAL", description="A member's My Drive.")


@strawberry.enum(description="Which way a list is ordered.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending: A to Z, oldest first, smallest first.")
    DESC = strawberry.enum_value("DESC", description="Descending: Z to A, newest first, largest first.")


@strawberry.enum(description="What documents can be ordered by (ties: in a stable order of their own).")
class DocumentOrderField(Enum):
    NAME = strawberry.enum_value("NAME", description="The name, case-insensitively.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the document was first uploaded.")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT", description="When the document or its content last changed.")
    SIZE = strawberry.enum_value("SIZE", description="The current version's size in bytes.")


@strawberry.enum(description="What folders can be ordered by (ties: in a stable order of their own).")
class FolderOrderField(Enum):
    NAME = strawberry.enum_value("NAME", description="The name, case-insensitively.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the folder was created.")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT",
                                       description="When the folder was last renamed, described or moved.")
