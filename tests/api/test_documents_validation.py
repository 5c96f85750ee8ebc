"""Every rule on an upload's input, and what a refusal leaves behind: no rows, no objects."""

from __future__ import annotations

import pytest

from tests.api.documents_helpers import (
    DOCUMENT,
    PDF_TYPE,
    UPLOAD,
    code_of,
    docx,
    member,
    noise,
    pdf,
    png,
    replace,
    storage_keys,
    table_counts,
    upload,
    uploaded,
)

CONTENT_TABLES = ("document", "document_version", "blob")


@pytest.fixture
async def org(factory):
    return await factory.organization(max_document_size=100_000)


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR")


REFUSED_UPLOADS = [
    # (what, file name, bytes, content type, extra input fields, expected code)
    ("empty name", "x.pdf", pdf(), PDF_TYPE, {"name": "   "}, "BAD_USER_INPUT"),
    ("name of 256 characters", "x.pdf", pdf(), PDF_TYPE, {"name": "n" * 256}, "BAD_USER_INPUT"),
    ("name with a slash", "x.pdf", pdf(), PDF_TYPE, {"name": "a/b.pdf"}, "BAD_USER_INPUT"),
    ("name with a control character", "x.pdf", pdf(), PDF_TYPE, {"name": "a\tb.pdf"}, "BAD_USER_INPUT"),
    ("51 tags", "x.pdf", pdf(), PDF_TYPE, {"tags": [f"t{i}" for i in range(51)]}, "BAD_USER_INPUT"),
    ("a tag of 65 characters", "x.pdf", pdf(), PDF_TYPE, {"tags": ["t" * 65]}, "BAD_USER_INPUT"),
    ("an empty tag", "x.pdf", pdf(), PDF_TYPE, {"tags": ["ok", " "]}, "BAD_USER_INPUT"),
    ("metadata that is a list", "x.pdf", pdf(), PDF_TYPE, {"metadata": [1, 2]}, "BAD_USER_INPUT"),
    ("metadata over 16 KiB", "x.pdf", pdf(), PDF_TYPE, {"metadata": {"k": "v" * 16_400}}, "BAD_USER_INPUT"),
    ("a description of 501 characters", "x.pdf", pdf(), PDF_TYPE, {"description": "d" * 501}, "BAD_USER_INPUT"),
    ("a type off the whitelist", "setup.exe", b"MZ\x90\x00" + noise(500), "application/x-msdownload", {},
     "UNSUPPORTED_MEDIA_TYPE"),
    ("PNG bytes declared as PDF", "fake.pdf", png(), PDF_TYPE, {}, "UNSUPPORTED_MEDIA_TYPE"),
    ("random bytes declared as PDF", "noise.pdf", noise(3000), PDF_TYPE, {}, "UNSUPPORTED_MEDIA_TYPE"),
    ("binary declared as text", "notes.txt", b"abc\x00def", "text/plain", {}, "UNSUPPORTED_MEDIA_TYPE"),
    ("Latin-1 declared as CSV", "data.csv", "naïve;café\n".encode("latin-1"), "text/csv", {},
     "UNSUPPORTED_MEDIA_TYPE"),
    ("over the organization's 100,000-byte limit", "big.pdf", pdf(100_001), PDF_TYPE, {}, "PAYLOAD_TOO_LARGE"),
]


async def test_every_refused_upload_leaves_no_rows_and_nothing_in_storage(http, services, backend, org, ed):
    for what, file_name, content, content_type, fields, expected in REFUSED_UPLOADS:
        response = await upload(http, ed.token, ed.drive, content, file_name=file_name, content_type=content_type,
                                **fields)
        assert code_of(response) == expected, what
        if expected == "PAYLOAD_TOO_LARGE":
            assert response.status_code == 413, what
    assert await table_counts(services, *CONTENT_TABLES) == dict.fromkeys(CONTENT_TABLES, 0)
    assert await storage_keys(backend, f"{org.id}/") == []


async def test_refusals_are_audited_as_failures(http, api, factory, org, ed):
    admin = await member(factory, api, org, "ADMIN")
    assert code_of(await upload(http, ed.token, ed.drive, png(), file_name="fake.pdf")) == "UNSUPPORTED_MEDIA_TYPE"
    entries = await api.ok("""{ auditLog(filter: {status: FAILURE}) { edges { node {
                               action resourceType user { id } } } } }""", token=admin.token)
    assert {"action": "CREATE", "resourceType": "DOCUMENT", "user": {"id": ed.id}} in [
        e["node"] for e in entries["auditLog"]["edges"]]


async def test_text_types_need_utf8_without_nul_and_zip_based_office_files_pass(http, ed):
    csv = "name;city\nZoë;Zürich\n".encode()
    document = await uploaded(http, ed.token, ed.drive, csv, file_name="people.csv", content_type="text/csv")
    assert document["contentType"] == "text/csv"
    markdown = await uploaded(http, ed.token, ed.drive, b"# Title\n", file_name="README.md",
                              content_type="application/octet-stream")
    assert markdown["contentType"] == "text/markdown"  # guessed from the extension
    word = await uploaded(http, ed.token, ed.drive, docx(), file_name="letter.docx",
                          content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert word["fileSize"] == len(docx())


async def test_the_organizations_whitelist_replaces_the_default(http, factory, api):
    org = await factory.organization(allowed_content_types=["text/plain"])
    ann = await member(factory, api, org, "EDITOR")
    assert code_of(await upload(http, ann.token, ann.drive, pdf())) == "UNSUPPORTED_MEDIA_TYPE"
    await uploaded(http, ann.token, ann.drive, b"plain words", file_name="a.txt", content_type="text/plain")


async def test_names_are_unique_per_folder_case_insensitively(http, api, ed):
    await uploaded(http, ed.token, ed.drive, file_name="Plan.pdf")
    response = await upload(http, ed.token, ed.drive, pdf(seed=2), file_name="PLAN.PDF")
    assert code_of(response) == "CONFLICT"
    other = await uploaded(http, ed.token, ed.drive, pdf(seed=3), file_name="Other.pdf")
    rename = """mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { name } } }"""
    assert await api.code(rename, {"input": {"documentId": other["id"], "name": "plan.pdf"}},
                          token=ed.token) == "CONFLICT"


async def test_quota_counts_each_content_once_and_refuses_what_does_not_fit(http, services, factory, api):
    org = await factory.organization(storage_quota=10_000)
    ann = await member(factory, api, org, "EDITOR")
    first = pdf(6000, seed=1)
    await uploaded(http, ann.token, ann.drive, first, file_name="a.pdf")
    await uploaded(http, ann.token, ann.drive, first, file_name="copy.pdf")  # same bytes: no new usage
    response = await upload(http, ann.token, ann.drive, pdf(6000, seed=2), file_name="b.pdf")
    assert code_of(response) == "QUOTA_EXCEEDED"
    assert await table_counts(services, "blob", "document") == {"blob": 1, "document": 2}
    await uploaded(http, ann.token, ann.drive, pdf(4000, seed=3), file_name="c.pdf")  # fits exactly


async def test_refused_replace_keeps_the_document_as_it_was(http, api, ed):
    document = await uploaded(http, ed.token, ed.drive)
    assert code_of(await replace(http, ed.token, document["id"], pdf(seed=4), changeComment="c" * 501)) \
        == "BAD_USER_INPUT"
    assert code_of(await replace(http, ed.token, document["id"], png(), content_type="image/jpeg")) \
        == "UNSUPPORTED_MEDIA_TYPE"
    assert code_of(await replace(http, ed.token, document["id"], pdf(100_001))) == "PAYLOAD_TOO_LARGE"
    data = await api.ok(DOCUMENT, {"id": document["id"]}, token=ed.token)
    assert data["document"]["versionCount"] == 1


async def test_file_must_be_a_multipart_file_part(api, ed):
    error = await api.error(UPLOAD, {"input": {"folderId": ed.drive, "file": "not a file"}}, token=ed.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "multipart" in error["message"]
