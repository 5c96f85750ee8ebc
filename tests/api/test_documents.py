"""Uploading and replacing documents through the GraphQL multipart request spec, on both
storage backends: versions, content hashes, dedupe, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.documents_helpers import (
    DOCUMENT,
    DOCX_TYPE,
    PDF_TYPE,
    code_of,
    data_of,
    docx,
    member,
    pdf,
    png,
    replace,
    sha256,
    storage_keys,
    table_counts,
    upload,
    uploaded,
)


@pytest.fixture
async def org(factory):
    return await factory.organization()


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR", first_name="Ed")


async def test_upload_creates_version_1_and_stores_the_content_under_its_hash(http, api, backend, org, ed):
    content = pdf(150_000)
    document = await uploaded(http, ed.token, ed.drive, content, file_name="Q1 report.pdf",
                              description="Quarter", tags=["finance", "q1"], metadata={"year": 2024})
    assert document["name"] == "Q1 report.pdf"
    assert (document["contentType"], document["fileSize"], document["versionCount"]) == (PDF_TYPE, len(content), 1)
    assert (document["description"], document["tags"], document["metadata"]) == ("Quarter", ["finance", "q1"],
                                                                                  {"year": 2024})
    version = document["currentVersion"]
    assert (version["versionNumber"], version["fileSize"], version["contentHash"]) == (1, len(content), sha256(content))
    assert await storage_keys(backend, f"{org.id}/") == [f"{org.id}/blobs/{sha256(content)}"]
    again = await api.ok(DOCUMENT, {"id": document["id"]}, token=ed.token)
    assert again["document"]["currentVersion"]["id"] == version["id"]


async def test_replace_adds_version_2_and_keeps_version_1(http, api, backend, org, ed):
    first, second = pdf(5000, seed=1), docx("v2")
    document = await uploaded(http, ed.token, ed.drive, first)
    response = await replace(http, ed.token, document["id"], second, file_name="report.docx",
                             content_type=DOCX_TYPE, changeComment="now in Word")
    replaced = data_of(response)["replaceDocument"]["document"]
    assert (replaced["versionCount"], replaced["contentType"], replaced["fileSize"]) == (2, DOCX_TYPE, len(second))
    assert replaced["currentVersion"]["changeComment"] == "now in Word"
    versions = await api.ok("""query($id: ID!) { document(id: $id) { versions { totalCount
                               edges { node { versionNumber contentHash contentType createdBy { id } } } } } }""",
                            {"id": document["id"]}, token=ed.token)
    nodes = [e["node"] for e in versions["document"]["versions"]["edges"]]
    assert [(n["versionNumber"], n["contentHash"]) for n in nodes] == [(2, sha256(second)), (1, sha256(first))]
    assert versions["document"]["versions"]["totalCount"] == 2
    assert nodes[0]["createdBy"]["id"] == ed.id
    assert await storage_keys(backend, f"{org.id}/") == sorted(
        [f"{org.id}/blobs/{sha256(first)}", f"{org.id}/blobs/{sha256(second)}"])


async def test_same_bytes_twice_make_one_blob_row_and_one_object(http, services, backend, org, ed):
    content = png(20_000)
    a = await uploaded(http, ed.token, ed.drive, content, file_name="a.png", content_type="image/png")
    b = await uploaded(http, ed.token, ed.drive, content, file_name="b.png", content_type="image/png")
    assert a["currentVersion"]["contentHash"] == b["currentVersion"]["contentHash"] == sha256(content)
    assert (await table_counts(services, "blob", "document_version")) == {"blob": 1, "document_version": 2}
    assert await storage_keys(backend, f"{org.id}/") == [f"{org.id}/blobs/{sha256(content)}"]


async def test_sixteen_concurrent_replaces_number_versions_2_to_17_without_gaps(http, api, ed):
    document = await uploaded(http, ed.token, ed.drive)
    contents = [pdf(3000, seed=100 + i) for i in range(16)]
    responses = await asyncio.gather(*(replace(http, ed.token, document["id"], c) for c in contents))
    numbers = sorted(data_of(r)["replaceDocument"]["document"]["currentVersion"]["versionNumber"] for r in responses)
    assert numbers == list(range(2, 18))
    data = await api.ok("""query($id: ID!) { document(id: $id) { versionCount
                              versions(first: 100) { edges { node { versionNumber contentHash } } } } }""",
                        {"id": document["id"]}, token=ed.token)
    assert data["document"]["versionCount"] == 17
    hashes = {e["node"]["versionNumber"]: e["node"]["contentHash"] for e in data["document"]["versions"]["edges"]}
    assert sorted(hashes) == list(range(1, 18))
    assert sorted(hashes[n] for n in range(2, 18)) == sorted(sha256(c) for c in contents)


async def test_versions_page_newest_first_with_cursors(http, api, ed):
    document = await uploaded(http, ed.token, ed.drive)
    for i in range(4):
        data_of(await replace(http, ed.token, document["id"], pdf(1000, seed=i)))
    query = """query($id: ID!, $after: String) { document(id: $id) { versions(first: 2, after: $after) {
                 totalCount pageInfo { hasNextPage endCursor } edges { node { versionNumber } } } } }"""
    seen, after = [], None
    while True:
        page = (await api.ok(query, {"id": document["id"], "after": after}, token=ed.token))["document"]["versions"]
        assert page["totalCount"] == 5
        seen += [e["node"]["versionNumber"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [5, 4, 3, 2, 1]
    assert await api.code(query, {"id": document["id"], "after": "bm9wZQ"}, token=ed.token) == "BAD_USER_INPUT"


async def test_name_defaults_to_the_file_name_without_client_path(http, ed):
    document = await uploaded(http, ed.token, ed.drive, file_name="C:\\fakepath\\Budget 2024.pdf")
    assert document["name"] == "Budget 2024.pdf"


async def test_version_node_and_its_document(http, api, ed, factory, org):
    document = await uploaded(http, ed.token, ed.drive)
    version_id = document["currentVersion"]["id"]
    node = await api.ok("""query($id: ID!) { node(id: $id) { ... on DocumentVersion { versionNumber
                             document { id name } createdBy { id } } } }""", {"id": version_id}, token=ed.token)
    assert node["node"] == {"versionNumber": 1, "document": {"id": document["id"], "name": document["name"]},
                            "createdBy": {"id": ed.id}}
    stranger = await member(factory, api, org, "EDITOR")
    hidden = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": version_id}, token=stranger.token)
    assert hidden["node"] is None


async def test_a_viewer_without_access_gets_not_found_and_no_version_is_added(http, api, factory, org, ed):
    document = await uploaded(http, ed.token, ed.drive)
    vic = await member(factory, api, org, "VIEWER")
    assert await api.code(DOCUMENT, {"id": document["id"]}, token=vic.token) == "NOT_FOUND"
    assert code_of(await replace(http, vic.token, document["id"], pdf(seed=9))) == "NOT_FOUND"
    assert code_of(await upload(http, vic.token, ed.drive, pdf(seed=9))) == "NOT_FOUND"
    data = await api.ok(DOCUMENT, {"id": document["id"]}, token=ed.token)
    assert data["document"]["versionCount"] == 1


async def test_another_organizations_document_does_not_exist(http, api, factory, ed):
    document = await uploaded(http, ed.token, ed.drive)
    other_org = await factory.organization()
    outsider = await member(factory, api, other_org, "ADMIN")
    assert await api.code(DOCUMENT, {"id": document["id"]}, token=outsider.token) == "NOT_FOUND"
    assert code_of(await replace(http, outsider.token, document["id"], pdf(seed=3))) == "NOT_FOUND"
