"""Every Node type, so `node(id)` can find the type named inside a global ID.

Domain schema modules register their Node types here at import time with `register_node`.
"""

from __future__ import annotations

NODE_TYPES: list[type] = []


def register_node(cls: type) -> type:
    NODE_TYPES.append(cls)
    return cls
