"""`nodes(ids)` answers each ID on its own; an UploadSession is a Node its starter can fetch again
(with fresh part URLs) while it is open; MarkNotificationsReadInput is @oneOf."""

from __future__ import annotations

import uuid

from docgraph import globalid

from .documents_helpers import PDF_TYPE, member

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }"
START = """mutation($input: StartUploadInput!) { startUpload(input: $input) {
             id partSize expiresAt parts { partNumber url } } }"""
SESSION = """query($id: ID!) { node(id: $id) { id ... on UploadSession { partSize expiresAt
             parts { partNumber url } } } }"""


async def test_nodes_answers_each_id_on_its_own(api, factory):
    org = await factory.organization()
    alice = await member(factory, api, org)
    stranger = await member(factory, api, await factory.organization())
    ids = [alice.drive, "not an id", globalid.encode("Spaceship", uuid.uuid4()), stranger.drive, alice.id]
    body = await api.raw(NODES, {"ids": ids}, token=alice.token)
    assert body["data"]["nodes"] == [{"id": alice.drive, "__typename": "Folder"}, None, None, None,
                                     {"id": alice.id, "__typename": "User"}]
    # The malformed ID and the unknown type are errors at their index; another organization's
    # folder is just not there: null, no error.
    errors = sorted(body["errors"], key=lambda error: error["path"])
    assert [error["path"] for error in errors] == [["nodes", 1], ["nodes", 2]]
    assert {error["extensions"]["code"] for error in errors} == {"BAD_USER_INPUT"}
    assert await api.code(NODES, {"ids": [alice.drive] * 101}, token=alice.token) == "BAD_USER_INPUT"


async def test_an_upload_session_is_a_node_of_its_starter_while_open(api, factory):
    org = await factory.organization()
    alice, bob = await member(factory, api, org), await member(factory, api, org)
    started = (await api.ok(START, {"input": {"folderId": alice.drive, "fileName": "a.pdf", "contentType": PDF_TYPE,
                                             "size": 10}}, token=alice.token))["startUpload"]
    again = (await api.ok(SESSION, {"id": started["id"]}, token=alice.token))["node"]
    assert again["id"] == started["id"] and again["partSize"] == started["partSize"]
    assert [part["partNumber"] for part in again["parts"]] == [1]
    assert again["expiresAt"] == started["expiresAt"]
    assert (await api.ok(SESSION, {"id": started["id"]}, token=bob.token))["node"] is None
    nodes = await api.ok("query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }", {"ids": [started["id"]]},
                         token=alice.token)
    assert nodes["nodes"] == [{"__typename": "UploadSession"}]


async def test_mark_notifications_read_takes_exactly_one_of_ids_or_all(api, factory):
    org = await factory.organization()
    alice = await member(factory, api, org)
    introspection = await api.ok('{ __type(name: "MarkNotificationsReadInput") { isOneOf } }', token=alice.token)
    assert introspection["__type"]["isOneOf"] is True
    mark = "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { unreadCount } }"
    for both_or_neither in ({}, {"ids": [], "all": True}, {"all": None}):
        assert await api.code(mark, {"input": both_or_neither}, token=alice.token) == "BAD_USER_INPUT"
    assert (await api.ok(mark, {"input": {"all": True}}, token=alice.token))["markNotificationsRead"] == {
        "unreadCount": 0}
