"""orderBy on a folder's documents, its subfolders and search: every field both ways, ties in a
stable order of their own (the id), pages that follow the order forward and backward, and
cursors that carry their order (a cursor of one order is refused by another)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from docgraph import globalid, models
from docgraph.auth.principal import Principal
from docgraph.services import folders as folder_service

NAMES = ["delta", "Alpha", "echo", "Charlie", "bravo", "foxtrot"]
SIZES = [300, 100, 300, 200, 300, 100]  # ties
BASE = datetime(2026, 1, 1, tzinfo=UTC)
CREATED = [BASE + timedelta(days=d) for d in (2, 1, 2, 3, 1, 2)]  # ties
UPDATED = [BASE + timedelta(days=d) for d in (5, 9, 7, 5, 6, 8)]  # a tie

DOCUMENTS = """query($id: ID!, $order: DocumentOrder, $first: Int, $after: String, $last: Int, $before: String) {
  folder(id: $id) { documents(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { name } } } } }"""
CHILDREN = """query($id: ID!, $order: FolderOrder, $first: Int, $after: String, $last: Int, $before: String) {
  folder(id: $id) { children(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { name } } } } }"""
SEARCH = """query($order: DocumentOrder, $first: Int, $after: String, $last: Int, $before: String) {
  search(filter: {tags: ["ordered"]}, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { name } } } }"""


async def _world(factory, services):
    """An admin's folder holding six documents and six subfolders with the fields above."""
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    department = await factory.department(org, by=admin)
    as_admin = Principal(admin.id, org.id, "ADMIN", False)
    folder = await folder_service.create_folder(services.db, as_admin, parent_id=department.root_folder_id,
                                                name="Ordered")
    rows = {}
    async with services.db.transaction() as session:
        blob = models.Blob(organization_id=org.id, sha256="0" * 64, size=1, storage_key=f"{org.id}/blobs/x")
        session.add(blob)
        await session.flush()
        for name, size, created, updated in zip(NAMES, SIZES, CREATED, UPDATED, strict=True):
            document = models.Document(organization_id=org.id, folder_id=folder.id, name=name, file_size=size,
                                       content_type="application/pdf", created_by=admin.id, tags=["ordered"],
                                       created_at=created, updated_at=updated)
            child_id = uuid.uuid4()
            child = models.Folder(id=child_id, organization_id=org.id, name=name, parent_id=folder.id,
                                  owner_type="ORG", owner_id=org.id, department_id=department.id,
                                  path=[*folder.path, child_id], created_by=admin.id, created_at=created,
                                  updated_at=updated)
            session.add_all([document, child])
            await session.flush()
            version = models.DocumentVersion(organization_id=org.id, document_id=document.id, version_number=1,
                                             file_size=size, content_type="application/pdf", content_hash="0" * 64,
                                             blob_id=blob.id, created_by=admin.id)
            session.add(version)
            await session.flush()
            document.current_version_id = version.id
            rows[name] = (document.id, child_id)
    return factory.token(admin, org), globalid.encode("Folder", folder.id), rows


def _expected(key, rows, descending: bool, which: int) -> list[str]:
    """Names in the order: the key, then the id (the row's own), both one way."""
    return sorted(NAMES, key=lambda name: (key(name), rows[name][which]), reverse=descending)


KEYS = {
    "NAME": lambda name: name.lower(),
    "SIZE": lambda name: SIZES[NAMES.index(name)],
    "CREATED_AT": lambda name: CREATED[NAMES.index(name)],
    "UPDATED_AT": lambda name: UPDATED[NAMES.index(name)],
}


async def _walk(api, token, query, path, variables, size=2) -> tuple[list[str], list[str], list[str]]:
    """(one page of everything, forward pages of `size`, backward pages of `size`)."""
    async def page(**arguments):
        data = await api.ok(query, {**variables, **arguments}, token=token)
        for key in path:
            data = data[key]
        return data

    whole = [edge["node"]["name"] for edge in (await page(first=100))["edges"]]
    forward, after = [], None
    while True:
        current = await page(first=size, after=after)
        forward += [edge["node"]["name"] for edge in current["edges"]]
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
    backward, before = [], None
    while True:
        current = await page(last=size, before=before)
        backward = [edge["node"]["name"] for edge in current["edges"]] + backward
        if not current["pageInfo"]["hasPreviousPage"]:
            break
        before = current["pageInfo"]["startCursor"]
    return whole, forward, backward


@pytest.mark.parametrize("field", ["NAME", "SIZE", "CREATED_AT", "UPDATED_AT"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_a_folders_documents_and_search_follow_every_order_both_ways(api, factory, services, field,
                                                                           direction):
    token, folder_id, rows = await _world(factory, services)
    expected = _expected(KEYS[field], rows, direction == "DESC", which=0)
    order = {"field": field, "direction": direction}
    for query, path, variables in ((DOCUMENTS, ("folder", "documents"), {"id": folder_id, "order": order}),
                                   (SEARCH, ("search",), {"order": order})):
        whole, forward, backward = await _walk(api, token, query, path, variables)
        assert whole == forward == backward == expected, (field, direction, whole, expected)


@pytest.mark.parametrize("field", ["NAME", "CREATED_AT", "UPDATED_AT"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_subfolders_follow_every_order_both_ways(api, factory, services, field, direction):
    token, folder_id, rows = await _world(factory, services)
    expected = _expected(KEYS[field], rows, direction == "DESC", which=1)
    whole, forward, backward = await _walk(api, token, CHILDREN, ("folder", "children"),
                                           {"id": folder_id, "order": {"field": field, "direction": direction}})
    assert whole == forward == backward == expected


async def test_default_orders_and_cursors_that_belong_to_another_order(api, factory, services):
    token, folder_id, _ = await _world(factory, services)
    by_name = await api.ok(DOCUMENTS, {"id": folder_id, "first": 2}, token=token)
    assert [e["node"]["name"] for e in by_name["folder"]["documents"]["edges"]] == ["Alpha", "bravo"]
    newest = await api.ok(SEARCH, {"first": 1}, token=token)  # search: newest first
    assert [e["node"]["name"] for e in newest["search"]["edges"]] == ["Charlie"]

    cursor = by_name["folder"]["documents"]["pageInfo"]["endCursor"]
    by_size = {"field": "SIZE", "direction": "ASC"}
    for arguments in ({"after": cursor}, {"before": cursor}):
        assert await api.code(DOCUMENTS, {"id": folder_id, "order": by_size, **arguments},
                              token=token) == "BAD_USER_INPUT"
    descending = {"field": "NAME", "direction": "DESC"}
    assert await api.code(DOCUMENTS, {"id": folder_id, "order": descending, "after": cursor},
                          token=token) == "BAD_USER_INPUT"
    # The same order takes it: the page after "bravo".
    after = await api.ok(DOCUMENTS, {"id": folder_id, "after": cursor, "first": 1}, token=token)
    assert [e["node"]["name"] for e in after["folder"]["documents"]["edges"]] == ["Charlie"]
    assert await api.code(DOCUMENTS, {"id": folder_id, "order": {"field": "RELEVANT", "direction": "ASC"}},
                          token=token) == "BAD_USER_INPUT"
