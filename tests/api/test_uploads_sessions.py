"""Upload sessions: startUpload, parts (presigned on S3, the app's endpoint on the filesystem),
completeUpload; dedupe at start; every refusal."""

from __future__ import annotations

import uuid

import httpx
import pytest

from docgraph.globalid import encode
from tests.api.documents_helpers import PDF_TYPE, member, pdf, sha256, share, table_counts, uploaded

MiB = 1024 * 1024
START = """mutation($input: StartUploadInput!) { startUpload(input: $input) {
             id partSize expiresAt parts { partNumber url } } }"""
COMPLETE = """mutation($input: CompleteUploadInput!) { completeUpload(input: $input) { document {
                id name versionCount fileSize tags currentVersion { versionNumber contentHash fileSize } } } }"""


@pytest.fixture
async def org(factory):
    return await factory.organization()


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR")


@pytest.fixture(autouse=True)
def small_parts(settings):
    settings.upload_part_size = 5 * MiB


async def put(http: httpx.AsyncClient, url: str, data: bytes) -> httpx.Response:
    """App part links go through the app; presigned ones straight to the S3 server."""
    if url.startswith("http://testserver/"):
        return await http.put(url, content=data)
    async with httpx.AsyncClient() as client:
        return await client.put(url, content=data)


def chunks_of(content: bytes, part_size: int) -> list[bytes]:
    return [content[i:i + part_size] for i in range(0, len(content), part_size)]


async def test_a_document_uploaded_in_parts_on_both_backends(http, api, backend, ed):
    content = pdf(5 * MiB + 300_000, seed=1)
    started = (await api.ok(START, {"input": {
        "folderId": ed.drive, "fileName": "big.pdf", "contentType": PDF_TYPE, "size": len(content),
        "sha256": sha256(content)}}, token=ed.token))["startUpload"]
    assert started["partSize"] == 5 * MiB and [p["partNumber"] for p in started["parts"]] == [1, 2]
    pieces = chunks_of(content, started["partSize"])
    # Part 2 goes wrong first and is sent again: the last one sent counts.
    assert (await put(http, started["parts"][1]["url"], pieces[1][:-10] + b"x" * 10)).status_code == 200
    for part, piece in zip(started["parts"], pieces, strict=False):
        response = await put(http, part["url"], piece)
        assert response.status_code == 200 and response.headers["etag"]
    completed = await api.ok(COMPLETE, {"input": {"uploadId": started["id"], "tags": ["big"]}}, token=ed.token)
    document = completed["completeUpload"]["document"]
    assert (document["name"], document["fileSize"], document["tags"]) == ("big.pdf", len(content), ["big"])
    assert document["currentVersion"]["contentHash"] == sha256(content)
    url = (await api.ok("query($id: ID!) { document(id: $id) { downloadUrl } }", {"id": document["id"]},
                        token=ed.token))["document"]["downloadUrl"]
    if url.startswith("http://testserver/"):
        downloaded = await http.get(url)
    else:
        async with httpx.AsyncClient() as client:
            downloaded = await client.get(url)
    assert downloaded.content == content
    assert await api.code(COMPLETE, {"input": {"uploadId": started["id"]}}, token=ed.token) == "CONFLICT"


async def test_known_content_needs_no_parts_and_makes_a_new_version(http, api, services, ed):
    content = pdf(40_000, seed=2)
    document = await uploaded(http, ed.token, ed.drive, pdf(seed=3))
    await uploaded(http, ed.token, ed.drive, content, file_name="original.pdf")
    started = (await api.ok(START, {"input": {
        "documentId": document["id"], "fileName": "again.pdf", "contentType": PDF_TYPE, "size": len(content),
        "sha256": sha256(content)}}, token=ed.token))["startUpload"]
    assert started["parts"] == []
    completed = await api.ok(COMPLETE, {"input": {"uploadId": started["id"], "changeComment": "same bytes"}},
                             token=ed.token)
    version = completed["completeUpload"]["document"]["currentVersion"]
    assert (version["versionNumber"], version["contentHash"]) == (2, sha256(content))
    assert await table_counts(services, "blob") == {"blob": 2}


async def test_completion_checks_every_part_and_the_hash(http, api, ed):
    content = pdf(5 * MiB + 1000, seed=4)
    variables = {"input": {"folderId": ed.drive, "fileName": "p.pdf", "contentType": PDF_TYPE,
                           "size": len(content), "sha256": "0" * 64}}
    started = (await api.ok(START, variables, token=ed.token))["startUpload"]
    first, second = chunks_of(content, 5 * MiB)
    await put(http, started["parts"][0]["url"], first)
    error = await api.error(COMPLETE, {"input": {"uploadId": started["id"]}}, token=ed.token)
    assert (error["extensions"]["code"], error["extensions"]["partNumber"]) == ("BAD_USER_INPUT", 2)
    too_long = await put(http, started["parts"][1]["url"], second + b"!")
    assert too_long.status_code == 413
    await put(http, started["parts"][1]["url"], second)
    # All parts there, but not the declared sha256: refused, and the session is over.
    assert await api.code(COMPLETE, {"input": {"uploadId": started["id"]}}, token=ed.token) == "BAD_USER_INPUT"
    assert await api.code(COMPLETE, {"input": {"uploadId": started["id"]}}, token=ed.token) == "CONFLICT"
    assert (await put(http, started["parts"][1]["url"], second)).status_code == 409


async def test_part_links_are_bound_to_their_session(http, api, ed):
    started = (await api.ok(START, {"input": {"folderId": ed.drive, "fileName": "a.pdf", "contentType": PDF_TYPE,
                                             "size": 10}}, token=ed.token))["startUpload"]
    url = started["parts"][0]["url"]
    assert (await http.put(url.replace("token=", "token=x"), content=b"0123456789")).status_code == 403
    other = (await api.ok(START, {"input": {"folderId": ed.drive, "fileName": "b.pdf", "contentType": PDF_TYPE,
                                           "size": 10}}, token=ed.token))["startUpload"]
    mixed = other["parts"][0]["url"].split("?")[0] + "?" + url.split("?")[1]
    assert (await http.put(mixed, content=b"0123456789")).status_code == 403
    beyond = url.replace("/parts/1?", "/parts/2?")
    assert (await http.put(beyond, content=b"0123456789")).status_code == 400


async def test_start_refuses_what_upload_would_refuse(http, api, factory, ed):
    org = await factory.organization(max_document_size=1000, storage_quota=5000)
    ann = await member(factory, api, org, "EDITOR")
    base = {"folderId": ann.drive, "fileName": "a.pdf", "contentType": PDF_TYPE, "size": 500}
    cases = [
        ("both folderId and documentId", {"documentId": encode("Document", uuid.uuid4())}, "BAD_USER_INPUT"),
        ("a negative size", {"size": -1}, "BAD_USER_INPUT"),
        ("a malformed sha256", {"sha256": "xyz"}, "BAD_USER_INPUT"),
        ("a file name with a slash only", {"fileName": "/"}, "BAD_USER_INPUT"),
        ("a type off the whitelist", {"contentType": "application/x-msdownload"}, "UNSUPPORTED_MEDIA_TYPE"),
        ("over the size limit", {"size": 1001}, "PAYLOAD_TOO_LARGE"),
        ("a folder Ann cannot see", {"folderId": ed.drive}, "NOT_FOUND"),
    ]
    for what, change, expected in cases:
        assert await api.code(START, {"input": {**base, **change}}, token=ann.token) == expected, what
    # Over the quota: ann's organization holds 4,800 bytes already.
    await uploaded(http, ann.token, ann.drive, pdf(800, seed=1), file_name="1.pdf")
    await uploaded(http, ann.token, ann.drive, pdf(1000, seed=2), file_name="2.pdf")
    await uploaded(http, ann.token, ann.drive, pdf(1000, seed=3), file_name="3.pdf")
    await uploaded(http, ann.token, ann.drive, pdf(1000, seed=4), file_name="4.pdf")
    await uploaded(http, ann.token, ann.drive, pdf(1000, seed=5), file_name="5.pdf")
    assert await api.code(START, {"input": {**base, "size": 300}}, token=ann.token) == "QUOTA_EXCEEDED"


async def test_only_the_starter_may_complete_and_locks_are_checked_at_start(http, api, factory, org, ed):
    eve = await member(factory, api, org, "EDITOR")
    document = await uploaded(http, ed.token, ed.drive)
    await share(api, ed, document["id"], eve, "VIEW", "UPDATE")
    started = (await api.ok(START, {"input": {"documentId": document["id"], "fileName": "v2.pdf",
                                             "contentType": PDF_TYPE, "size": 10}}, token=ed.token))["startUpload"]
    # Eve (editor, UPDATE share) on Ed's upload session: NOT_FOUND
    assert await api.code(COMPLETE, {"input": {"uploadId": started["id"]}}, token=eve.token) == "NOT_FOUND"
    await api.ok("mutation($id: ID!) { lockDocument(input: {documentId: $id}) { document { id } } }",
                 {"id": document["id"]}, token=ed.token)
    # Eve on Ed's locked document: LOCKED before any byte is sent
    assert await api.code(START, {"input": {"documentId": document["id"], "fileName": "v2.pdf",
                                            "contentType": PDF_TYPE, "size": 10}}, token=eve.token) == "LOCKED"
