"""Query cost: how many nodes an operation may return, GitHub/Shopify style.

Every connection field multiplies its page size (`first`/`last`, default page size when
absent) by the sizes of the connections around it; the cost is the sum over connections, plus
one for the operation. It is computed after validation with the request's variables, refused
above the limit, and reported in `extensions.cost` of every response.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ..pagination import DEFAULT_PAGE_SIZE

MAX_COST = 50_000
MAX_ROOT_FIELDS = 50


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def page_size(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 0)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    return max(int(given), 0) if isinstance(given, int) else DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE

    def fields(self, selection_set: SelectionSetNode, parent: GraphQLNamedType,
               seen: frozenset[str] = frozenset()) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
        """(field node, parent type) of a selection set, fragments expanded."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                yield from self.fields(selection.selection_set, inner or parent, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    inner = self.schema.get_type(fragment.type_condition.name.value) or parent
                    yield from self.fields(fragment.selection_set, inner, seen | {selection.name.value})

    def cost(self, selection_set: SelectionSetNode, parent: GraphQLNamedType, multiplier: int) -> int:
        total = 0
        for field, parent_type in self.fields(selection_set, parent):
            definition = getattr(parent_type, "fields", {}).get(field.name.value)
            if definition is None or field.selection_set is None:
                continue
            child_type = get_named_type(definition.type)
            child_multiplier = multiplier
            if child_type.name.endswith("Connection"):
                child_multiplier = multiplier * self.page_size(field)
                total += child_multiplier
            total += self.cost(field.selection_set, child_type, child_multiplier)
        return total


def operation_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                   variables: dict[str, Any] | None) -> tuple[int, int]:
    """(cost, number of root fields) of the operation that will run."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next((o for o in operations if operation_name is None or
                      (o.name and o.name.value == operation_name)), None)
    if operation is None:
        return 0, 0
    root: GraphQLObjectType | None = schema.get_root_type(operation.operation)
    if root is None:
        return 0, 0
    walker = _Walker(schema, fragments, variables or {})
    root_fields = sum(1 for _ in walker.fields(operation.selection_set, root))
    return 1 + walker.cost(operation.selection_set, root, 1), root_fields


# Validation does not depend on the variables: its outcome is kept per query text (clients send
# the same few queries over and over), so only the cost walk runs per request.
_VALIDATED: OrderedDict[tuple[int, str], list[GraphQLError]] = OrderedDict()
_VALIDATED_MAX = 2000


def _validate_cached(schema: GraphQLSchema, document: DocumentNode, context: ExecutionContext) -> list[GraphQLError]:
    key = (id(schema), context.query or "")
    if context.query and key in _VALIDATED:
        _VALIDATED.move_to_end(key)
        return list(_VALIDATED[key])
    errors = validate(schema, document, context.validation_rules)
    if context.query:
        _VALIDATED[key] = list(errors)
        if len(_VALIDATED) > _VALIDATED_MAX:
            _VALIDATED.popitem(last=False)
    return errors


class QueryCost(SchemaExtension):
    def __init__(self, max_cost: int = MAX_COST, max_root_fields: int = MAX_ROOT_FIELDS) -> None:
        self.max_cost, self.max_root_fields = max_cost, max_root_fields
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema._schema
        document = context.graphql_document
        if document is None:  # it did not parse: Strawberry reports that
            yield
            return
        errors = _validate_cached(schema, document, context)
        if not errors:
            self.cost, root_fields = operation_cost(schema, document, context.operation_name, context.variables)
            if root_fields > self.max_root_fields:
                errors.append(GraphQLError(
                    f"The operation selects {root_fields} root fields; at most {self.max_root_fields} are allowed",
                    extensions={"code": "BAD_USER_INPUT"}))
            if self.cost > self.max_cost:
                errors.append(GraphQLError(
                    f"The operation may return {self.cost} nodes; the limit is {self.max_cost}. "
                    "Ask for smaller pages.", extensions={"code": "BAD_USER_INPUT", "cost": self.cost}))
        # Validation ran here; strawberry skips its own run when errors are already set.
        context.pre_execution_errors = errors
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.cost, "limit": self.max_cost}} if self.cost is not None else {}
