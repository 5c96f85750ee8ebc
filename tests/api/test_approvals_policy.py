"""The approval policy and the organization settings that hold it; who sees which approvals;
the orphan sweep and upload sessions around staged content (world: approvals_helpers)."""

from __future__ import annotations

import pytest

from tests.api.approvals_helpers import (
    APPROVALS,
    APPROVE,
    DELETE_DOCUMENT,
    DELETE_FOLDER,
    blob_of,
    decide,
    make_world,
    replace,
    stored_keys,
    upload_to,
)
from tests.api.documents_helpers import PDF_TYPE, code_of, folder, pdf, png, sha256, share, upload
from tests.api.tenancy_helpers import audit_rows
from tests.api.test_documents_sweep import run_sweep

SETTINGS = """{ organizationSettings { approvalPolicy trashRetentionDays maxDocumentSize storageQuota
                                      allowedContentTypes } }"""
UPDATE_SETTINGS = """mutation($input: UpdateOrganizationSettingsInput!) { updateOrganizationSettings(input: $input) {
    settings { approvalPolicy trashRetentionDays maxDocumentSize storageQuota allowedContentTypes } } }"""
START = """mutation($input: StartUploadInput!) { startUpload(input: $input) { id parts { url } } }"""
COMPLETE = """mutation($input: CompleteUploadInput!) { completeUpload(input: $input) {
    document { id } approval { id action stagedContentHash } } }"""


@pytest.fixture
async def world(factory, api, http):
    return await make_world(factory, api, http)


async def test_settings_defaults_and_who_may_change_them(api, services, world):
    w = world
    settings = (await api.ok(SETTINGS, token=w.ed.token))["organizationSettings"]
    assert settings["approvalPolicy"] == ["DOCUMENT_REPLACE", "DOCUMENT_DELETE", "FOLDER_DELETE_NONEMPTY"]
    assert settings["trashRetentionDays"] == 30 and settings["storageQuota"] is None
    assert settings["maxDocumentSize"] == 500 * 1024 * 1024 and PDF_TYPE in settings["allowedContentTypes"]
    # Dana administers a department, not the organization; Ed is an editor.
    for who in (w.dana, w.ed):
        assert await api.code(UPDATE_SETTINGS, {"input": {"trashRetentionDays": 7}}, token=who.token) == "FORBIDDEN"
    for bad in ({"trashRetentionDays": 0}, {"maxDocumentSize": -1}, {"storageQuota": -5},
                {"allowedContentTypes": []}, {"allowedContentTypes": ["not a type"]},
                {"approvalPolicy": ["DELETE_EVERYTHING"]}):
        assert await api.code(UPDATE_SETTINGS, {"input": bad}, token=w.ada.token) == "BAD_USER_INPUT", bad
    changed = (await api.ok(UPDATE_SETTINGS, {"input": {"trashRetentionDays": 7, "storageQuota": 10**9,
                                                         "allowedContentTypes": ["Application/PDF", "text/plain"]}},
                            token=w.ada.token))["updateOrganizationSettings"]["settings"]
    assert (changed["trashRetentionDays"], changed["storageQuota"], changed["allowedContentTypes"]) == \
        (7, 10**9, ["application/pdf", "text/plain"])
    assert changed["approvalPolicy"] == settings["approvalPolicy"]  # omitted: kept
    restored = (await api.ok(UPDATE_SETTINGS, {"input": {"storageQuota": None, "trashRetentionDays": None}},
                             token=w.ada.token))["updateOrganizationSettings"]["settings"]
    assert restored["storageQuota"] is None and restored["trashRetentionDays"] == 30
    rows = [row for row in await audit_rows(services, "UPDATE") if row["resource_type"] == "ORGANIZATION"]
    # Two FORBIDDEN and five BAD_USER_INPUT (the unknown enum value never reaches the service).
    assert [row["status"] for row in rows] == ["FAILURE"] * 7 + ["SUCCESS", "SUCCESS"]
    assert rows[-2]["change_details"]["settings"]["after"]["trash_retention_days"] == 7


async def test_content_settings_are_the_ones_uploads_obey(http, api, world):
    w = world
    await api.ok(UPDATE_SETTINGS, {"input": {"maxDocumentSize": 1000, "allowedContentTypes": [PDF_TYPE]}},
                 token=w.ada.token)
    assert code_of(await upload(http, w.ed.token, w.ed.drive, pdf(1200))) == "PAYLOAD_TOO_LARGE"
    assert code_of(await upload(http, w.ed.token, w.ed.drive, png(500), file_name="a.png",
                                content_type="image/png")) == "UNSUPPORTED_MEDIA_TYPE"


async def test_without_document_replace_in_the_policy_an_editors_replace_applies_at_once(http, api, world):
    w = world
    policy = {"approvalPolicy": ["DOCUMENT_DELETE"]}
    settings = (await api.ok(UPDATE_SETTINGS, {"input": policy}, token=w.ada.token))
    assert settings["updateOrganizationSettings"]["settings"]["approvalPolicy"] == ["DOCUMENT_DELETE"]
    payload = await replace(http, w.ed, w.doc["id"], pdf(2000, seed=21))
    assert payload["approval"] is None
    assert payload["document"]["currentVersion"]["createdBy"] == {"id": w.ed.id}
    # Deleting still waits; a non-empty folder no longer does.
    deleted = await api.ok(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"]}}, token=w.ed.token)
    assert deleted["deleteDocument"]["approval"]["action"] == "DELETE"
    old = await folder(api, w.ed, w.reports, "Old")
    await upload_to(http, w.ed, old, seed=22, name="x.pdf")
    direct = await api.ok(DELETE_FOLDER, {"input": {"folderId": old}}, token=w.ed.token)
    assert direct["deleteFolder"]["approval"] is None and direct["deleteFolder"]["folder"]["deletedAt"]
    # An empty policy: nothing waits.
    await api.ok(UPDATE_SETTINGS, {"input": {"approvalPolicy": []}}, token=w.ada.token)
    other = await upload_to(http, w.ada, w.reports, seed=23, name="other.pdf")
    deleted = await api.ok(DELETE_DOCUMENT, {"input": {"documentId": other["id"]}}, token=w.ed.token)
    assert deleted["deleteDocument"]["document"]["deletedAt"] is not None


async def test_each_viewer_lists_the_approvals_it_reviews_or_requested(http, api, factory, world):
    w = world
    # Eve may change a folder of Ed's My Drive: Ed reviews what she asks there, not Ada's department.
    private = await folder(api, w.ed, w.ed.drive, "Shared with Eve")
    mine = await upload_to(http, w.ed, private, seed=24, name="mine.pdf")
    await share(api, w.ed, private, w.eve, "VIEW", "UPDATE", "DELETE")
    eves = (await replace(http, w.eve, mine["id"], pdf(2000, seed=25)))["approval"]
    eds = [(await replace(http, w.ed, w.doc["id"], pdf(2000, seed=26)))["approval"],
           (await api.ok(DELETE_FOLDER, {"input": {"folderId": w.reports}}, token=w.ed.token))
           ["deleteFolder"]["approval"]]
    # An admin of another department reviews none of them.
    other_admin = await factory.user(w.org, "EDITOR")
    await factory.department(w.org, "Sales", by=w.ada.user, admins=(other_admin,))

    async def listed(token, **variables):
        page = (await api.ok(APPROVALS, variables, token=token))["approvals"]
        return page["totalCount"], [edge["node"]["id"] for edge in page["edges"]]

    newest_first = [eds[1]["id"], eds[0]["id"], eves["id"]]
    assert await listed(w.ada.token) == (3, newest_first)            # organization admin: everything
    assert await listed(w.dana.token) == (2, newest_first[:2])       # Finance only
    assert await listed(w.ed.token) == (3, newest_first)             # his two requests, and Eve's in his drive
    assert await listed(w.eve.token) == (1, [eves["id"]])            # her own request
    assert await listed(factory.token(other_admin, w.org)) == (0, [])
    # Keyset pages, exact counts, the status filter.
    first = (await api.ok(APPROVALS, {"first": 2}, token=w.ada.token))["approvals"]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == 3
    rest = await listed(w.ada.token, first=2, after=first["pageInfo"]["endCursor"])
    assert rest == (3, [eves["id"]])
    await decide(api, APPROVE, w.ed, eves["id"])  # Ed, owner of the drive, approves Eve's request
    assert await listed(w.ada.token, status="APPROVED") == (1, [eves["id"]])
    assert await listed(w.ada.token, status="PENDING") == (2, newest_first[:2])
    assert await api.code(APPROVALS, {"after": "garbage"}, token=w.ada.token) == "BAD_USER_INPUT"
    assert await api.code(APPROVALS, {"first": 101}, token=w.ada.token) == "BAD_USER_INPUT"


async def test_the_orphan_sweep_keeps_a_pending_requests_staged_content(http, api, services, settings, world):
    w, new = world, pdf(2300, seed=27)
    settings.upload_grace_seconds = 0
    approval = (await replace(http, w.ed, w.doc["id"], new))["approval"]
    await run_sweep(services)
    blob = await blob_of(services, sha256(new))
    assert blob.purged_at is None and blob.storage_key in await stored_keys(services.storage)
    assert (await decide(api, APPROVE, w.ada, approval["id"]))["status"] == "APPROVED"
    download = await api.ok("query($id: ID!) { document(id: $id) { downloadUrl } }", {"id": w.doc["id"]},
                            token=w.ed.token)
    response = await http.get(download["document"]["downloadUrl"])
    assert response.status_code == 200 and response.content == new


async def test_a_new_version_from_an_upload_session_waits_like_replace(http, api, world):
    w, new = world, pdf(2400, seed=28)
    started = (await api.ok(START, {"input": {"documentId": w.doc["id"], "fileName": "n.pdf", "contentType": PDF_TYPE,
                                              "size": len(new)}}, token=w.ed.token))["startUpload"]
    (part,) = started["parts"]
    assert (await http.put(part["url"], content=new)).status_code == 200
    completed = (await api.ok(COMPLETE, {"input": {"uploadId": started["id"]}}, token=w.ed.token))["completeUpload"]
    assert completed["document"] is None
    assert (completed["approval"]["action"], completed["approval"]["stagedContentHash"]) == ("REPLACE", sha256(new))
