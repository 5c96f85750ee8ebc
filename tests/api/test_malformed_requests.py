"""Every malformed request gets a 4xx GraphQL JSON error with a code, cheaply, and logs no
traceback (issue 18 #8): deeply nested JSON, broken JSON, wrong types, wrong methods."""

from __future__ import annotations

import json
import logging

import pytest
import websockets

from ..live import live_server
from .test_access_statements import counting

DEEP = 1_000


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


MALFORMED = [
    ("variables nested 1,000 levels", b'{"query": "{ __typename }", "variables": {"v": ' +
     _nested(DEEP).encode() + b"}}", "application/json"),
    ("a body nested 100,000 levels", ("[" * 100_000).encode(), "application/json"),
    ("objects nested 1,000 levels", b'{"query": "{ __typename }", "extensions": ' +
     ('{"a":' * DEEP + "1" + "}" * DEEP).encode() + b"}", "application/json"),
    ("broken JSON", b'{"query": ', "application/json"),
    ("not UTF-8", b'{"query": "\xff\xfe"}', "application/json"),
    ("an array of nothing", b"[]", "application/json"),
    ("a query that is no string", b'{"query": 5}', "application/json"),
    ("variables that are no object", b'{"query": "{ __typename }", "variables": [1]}', "application/json"),
    ("no query", b'{"variables": {}}', "application/json"),
    ("an unsupported content type", b"{ __typename }", "text/plain"),
]


@pytest.mark.parametrize(("name", "body", "content_type"), MALFORMED, ids=[case[0] for case in MALFORMED])
async def test_a_malformed_post_is_a_4xx_graphql_error_without_traceback(http, caplog, factory, services, name,
                                                                           body, content_type):
    org = await factory.organization()
    token = factory.token(await factory.user(org, "VIEWER"), org)
    with caplog.at_level(logging.WARNING), counting(services) as statements:
        response = await http.post("/graphql", content=body, headers={"content-type": content_type,
                                                                      "authorization": f"Bearer {token}"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["message"]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    if content_type == "application/json":  # refused before the token is even looked up
        assert statements == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_a_405_graphql_error(http, method):
    response = await http.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_get_without_query_is_a_400_graphql_error(http):
    response = await http.get("/graphql", params={"variables": "{}"}, headers={"x-graphql-preflight": "1",
                                                                             "accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_deeply_nested_websocket_message_closes_the_socket_with_4400(app, factory, caplog):
    org = await factory.organization()
    token = factory.token(await factory.user(org, "VIEWER"), org)
    async with live_server(app) as address, \
            websockets.connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            with caplog.at_level(logging.WARNING):
                await ws.send('{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", '
                              '"variables": {"v": ' + _nested(DEEP) + "}}}")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
    assert closed.value.rcvd.code == 4400
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
