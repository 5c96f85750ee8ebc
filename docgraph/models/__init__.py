"""SQLModel tables, one module per domain. Importing this package registers every table."""

from sqlmodel import SQLModel

from .audit import AuditAction, AuditLog, AuditResourceType, AuditStatus
from .auth import AuthThrottle, RefreshToken
from .documents import Blob, Document, DocumentVersion, UploadSession
from .folders import Folder
from .grants import Capability, Grant
from .tenancy import (
    Department,
    DepartmentAdmin,
    Group,
    GroupMember,
    MemberRole,
    Membership,
    Organization,
    OrganizationStatus,
    Role,
    SystemRole,
    User,
)
from .workflow import Approval, ApprovalAction, ApprovalStatus, Notification, NotificationType, OutboxJob

metadata = SQLModel.metadata

__all__ = [
    "Approval",
    "ApprovalAction",
    "ApprovalStatus",
    "AuditAction",
    "AuditLog",
    "AuditResourceType",
    "AuditStatus",
    "AuthThrottle",
    "Blob",
    "Capability",
    "Department",
    "DepartmentAdmin",
    "Document",
    "DocumentVersion",
    "Folder",
    "Grant",
    "Group",
    "GroupMember",
    "MemberRole",
    "Membership",
    "Notification",
    "NotificationType",
    "Organization",
    "OrganizationStatus",
    "OutboxJob",
    "RefreshToken",
    "Role",
    "SystemRole",
    "UploadSession",
    "User",
    "metadata",
]
