"""Builds the Schema from each domain's Query, Mutation and Subscription parts.

Adding a domain means importing its parts here. The order of the parts is the order of the
root fields in the exported schema.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from .approvals import mutations as approvals_mutations
from .approvals import queries as approvals_queries
from .audit_log import queries as audit_log_queries
from .auth import mutations as auth_mutations
from .auth import queries as auth_queries
from .cost import QueryCost
from .documents import mutations as documents_mutations
from .documents import queries as documents_queries
from .errors import ErrorShaping, ParseOnce
from .folders import mutations as folders_mutations
from .folders import queries as folders_queries
from .nodes import queries as nodes_queries
from .nodes.queries import NODE_TYPES
from .notifications import mutations as notifications_mutations
from .notifications import queries as notifications_queries
from .notifications import subscriptions as notifications_subscriptions
from .organization_settings import mutations as organization_settings_mutations
from .organization_settings import queries as organization_settings_queries
from .scalars import SCALAR_MAP
from .search import queries as search_queries
from .sharing import mutations as sharing_mutations
from .sharing import queries as sharing_queries
from .tenancy import mutations as tenancy_mutations
from .tenancy import queries as tenancy_queries
from .trash import queries as trash_queries
from .uploads import mutations as uploads_mutations

QUERIES: tuple[type, ...] = (
    auth_queries.Query, tenancy_queries.Query, folders_queries.Query, sharing_queries.Query, nodes_queries.Query,
    documents_queries.Query, search_queries.Query, trash_queries.Query, approvals_queries.Query,
    organization_settings_queries.Query, notifications_queries.Query, audit_log_queries.Query,
)
MUTATIONS: tuple[type, ...] = (
    auth_mutations.Mutation, tenancy_mutations.Mutation, folders_mutations.Mutation, sharing_mutations.Mutation,
    documents_mutations.Mutation, uploads_mutations.Mutation, approvals_mutations.Mutation,
    organization_settings_mutations.Mutation, notifications_mutations.Mutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (notifications_subscriptions.Subscription,)


def _root(name: str, description: str, parts: tuple[type, ...]) -> type:
    """A root type made of the domains' parts."""
    root = merge_types(name, parts)
    root.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return root


def build_schema(*, allow_introspection: bool = True) -> strawberry.Schema:
    extensions: list[Any] = [
        ErrorShaping,
        lambda: ParseOnce(maxsize=1000),
        QueryCost,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=5000),
    ]
    if not allow_introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=_root("Query", "What the signed-in viewer may read. Send `Authorization: Bearer <access token>`.",
                    QUERIES),
        mutation=_root("Mutation", "Changes. Each takes one `input` and answers a payload; a refused change "
                                   "changes nothing and answers an error with `extensions.code`.", MUTATIONS),
        subscription=_root("Subscription", "Live events over a websocket (graphql-transport-ws), authenticated "
                                           "in connection_init.", SUBSCRIPTIONS),
        # Node implementations reachable only through the interface must be listed.
        types=list(NODE_TYPES.values()),
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not allow_introspection, scalar_map=SCALAR_MAP),
    )
