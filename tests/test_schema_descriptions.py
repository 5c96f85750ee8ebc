"""Every type, field, argument, input field and enum value of the exported schema has a
description written for client developers: what GraphiQL and generated clients show them.

The schema is read as clients read it: `schema.graphql` built by graphql-core and walked through
introspection. Whoever adds a name describes it."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import build_schema, get_introspection_query, graphql_sync, specified_directives

ROOT = Path(__file__).resolve().parent.parent
# A description says more than its name: a few words at least, and not a stub.
MIN_LENGTH = 12
SPECIFIED_DIRECTIVES = {directive.name for directive in specified_directives}
STUBS = re.compile(r"^\s*(todo|tbd|fixme|xxx|description|n/?a)\b|\.\.\.\s*$", re.IGNORECASE)


def _introspect() -> dict:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    result = graphql_sync(schema, get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert not result.errors, result.errors
    return result.data["__schema"]


def _described_things(schema: dict):
    """(what, name, description) for every describable thing of the schema's own types."""
    for kind in schema["types"]:
        name = kind["name"]
        if name.startswith("__"):
            continue  # GraphQL's own introspection types
        yield "type", name, kind["description"]
        for field in kind["fields"] or ():
            yield "field", f"{name}.{field['name']}", field["description"]
            for argument in field["args"]:
                yield "argument", f"{name}.{field['name']}({argument['name']})", argument["description"]
        for field in kind["inputFields"] or ():
            yield "input field", f"{name}.{field['name']}", field["description"]
        for value in kind["enumValues"] or ():
            yield "enum value", f"{name}.{value['name']}", value["description"]
    for directive in schema["directives"]:
        if directive["name"] in SPECIFIED_DIRECTIVES:
            continue  # GraphQL's own (@skip, @include, @deprecated, @oneOf...), described by the spec
        yield "directive", f"@{directive['name']}", directive["description"]
        for argument in directive["args"]:
            yield "argument", f"@{directive['name']}({argument['name']})", argument["description"]


def _problem(name: str, description: str | None) -> str | None:
    if not description or not description.strip():
        return "no description"
    text = description.strip()
    if STUBS.search(text):
        return f"a stub: {text!r}"
    last = name.rsplit(".", 1)[-1].strip("@()")
    if len(text) < MIN_LENGTH or text.lower().rstrip(".") == last.lower():
        return f"too short to tell a client anything: {text!r}"
    return None


def test_every_name_of_the_schema_is_described():
    problems = [f"{what} {name}: {problem}" for what, name, description in _described_things(_introspect())
                if (problem := _problem(name, description))]
    assert not problems, (
        f"{len(problems)} names of schema.graphql lack a description for client developers "
        "(strawberry: description= on types and fields, strawberry.argument(description=...) on "
        "arguments, enums.py for enum values):\n" + "\n".join(problems))


def test_the_check_sees_what_it_checks():
    """The walk reaches every kind of name (a walk that saw nothing would pass anything)."""
    seen = {what for what, _, _ in _described_things(_introspect())}
    assert seen >= {"type", "field", "argument", "input field", "enum value"}
    assert _problem("Folder.name", None) and _problem("Folder.name", "Name.") and _problem("X.y", "TODO later")
    assert _problem("Folder.name", "The folder's name, unique among its live siblings.") is None
