"""Search filters with hostile sizes are refused before any SQL runs (issue 18 #4)."""

from __future__ import annotations

import pytest

from .test_access_statements import counting

SEARCH = "query($filter: DocumentFilter!) { search(filter: $filter) { totalCount } }"


def _deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"k": value}
    return value


@pytest.mark.parametrize(("name", "hostile"), [
    ("40,000 tags", {"tags": [f"tag-{n}" for n in range(40_000)]}),
    ("a 100,000-character name fragment", {"text": "x" * 100_000}),
    ("10,000 content types", {"contentTypes": [f"type/{n}" for n in range(10_000)]}),
    ("metadata nested 500 levels", {"metadata": _deep(500)}),
    ("metadata of 50,000 keys", {"metadata": {f"k{n}": n for n in range(50_000)}}),
])
async def test_hostile_search_filters_are_bad_input_before_any_document_is_read(api, factory, services,
                                                                               name, hostile):
    org = await factory.organization()
    token = factory.token(await factory.user(org, "VIEWER"), org)
    with counting(services) as statements:
        error = await api.error(SEARCH, {"filter": hostile}, token=token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", name
    assert not [s for s in statements if "document" in s.lower()], name


@pytest.mark.parametrize(("name", "query", "variables"), [
    ("a department name", "mutation($n: String!) { createDepartment(input: {name: $n}) { department { name } } }",
     {"n": "\u00dc\u0000"}),
    ("a search text", SEARCH.replace("$filter: DocumentFilter!", "$n: String!").replace("filter: $filter",
                                                                                      "filter: {text: $n}"),
     {"n": "a\u0000b"}),
    ("metadata", SEARCH, {"filter": {"metadata": {"k": "a\u0000b"}}}),
])
async def test_nul_characters_are_bad_input_not_a_database_error(api, factory, name, query, variables):
    """PostgreSQL text and jsonb cannot hold U+0000: refused up front (the fuzz found a 500)."""
    org = await factory.organization()
    token = factory.token(await factory.user(org, "ADMIN"), org)
    assert (await api.error(query, variables, token=token))["extensions"]["code"] == "BAD_USER_INPUT", name
