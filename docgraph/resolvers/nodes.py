"""`node` and `nodes`: any Node by global ID, when the viewer may see it.

Each registered Node type answers for itself through `resolve_node(info, uuid)` (None when the
viewer may not see the row, or it belongs to another organization); these resolvers only
decode IDs and dispatch, so loaders batch the lookups of `nodes` per type.
"""

from __future__ import annotations

import asyncio

import strawberry

from ..errors import BadInput
from ..globalid import decode
from ..schema.common import Node
from ..schema.types_registry import NODE_TYPES
from .context import Info

MAX_NODES = 100


def _node_type(type_name: str, global_id: str) -> type:
    for cls in NODE_TYPES:
        if cls.__name__ == type_name and hasattr(cls, "resolve_node"):
            return cls
    raise BadInput(f"ID {global_id!r} names no known type")


async def _resolve(info: Info, global_id: str):
    type_name, value = decode(global_id)
    return await _node_type(type_name, global_id).resolve_node(info, value)


@strawberry.type
class Query:
    @strawberry.field(description="Any object by ID; null when it does not exist or the viewer may not see it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        info.context.principal  # noqa: B018 - UNAUTHENTICATED without a valid token
        return await _resolve(info, id)

    @strawberry.field(description="Objects by ID, in order; null for each one the viewer may not see.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        info.context.principal  # noqa: B018
        if len(ids) > MAX_NODES:
            raise BadInput(f"At most {MAX_NODES} ids", argument="ids")
        for global_id in ids:  # every ID is checked before any lookup
            _node_type(decode(global_id)[0], global_id)
        return list(await asyncio.gather(*(_resolve(info, global_id) for global_id in ids)))
