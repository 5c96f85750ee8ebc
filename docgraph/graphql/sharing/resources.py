"""What a share's global IDs name: a resource (folder or document) and a subject (user, group
or role), as services take them."""

from __future__ import annotations

import uuid

from ...errors import BadInput
from ...globalid import decode
from ...permissions import DOCUMENT, FOLDER, ResourceKey

_RESOURCE_TYPES = {"Folder": FOLDER, "Document": DOCUMENT}
_SUBJECT_TYPES = {"User": "USER", "Group": "GROUP", "Role": "ROLE"}


def resource_key(global_id: str, field: str = "resourceId") -> ResourceKey:
    type_name, value = decode(global_id)
    if type_name not in _RESOURCE_TYPES:
        raise BadInput(f"{field} must be a Folder or Document ID", field=field)
    return _RESOURCE_TYPES[type_name], value


def subject_key(global_id: str) -> tuple[str, uuid.UUID]:
    type_name, value = decode(global_id)
    if type_name not in _SUBJECT_TYPES:
        raise BadInput("subjectId must be a User, Group or Role ID", field="subjectId")
    return _SUBJECT_TYPES[type_name], value
