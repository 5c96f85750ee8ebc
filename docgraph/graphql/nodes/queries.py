"""`node` and `nodes`: any Node by global ID, when the viewer may see it.

Each Node type answers for itself through `resolve_node(info, uuid)` (None when the viewer may
not see the row, or it belongs to another organization); these resolvers only decode IDs and
dispatch, so loaders batch the lookups of `nodes` per type. `nodes` answers each ID on its own:
a malformed one is null with an error at its index, and the others are still answered.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from ...errors import BadInput
from ...globalid import decode
from ..approvals.types import Approval
from ..audit_log.types import AuditLogEntry
from ..context import Info
from ..documents.types import Document, DocumentVersion
from ..folders.types import Folder
from ..notifications.types import Notification
from ..pagination import Node
from ..sharing.types import Share
from ..tenancy.types import Department, Group, Organization, Role, User
from ..uploads.types import UploadSession

MAX_NODES = 100

# Every Node type, by the type name inside its global IDs.
NODE_TYPES: dict[str, Any] = {cls.__name__: cls for cls in (
    User, Role, Department, Group, Organization, Folder, Document, DocumentVersion, Share, Approval,
    Notification, AuditLogEntry, UploadSession,
)}


def _node_type(type_name: str, global_id: str) -> Any:
    cls = NODE_TYPES.get(type_name)
    if cls is None:
        raise BadInput(f"ID {global_id!r} names no known type")
    return cls


async def _resolve(info: Info, global_id: str) -> Any:
    type_name, value = decode(global_id)
    return await _node_type(type_name, global_id).resolve_node(info, value)


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Node | None,
                      description="Any object by ID; null when it does not exist or the viewer may not see it.")
    async def node(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(
            description="A global ID, as any `id` field returns it.")]) -> Any:
        info.context.principal  # noqa: B018 - UNAUTHENTICATED without a valid token
        return await _resolve(info, id)

    @strawberry.field(graphql_type=list[Node | None],
                      description="Objects by ID, in order; null for each one the viewer may not see, and null "
                                  "with an error (its path ends with its index) for each malformed one.")
    async def nodes(self, info: Info, ids: Annotated[list[strawberry.ID], strawberry.argument(
            description=f"Up to {MAX_NODES} global IDs.")]) -> list[Any]:
        info.context.principal  # noqa: B018
        if len(ids) > MAX_NODES:
            raise BadInput(f"At most {MAX_NODES} ids", argument="ids")
        # One awaitable per entry: graphql-core completes them together (loaders batch them),
        # and an entry that fails is null with its error at its own path (nodes.3).
        return [_resolve(info, global_id) for global_id in ids]
