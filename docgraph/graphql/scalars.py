"""The scalars the API's types use beyond GraphQL's own, in one place.

`BigInt` carries byte counts: GraphQL's `Int` is 32-bit (a 2 GiB file would not fit), so sizes
and quotas are 64-bit integers, written as JSON numbers. A value outside the signed 64-bit range,
or that is no whole number, is refused as a variable (BAD_USER_INPUT) or in the query text
(a validation error)."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from graphql import IntValueNode, ValueNode
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _big_int(value: object) -> int:
    # bool is an int in Python, but true is no byte count.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"BigInt must be a whole number, not {type(value).__name__}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"BigInt must be a whole number: {value}")
    number = int(value)
    if not BIGINT_MIN <= number <= BIGINT_MAX:
        raise ValueError(f"BigInt must be between {BIGINT_MIN} and {BIGINT_MAX}: {value}")
    return number


def _big_int_literal(node: ValueNode, _variables: Any = None) -> int:
    if not isinstance(node, IntValueNode):
        raise ValueError("BigInt must be a whole number")
    return _big_int(int(node.value))


BigInt = NewType("BigInt", int)

# Registered with the schema (StrawberryConfig.scalar_map, schema.py).
SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt", description="A 64-bit integer (byte counts), serialized as a JSON number.",
        serialize=_big_int, parse_value=_big_int, parse_literal=_big_int_literal),
}

__all__ = ["JSON", "SCALAR_MAP", "BigInt", "Upload"]
