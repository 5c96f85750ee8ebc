"""Hostile queries are refused with a clear code before anything runs."""

import pytest


@pytest.fixture
async def token(factory):
    org = await factory.organization()
    return factory.token(await factory.user(org, "ADMIN"), org)


async def test_every_response_reports_its_cost(api, token):
    body = await api.raw("{ me { user { email } } }", token=token)
    assert body["extensions"]["cost"] == {"requested": 1, "limit": 50000}


async def test_cost_multiplies_page_sizes_through_the_nesting(api, token):
    query = """{ drives { children(first: 100) { edges { node {
                   children(first: 100) { edges { node { children(first: 10) { totalCount } } } } } } } } }"""
    error = await api.error(query, token=token)
    # 100 + 100*100 + 100*100*10 = 110,100 nodes
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["cost"] == 1 + 100 + 100 * 100 + 100 * 100 * 10


async def test_cost_uses_variables(api, token):
    query = """query($n: Int) { drives { children(first: $n) { edges { node {
                 children(first: $n) { edges { node { children(first: $n) { totalCount } } } } } } } } }"""
    small = await api.raw(query, {"n": 5}, token=token)
    assert small["extensions"]["cost"]["requested"] == 1 + 5 + 25 + 125
    error = await api.error(query, {"n": 100}, token=token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_depth_over_12_is_refused(api, token):
    inner = "id"
    for _ in range(13):
        inner = f"parent {{ {inner} }}"
    error = await api.error(f"{{ drives {{ {inner} }} }}", token=token)
    assert "depth" in error["message"].lower()
    assert error["extensions"]["code"]


async def test_more_than_30_aliases_are_refused(api, token):
    aliases = " ".join(f"a{i}: unreadNotificationCount" for i in range(31))
    error = await api.error(f"{{ {aliases} }}", token=token)
    assert "alias" in error["message"].lower()


async def test_more_than_50_root_fields_are_refused(api, token):
    # Without aliases, so only the root-field limit applies (fragments are expanded).
    fields = " ".join("... on Query { me { isSuperAdmin } }" for _ in range(51))
    error = await api.error(f"{{ {fields} }}", token=token)
    assert "root fields" in error["message"]


async def test_more_than_5000_tokens_are_refused(api, token):
    query = "{ me { " + " ".join(["isSuperAdmin"] * 5001) + " } }"
    error = await api.error(query, token=token)
    assert "token" in error["message"].lower()


async def test_json_body_over_1mb_is_payload_too_large(http):
    response = await http.post("/graphql", content=b'{"query": "' + b" " * 1_100_000 + b'{ __typename }"}',
                               headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_get_query_without_preflight_header_is_refused(http):
    response = await http.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 400
    with_header = await http.get("/graphql", params={"query": "{ __typename }"},
                                 headers={"x-graphql-preflight": "1"})
    assert with_header.json()["data"] == {"__typename": "Query"}


async def test_mutations_over_get_are_refused(http):
    response = await http.get("/graphql", params={"query": "mutation { logout }"},
                              headers={"x-graphql-preflight": "1"})
    assert response.status_code in (400, 405)


async def test_batched_operations_are_refused(http):
    response = await http.post("/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    assert response.status_code == 400


async def test_chunked_json_body_over_1mb_is_payload_too_large(http):
    async def body():
        yield b'{"query": "'
        for _ in range(11):
            yield b" " * 100_000
        yield b'{ __typename }"}'

    response = await http.post("/graphql", content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413
