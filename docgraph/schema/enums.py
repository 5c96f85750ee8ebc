"""Enums of the public API; their values are the strings stored in the database."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class Capability(Enum):
    VIEW = "VIEW"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    SHARE = "SHARE"
    MANAGE = "MANAGE"


@strawberry.enum
class SystemRole(Enum):
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"


@strawberry.enum
class OrganizationStatus(Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SUSPENDED = "SUSPENDED"


@strawberry.enum
class DriveKind(Enum):
    ORGANIZATION = "ORGANIZATION"
    PERSONAL = "PERSONAL"


@strawberry.enum
class ApprovalAction(Enum):
    REPLACE = "REPLACE"
    DELETE = "DELETE"


@strawberry.enum
class ApprovalStatus(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class NotificationType(Enum):
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVAL_DECIDED = "APPROVAL_DECIDED"
    SHARED_WITH_YOU = "SHARED_WITH_YOU"
    DOCUMENT_REPLACED = "DOCUMENT_REPLACED"
    DOCUMENT_DELETED = "DOCUMENT_DELETED"


@strawberry.enum
class AuditAction(Enum):
    CREATE = "CREATE"
    READ = "READ"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    DOWNLOAD = "DOWNLOAD"
    SHARE = "SHARE"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    PERMISSION_CHANGE = "PERMISSION_CHANGE"
    LOCK = "LOCK"
    UNLOCK = "UNLOCK"
    MOVE = "MOVE"
    RESTORE = "RESTORE"
    APPROVAL_REQUEST = "APPROVAL_REQUEST"
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@strawberry.enum
class AuditResourceType(Enum):
    DOCUMENT = "DOCUMENT"
    FOLDER = "FOLDER"
    USER = "USER"
    ROLE = "ROLE"
    PERMISSION = "PERMISSION"
    ORGANIZATION = "ORGANIZATION"
    GROUP = "GROUP"
    APPROVAL = "APPROVAL"


@strawberry.enum
class AuditStatus(Enum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
