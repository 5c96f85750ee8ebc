"""The trash: one entry per delete, restore of a folder with its documents, restore rules."""

from __future__ import annotations

import pytest

from tests.api.documents_helpers import DOCUMENT, folder, member, pdf, uploaded

TRASH = """query($first: Int, $after: String) { trash(first: $first, after: $after) {
             totalCount pageInfo { hasNextPage endCursor }
             edges { node { __typename ... on Folder { name deletedAt } ... on Document { name deletedAt } } } } }"""
DELETE_DOCUMENT = "mutation($id: ID!) { deleteDocument(input: {documentId: $id}) { document { id } } }"
RESTORE_DOCUMENT = "mutation($id: ID!) { restoreDocument(input: {id: $id}) { document { name deletedAt } } }"
DELETE_FOLDER = "mutation($id: ID!) { deleteFolder(input: {folderId: $id}) { folder { id } } }"
RESTORE_FOLDER = "mutation($id: ID!) { restoreFolder(input: {id: $id}) { folder { id } } }"


@pytest.fixture
async def org(factory):
    return await factory.organization()


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR", first_name="Ed")


async def trash_of(api, token) -> list[tuple[str, str]]:
    data = (await api.ok(TRASH, token=token))["trash"]
    assert data["totalCount"] == len(data["edges"])
    return [(e["node"]["__typename"], e["node"]["name"]) for e in data["edges"]]


async def test_a_deleted_folder_is_one_entry_and_its_restore_brings_its_documents_back(http, api, ed):
    projects = await folder(api, ed, ed.drive, "Projects")
    inner = await folder(api, ed, projects, "Inner")
    a = await uploaded(http, ed.token, projects, file_name="a.pdf")
    b = await uploaded(http, ed.token, inner, pdf(seed=1), file_name="b.pdf")
    alone = await uploaded(http, ed.token, ed.drive, pdf(seed=2), file_name="alone.pdf")
    await api.ok(DELETE_DOCUMENT, {"id": alone["id"]}, token=ed.token)
    await api.ok(DELETE_FOLDER, {"id": projects}, token=ed.token)
    assert await trash_of(api, ed.token) == [("Folder", "Projects"), ("Document", "alone.pdf")]
    for document in (a, b):
        assert await api.code(DOCUMENT, {"id": document["id"]}, token=ed.token) == "NOT_FOUND"
        # Restoring a document of a deleted folder: CONFLICT (restore the folder)
        assert await api.code(RESTORE_DOCUMENT, {"id": document["id"]}, token=ed.token) == "CONFLICT"
    await api.ok(RESTORE_FOLDER, {"id": projects}, token=ed.token)
    for document in (a, b):
        assert (await api.ok(DOCUMENT, {"id": document["id"]}, token=ed.token))["document"]["deletedAt"] is None
    assert await trash_of(api, ed.token) == [("Document", "alone.pdf")]
    restored = await api.ok(RESTORE_DOCUMENT, {"id": alone["id"]}, token=ed.token)
    assert restored["restoreDocument"]["document"]["deletedAt"] is None
    assert await trash_of(api, ed.token) == []


async def test_a_document_deleted_before_its_folder_stays_deleted_when_the_folder_returns(http, api, ed):
    box = await folder(api, ed, ed.drive, "Box")
    early = await uploaded(http, ed.token, box, file_name="early.pdf")
    await api.ok(DELETE_DOCUMENT, {"id": early["id"]}, token=ed.token)
    await api.ok(DELETE_FOLDER, {"id": box}, token=ed.token)
    assert sorted(await trash_of(api, ed.token)) == [("Document", "early.pdf"), ("Folder", "Box")]
    await api.ok(RESTORE_FOLDER, {"id": box}, token=ed.token)
    assert await api.code(DOCUMENT, {"id": early["id"]}, token=ed.token) == "NOT_FOUND"
    await api.ok(RESTORE_DOCUMENT, {"id": early["id"]}, token=ed.token)


async def test_members_see_their_own_deletions_admins_see_all(http, api, factory, org, ed):
    eve = await member(factory, api, org, "EDITOR", first_name="Eve")
    ada = await member(factory, api, org, "ADMIN", first_name="Ada")
    mine = await uploaded(http, ed.token, ed.drive, file_name="ed.pdf")
    hers = await uploaded(http, eve.token, eve.drive, pdf(seed=1), file_name="eve.pdf")
    await api.ok(DELETE_DOCUMENT, {"id": mine["id"]}, token=ed.token)
    await api.ok(DELETE_DOCUMENT, {"id": hers["id"]}, token=eve.token)
    # Ed (editor) sees his deletion only; Ada (org admin) sees both
    assert await trash_of(api, ed.token) == [("Document", "ed.pdf")]
    assert await trash_of(api, eve.token) == [("Document", "eve.pdf")]
    assert sorted(await trash_of(api, ada.token)) == [("Document", "ed.pdf"), ("Document", "eve.pdf")]
    # Ed on Eve's deleted document (never visible to him): NOT_FOUND
    assert await api.code(RESTORE_DOCUMENT, {"id": hers["id"]}, token=ed.token) == "NOT_FOUND"
    page = (await api.ok(TRASH, {"first": 1}, token=ada.token))["trash"]
    rest = (await api.ok(TRASH, {"first": 1, "after": page["pageInfo"]["endCursor"]}, token=ada.token))["trash"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert {page["edges"][0]["node"]["name"], rest["edges"][0]["node"]["name"]} == {"ed.pdf", "eve.pdf"}
