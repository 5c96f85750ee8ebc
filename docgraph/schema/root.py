"""Builds the Schema from each domain's Query, Mutation and Subscription parts."""

from __future__ import annotations

import importlib

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from .cost import QueryCost
from .errors import ErrorShaping

# Each module of docgraph.resolvers may define Query, Mutation and Subscription classes.
DOMAINS = (
    "auth", "tenancy", "folders", "sharing", "nodes", "documents", "uploads", "search",
    "approvals", "notifications", "audit",
)


def _parts(kind: str) -> tuple[type, ...]:
    parts = []
    for name in DOMAINS:
        try:
            module = importlib.import_module(f"docgraph.resolvers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"docgraph.resolvers.{name}":
                raise
            continue
        part = getattr(module, kind, None)
        if part is not None:
            parts.append(part)
    return tuple(parts)


def _extra_types() -> list[type]:
    """Node implementations reachable only through the interface must be listed."""
    from . import types_registry

    return list(types_registry.NODE_TYPES)


def build_schema(*, allow_introspection: bool = True) -> strawberry.Schema:
    query = merge_types("Query", _parts("Query"))
    mutations = _parts("Mutation")
    subscriptions = _parts("Subscription")
    extensions = [
        ErrorShaping,
        lambda: ParserCache(maxsize=1000),
        QueryCost,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=5000),
    ]
    if not allow_introspection:
        from strawberry.extensions import DisableIntrospection

        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=query,
        mutation=merge_types("Mutation", mutations) if mutations else None,
        subscription=merge_types("Subscription", subscriptions) if subscriptions else None,
        types=_extra_types(),
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not allow_introspection),
    )
