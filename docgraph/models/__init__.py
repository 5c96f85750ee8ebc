"""SQLModel tables, one module per domain. Importing this package registers every table."""

from sqlmodel import SQLModel

from .audit import AuditLog
from .auth import LoginFailure, RefreshToken
from .documents import Blob, Document, DocumentVersion, UploadSession
from .folders import Folder
from .grants import Grant
from .tenancy import (
    Department,
    DepartmentAdmin,
    Group,
    GroupMember,
    Membership,
    MemberRole,
    Organization,
    Role,
    User,
)
from .workflow import Approval, Notification, OutboxJob

metadata = SQLModel.metadata

__all__ = [
    "Approval", "AuditLog", "Blob", "Department", "DepartmentAdmin", "Document", "DocumentVersion",
    "Folder", "Grant", "Group", "GroupMember", "LoginFailure", "Membership", "MemberRole",
    "Notification", "Organization", "OutboxJob", "RefreshToken", "Role", "UploadSession", "User",
    "metadata",
]
