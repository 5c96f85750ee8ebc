"""The approval workflow's life cycles: replace, delete of a document, delete of a non-empty
folder; requested by an editor who is no reviewer, approved by a reviewer (world: approvals_helpers)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from docgraph import models
from tests.api.approvals_helpers import (
    APPROVALS,
    APPROVE,
    DELETE_DOCUMENT,
    DELETE_FOLDER,
    DOCUMENT,
    DOCUMENT_APPROVALS,
    NODE,
    blob_of,
    decide,
    make_world,
    notifications,
    replace,
    stored_keys,
    upload_to,
)
from tests.api.documents_helpers import folder, pdf, sha256
from tests.api.tenancy_helpers import audit_rows


@pytest.fixture
async def world(factory, api, http):
    return await make_world(factory, api, http)


async def test_replace_by_an_editor_waits_for_review_then_applies_as_the_editors_version(
        http, api, services, world):
    w, new = world, pdf(3000, seed=7)
    payload = await replace(http, w.ed, w.doc["id"], new, changeComment="Q3 numbers")
    # Ed (UPDATE through a share, no reviewer): nothing changes yet; the content is staged.
    assert payload["document"] is None
    approval = payload["approval"]
    assert (approval["action"], approval["status"], approval["comment"]) == ("REPLACE", "PENDING", "Q3 numbers")
    assert (approval["stagedContentHash"], approval["stagedFileSize"], approval["stagedContentType"]) == \
        (sha256(new), len(new), "application/pdf")
    assert approval["requestedBy"]["id"] == w.ed.id and approval["reviewedBy"] is None
    assert approval["resource"] == {"__typename": "Document", "id": w.doc["id"], "name": "plan.pdf",
                                    "deletedAt": None}
    document = (await api.ok(DOCUMENT, {"id": w.doc["id"]}, token=w.ed.token))["document"]
    assert document["versionCount"] == 1
    staged = await blob_of(services, sha256(new))
    assert staged is not None and staged.purged_at is None and staged.storage_key in await stored_keys(services.storage)
    async with services.db.reading() as session:
        assert (await session.execute(select(models.DocumentVersion).where(
            models.DocumentVersion.blob_id == staged.id))).first() is None
    # Every reviewer (Ada: organization admin; Dana: department admin) is told; Ed and Eve are not.
    for reviewer in (w.ada, w.dana):
        (note,) = await notifications(api, reviewer)
        assert note["type"] == "APPROVAL_REQUESTED" and note["resource"] == {"id": approval["id"]}
        assert "Ed" in note["message"] and "plan.pdf" in note["message"]
    assert await notifications(api, w.ed) == [] and await notifications(api, w.eve) == []
    # Ada sees it among the approvals she may review, and on the document; Ed among his own.
    for who in (w.ada, w.dana, w.ed):
        listed = (await api.ok(APPROVALS, {"status": "PENDING"}, token=who.token))["approvals"]
        assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["id"] == approval["id"]
        on_document = (await api.ok(DOCUMENT_APPROVALS, {"id": w.doc["id"]}, token=who.token))["document"]
        assert [e["node"]["id"] for e in on_document["approvals"]["edges"]] == [approval["id"]]

    decided = await decide(api, APPROVE, w.ada, approval["id"], "looks right")
    assert (decided["status"], decided["reviewComment"], decided["reviewedBy"]) == \
        ("APPROVED", "looks right", {"id": w.ada.id})
    assert decided["reviewedAt"] is not None
    document = (await api.ok(DOCUMENT, {"id": w.doc["id"]}, token=w.ed.token))["document"]
    assert document["versionCount"] == 2
    assert document["currentVersion"] == {"versionNumber": 2, "contentHash": sha256(new),
                                          "createdBy": {"id": w.ed.id}}
    (note,) = await notifications(api, w.ed)
    assert note["type"] == "APPROVAL_DECIDED" and note["resource"] == {"id": approval["id"]}
    assert "Ada Admin approved" in note["message"] and "looks right" in note["message"]
    assert (await api.ok(APPROVALS, {"status": "PENDING"}, token=w.ada.token))["approvals"]["totalCount"] == 0
    assert (await api.ok(NODE, {"id": approval["id"]}, token=w.ed.token))["node"]["status"] == "APPROVED"
    # Audit: the request, the decision, and the change it applied (by Ada, for Ed's request).
    (requested,) = await audit_rows(services, "APPROVAL_REQUEST")
    (approved,) = await audit_rows(services, "APPROVE")
    assert requested["resource_type"] == approved["resource_type"] == "APPROVAL"
    assert requested["user_id"] == w.ed.user.id and approved["user_id"] == w.ada.user.id
    applied = [row for row in await audit_rows(services, "UPDATE") if row["resource_type"] == "DOCUMENT"]
    assert applied[-1]["change_details"]["approvalId"] == str(requested["resource_id"])
    assert applied[-1]["change_details"]["requestedBy"] == str(w.ed.user.id)


async def test_delete_of_a_document_by_an_editor_waits_then_goes_to_the_trash(api, services, world):
    w = world
    requested = (await api.ok(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"], "comment": "obsolete"}},
                              token=w.ed.token))["deleteDocument"]
    assert requested["document"] is None
    approval = requested["approval"]
    assert (approval["action"], approval["status"], approval["comment"]) == ("DELETE", "PENDING", "obsolete")
    assert approval["stagedContentHash"] is None
    assert (await api.ok(DOCUMENT, {"id": w.doc["id"]}, token=w.ed.token))["document"]["deletedAt"] is None

    decided = await decide(api, APPROVE, w.dana, approval["id"])
    assert decided["status"] == "APPROVED" and decided["resource"]["deletedAt"] is not None
    assert await api.code(DOCUMENT, {"id": w.doc["id"]}, token=w.ed.token) == "NOT_FOUND"
    trash = await api.ok("{ trash { edges { node { ... on Document { id } } } } }", token=w.ada.token)
    assert [e["node"]["id"] for e in trash["trash"]["edges"]] == [w.doc["id"]]
    (deleted,) = [row for row in await audit_rows(services, "DELETE") if row["resource_type"] == "DOCUMENT"]
    assert deleted["user_id"] == w.dana.user.id and deleted["change_details"]["comment"] == "obsolete"
    assert deleted["change_details"]["requestedBy"] == str(w.ed.user.id)


async def test_delete_of_a_non_empty_folder_waits_while_an_empty_one_goes_at_once(http, api, world):
    w = world
    old = await folder(api, w.ed, w.reports, "Old")
    await upload_to(http, w.ed, old, seed=3, name="old.pdf")
    empty = await folder(api, w.ed, w.reports, "Empty")
    # Ed has DELETE on both (he even created them), but is no reviewer of Finance.
    requested = (await api.ok(DELETE_FOLDER, {"input": {"folderId": old, "comment": "cleanup"}},
                              token=w.ed.token))["deleteFolder"]
    assert requested["folder"] is None
    approval = requested["approval"]
    assert (approval["action"], approval["status"]) == ("DELETE", "PENDING")
    assert approval["resource"] == {"__typename": "Folder", "id": old, "name": "Old", "deletedAt": None}
    direct = (await api.ok(DELETE_FOLDER, {"input": {"folderId": empty}}, token=w.ed.token))["deleteFolder"]
    assert direct["approval"] is None and direct["folder"]["deletedAt"] is not None
    (note,) = await notifications(api, w.dana)
    assert note["type"] == "APPROVAL_REQUESTED" and "folder" in note["message"]

    decided = await decide(api, APPROVE, w.ada, approval["id"])
    assert decided["status"] == "APPROVED" and decided["resource"]["deletedAt"] is not None
    folder_query = "query($id: ID!) { folder(id: $id) { id } }"
    assert await api.code(folder_query, {"id": old}, token=w.ed.token) == "NOT_FOUND"
    children = await api.ok("query($id: ID!) { folder(id: $id) { children { totalCount } } }",
                            {"id": w.reports}, token=w.ada.token)
    assert children["folder"]["children"]["totalCount"] == 0


async def test_a_reviewers_own_changes_apply_directly(http, api, world):
    w = world
    # Dana reviews Finance (department admin): her replace is a new version at once.
    payload = await replace(http, w.dana, w.doc["id"], pdf(1500, seed=9))
    assert payload["approval"] is None and payload["document"]["versionCount"] == 2
    # Ed reviews his own My Drive: there he needs nobody.
    mine = await upload_to(http, w.ed, w.ed.drive, seed=4, name="mine.pdf")
    payload = await replace(http, w.ed, mine["id"], pdf(1500, seed=5))
    assert payload["approval"] is None and payload["document"]["currentVersion"]["versionNumber"] == 2
    deleted = (await api.ok(DELETE_DOCUMENT, {"input": {"documentId": mine["id"]}}, token=w.ed.token))["deleteDocument"]
    assert deleted["approval"] is None and deleted["document"]["deletedAt"] is not None
    assert (await api.ok(APPROVALS, token=w.ada.token))["approvals"]["totalCount"] == 0
