"""ALLOW_INTROSPECTION=false turns off introspection and field suggestions; GRAPHIQL=false the IDE."""

import httpx
import pytest

from docgraph.app import create_app


async def _post(app, query: str) -> dict:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return (await client.post("/graphql", json={"query": query})).json()


@pytest.fixture
def closed_app(settings, services):
    return create_app(settings.model_copy(update={"allow_introspection": False, "graphiql": False}),
                      services=services)


async def test_introspection_is_on_by_default(app):
    body = await _post(app, "{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_off_refuses_schema_queries(closed_app):
    body = await _post(closed_app, "{ __schema { queryType { name } } }")
    assert body["errors"] and not body.get("data")


async def test_suggestions_off_do_not_leak_field_names(app, closed_app):
    open_error = (await _post(app, "{ drivez { id } }"))["errors"][0]["message"]
    closed_error = (await _post(closed_app, "{ drivez { id } }"))["errors"][0]["message"]
    assert "Did you mean" in open_error
    assert "Did you mean" not in closed_error


async def test_graphiql_is_served_only_when_enabled(app, closed_app):
    for application, expected in ((app, 200), (closed_app, 404)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
            response = await c.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == expected
