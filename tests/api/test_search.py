"""search(filter) and Folder.documents: permission-filtered in SQL, exact counts, keyset pages."""

from __future__ import annotations

import pytest

from tests.api.documents_helpers import folder, member, pdf, share, uploaded

SEARCH = """query($filter: DocumentFilter!, $first: Int, $after: String) {
              search(filter: $filter, first: $first, after: $after) {
                totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }"""


@pytest.fixture
async def world(http, api, factory):
    org = await factory.organization()
    ed = await member(factory, api, org, "EDITOR", first_name="Ed")
    vic = await member(factory, api, org, "VIEWER", first_name="Vic")
    reports = await folder(api, ed, ed.drive, "Reports")
    q1 = await folder(api, ed, reports, "Q1")
    docs = {}
    for name, parent, tags, metadata, content_type in [
        ("Budget 2024.pdf", ed.drive, ["finance"], {"year": 2024}, "application/pdf"),
        ("budget draft.txt", reports, ["finance", "draft"], {"year": 2025, "team": "ops"}, "text/plain"),
        ("Q1 Summary.pdf", q1, ["finance", "q1"], {"year": 2024, "team": "ops"}, "application/pdf"),
        ("Holiday 50%_off.pdf", q1, [], {}, "application/pdf"),
    ]:
        content = b"plain text" if content_type == "text/plain" else pdf(seed=len(docs))
        docs[name] = await uploaded(http, ed.token, parent, content, file_name=name, content_type=content_type,
                                    tags=tags, metadata=metadata)
    return ed, vic, reports, q1, docs


async def names(api, token, search_filter, **variables) -> tuple[list[str], int]:
    data = (await api.ok(SEARCH, {"filter": search_filter, **variables}, token=token))["search"]
    return [e["node"]["name"] for e in data["edges"]], data["totalCount"]


async def test_each_filter_and_their_combination(api, world):
    ed, _, reports, q1, _ = world
    newest_first = ["Holiday 50%_off.pdf", "Q1 Summary.pdf", "budget draft.txt", "Budget 2024.pdf"]
    assert await names(api, ed.token, {}) == (newest_first, 4)
    assert await names(api, ed.token, {"text": "BUDGET"}) == (["budget draft.txt", "Budget 2024.pdf"], 2)
    assert await names(api, ed.token, {"text": "50%_"}) == (["Holiday 50%_off.pdf"], 1)  # no wildcards
    assert await names(api, ed.token, {"text": "%"}) == (["Holiday 50%_off.pdf"], 1)
    assert await names(api, ed.token, {"tags": ["finance", "q1"]}) == (["Q1 Summary.pdf"], 1)
    assert await names(api, ed.token, {"contentTypes": ["text/plain"]}) == (["budget draft.txt"], 1)
    assert await names(api, ed.token, {"folderId": reports}) == (newest_first[:3], 3)
    assert await names(api, ed.token, {"folderId": q1}) == (newest_first[:2], 2)
    assert await names(api, ed.token, {"metadata": {"team": "ops", "year": 2024}}) == (["Q1 Summary.pdf"], 1)
    assert await names(api, ed.token, {"metadata": {"year": 2024}, "text": "budget"}) == (["Budget 2024.pdf"], 1)
    assert await names(api, ed.token, {"createdAfter": "2999-01-01T00:00:00+00:00"}) == ([], 0)
    assert await names(api, ed.token, {"createdBefore": "2999-01-01T00:00:00+00:00"}) == (newest_first, 4)
    assert await api.code(SEARCH, {"filter": {"metadata": [1]}}, token=ed.token) == "BAD_USER_INPUT"


async def test_pages_are_stable_and_counts_exact(api, world):
    ed = world[0]
    seen, after = [], None
    while True:
        data = (await api.ok(SEARCH, {"filter": {}, "first": 3, "after": after}, token=ed.token))["search"]
        assert data["totalCount"] == 4
        seen += [e["node"]["name"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert len(seen) == 4 and len(set(seen)) == 4
    assert await api.code(SEARCH, {"filter": {}, "after": "garbage!"}, token=ed.token) == "BAD_USER_INPUT"
    assert await api.code(SEARCH, {"filter": {}, "first": 101}, token=ed.token) == "BAD_USER_INPUT"


async def test_search_shows_only_what_the_viewer_may_see(api, world):
    ed, vic, reports, q1, docs = world
    # Vic (viewer, nothing shared): no results, and Ed's folders do not exist for Vic
    assert await names(api, vic.token, {}) == ([], 0)
    assert await api.code(SEARCH, {"filter": {"folderId": reports}}, token=vic.token) == "NOT_FOUND"
    # Vic with VIEW on Q1: the two documents below it
    await share(api, ed, q1, vic, "VIEW")
    assert await names(api, vic.token, {}) == (["Holiday 50%_off.pdf", "Q1 Summary.pdf"], 2)
    # ...minus one restricted at document level
    await share(api, ed, docs["Q1 Summary.pdf"]["id"], vic)
    assert await names(api, vic.token, {"text": "q1"}) == ([], 0)
    assert await names(api, vic.token, {"folderId": q1}) == (["Holiday 50%_off.pdf"], 1)


async def test_folder_documents_lists_visible_live_documents_by_name(api, world):
    ed, _vic, _reports, q1, docs = world
    query = """query($id: ID!, $after: String) { folder(id: $id) { documents(first: 1, after: $after) {
                 totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } } }"""
    seen, after = [], None
    while True:
        page = (await api.ok(query, {"id": q1, "after": after}, token=ed.token))["folder"]["documents"]
        assert page["totalCount"] == 2
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["Holiday 50%_off.pdf", "Q1 Summary.pdf"]
    await api.ok("mutation($id: ID!) { deleteDocument(input: {documentId: $id}) { document { id } } }",
                 {"id": docs["Holiday 50%_off.pdf"]["id"]}, token=ed.token)
    page = (await api.ok(query, {"id": q1}, token=ed.token))["folder"]["documents"]
    assert page["totalCount"] == 1
