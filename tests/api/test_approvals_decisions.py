"""Deciding approvals: reject and cancel (and the cleanup of staged content), who may decide,
one decision under concurrency, requests that went stale (world: approvals_helpers)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from docgraph import models
from docgraph.events.worker import HANDLERS, JobContext, run_once
from docgraph.globalid import decode, encode
from tests.api.approvals_helpers import (
    APPROVE,
    CANCEL,
    DELETE_DOCUMENT,
    DOCUMENT,
    NODE,
    REJECT,
    blob_of,
    decide,
    make_world,
    notifications,
    replace,
    replace_raw,
    stored_keys,
    upload_to,
)
from tests.api.documents_helpers import code_of, pdf, sha256
from tests.api.tenancy_helpers import audit_rows

LOCK = """mutation($input: LockDocumentInput!) { lockDocument(input: $input) { document { id } } }"""


@pytest.fixture
async def world(factory, api, http):
    return await make_world(factory, api, http)


async def requested_replace(http, world, content: bytes) -> dict:
    return (await replace(http, world.ed, world.doc["id"], content))["approval"]


async def cleanup_jobs(services) -> list[models.OutboxJob]:
    async with services.db.reading() as session:
        return list((await session.execute(select(models.OutboxJob).where(
            models.OutboxJob.kind == "approval.cleanup"))).scalars())


async def test_reject_tells_the_requester_and_the_worker_reclaims_the_staged_content(http, api, services, world):
    w, new = world, pdf(2500, seed=11)
    approval = await requested_replace(http, w, new)
    staged = await blob_of(services, sha256(new))
    decided = await decide(api, REJECT, w.dana, approval["id"], "wrong file")
    assert (decided["status"], decided["reviewedBy"], decided["reviewComment"]) == \
        ("REJECTED", {"id": w.dana.id}, "wrong file")
    (note,) = await notifications(api, w.ed)
    assert note["type"] == "APPROVAL_DECIDED" and "rejected" in note["message"] and "wrong file" in note["message"]
    assert (await api.ok(DOCUMENT, {"id": w.doc["id"]}, token=w.ed.token))["document"]["versionCount"] == 1
    (job,) = await cleanup_jobs(services)
    assert job.payload == {"approvalId": str(decode(decided["id"])[1])}
    assert await run_once(services.db, services.storage, services.settings) >= 1
    (job,) = await cleanup_jobs(services)
    assert job.completed_at is not None and job.last_error is None
    assert (await blob_of(services, sha256(new))).purged_at is not None
    assert staged.storage_key not in await stored_keys(services.storage)
    # The handler runs again (a retry after a crash): nothing more happens, nothing fails.
    async with services.db.transaction() as session:
        await HANDLERS["approval.cleanup"](JobContext(session, services.storage, services.settings), job.payload)
    assert (await blob_of(services, sha256(new))).purged_at is not None
    (rejected,) = await audit_rows(services, "REJECT")
    assert rejected["user_id"] == w.dana.user.id and rejected["change_details"]["comment"] == "wrong file"


async def test_cleanup_keeps_content_that_something_else_still_uses(http, api, services, world):
    w = world
    shared = pdf(1800, seed=12)
    kept = await upload_to(http, w.ada, w.reports, seed=0, name="other.pdf")
    await replace(http, w.ada, kept["id"], shared)  # a version of another document holds it
    first = await requested_replace(http, w, shared)
    await decide(api, REJECT, w.ada, first["id"])
    await run_once(services.db, services.storage, services.settings)
    assert (await blob_of(services, sha256(shared))).purged_at is None
    # Ed's two requests on two documents stage the same content; cancelling one keeps it for the other.
    other = pdf(1900, seed=13)
    second = (await replace(http, w.ed, kept["id"], other))["approval"]
    third = await requested_replace(http, w, other)
    await decide(api, CANCEL, w.ed, third["id"])
    await run_once(services.db, services.storage, services.settings)
    blob = await blob_of(services, sha256(other))
    assert blob.purged_at is None and blob.storage_key in await stored_keys(services.storage)
    assert (await decide(api, APPROVE, w.ada, second["id"]))["status"] == "APPROVED"


async def test_cancel_is_for_the_requester_alone(http, api, services, world):
    w, new = world, pdf(2200, seed=14)
    approval = await requested_replace(http, w, new)
    variables = {"input": {"approvalId": approval["id"]}}
    # Ada reviews it but did not ask: she rejects, she does not cancel.
    assert await api.code(CANCEL, variables, token=w.ada.token) == "FORBIDDEN"
    assert await api.code(CANCEL, variables, token=w.eve.token) == "NOT_FOUND"
    decided = await decide(api, CANCEL, w.ed, approval["id"], "sent the wrong one")
    assert decided["status"] == "CANCELLED" and decided["reviewedBy"] is None and decided["reviewedAt"]
    # The reviewers need not look at it any more.
    for reviewer in (w.ada, w.dana):
        assert [n["type"] for n in await notifications(api, reviewer)] == ["APPROVAL_DECIDED", "APPROVAL_REQUESTED"]
    assert await api.code(CANCEL, variables, token=w.ed.token) == "CONFLICT"
    assert await api.code(APPROVE, variables, token=w.ada.token) == "CONFLICT"
    await run_once(services.db, services.storage, services.settings)
    assert (await blob_of(services, sha256(new))).purged_at is not None


async def test_who_may_see_and_decide_a_request(http, api, services, world, factory):
    w = world
    approval = await requested_replace(http, w, pdf(2100, seed=15))
    variables = {"input": {"approvalId": approval["id"]}}
    # Ed asked: he sees it but may not decide it.
    assert await api.code(APPROVE, variables, token=w.ed.token) == "FORBIDDEN"
    assert await api.code(REJECT, variables, token=w.ed.token) == "FORBIDDEN"
    # Eve sees the document (a VIEW share) but reviews nothing here: the request does not exist for her.
    await api.ok("""mutation($input: ShareInput!) { share(input: $input) { share { id } } }""",
                 {"input": {"resourceId": w.doc["id"], "subjectId": w.eve.id, "capabilities": ["VIEW"]}},
                 token=w.ada.token)
    for mutation in (APPROVE, REJECT, CANCEL):
        assert await api.code(mutation, variables, token=w.eve.token) == "NOT_FOUND"
    assert (await api.ok(NODE, {"id": approval["id"]}, token=w.eve.token))["node"] is None
    # Someone of another organization: NOT_FOUND as well.
    stranger_org = await factory.organization()
    stranger = await factory.user(stranger_org, "ADMIN")
    assert await api.code(APPROVE, variables, token=factory.token(stranger, stranger_org)) == "NOT_FOUND"
    # Refusals are audited as failures on the approval.
    failures = [row for row in await audit_rows(services, "APPROVE") if row["status"] == "FAILURE"]
    assert {row["change_details"]["code"] for row in failures} == {"FORBIDDEN", "NOT_FOUND"}
    assert (await decide(api, APPROVE, w.ada, approval["id"]))["status"] == "APPROVED"


async def test_bad_review_input(api, world):
    w = world
    assert await api.code(APPROVE, {"input": {"approvalId": "nonsense"}}, token=w.ada.token) == "BAD_USER_INPUT"
    assert await api.code(APPROVE, {"input": {"approvalId": w.doc["id"]}}, token=w.ada.token) == "BAD_USER_INPUT"
    missing = encode("Approval", uuid.uuid4())
    assert await api.code(APPROVE, {"input": {"approvalId": missing}}, token=w.ada.token) == "NOT_FOUND"
    assert await api.code(APPROVE, {"input": {"approvalId": missing}}) == "UNAUTHENTICATED"
    requested = (await api.ok(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"]}}, token=w.ed.token))
    approval_id = requested["deleteDocument"]["approval"]["id"]
    too_long = {"input": {"approvalId": approval_id, "comment": "x" * 1001}}
    assert await api.code(REJECT, too_long, token=w.ada.token) == "BAD_USER_INPUT"
    # Asking twice for the same change: CONFLICT, the first request stands.
    assert await api.code(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"]}}, token=w.ed.token) == "CONFLICT"


async def test_two_reviewers_approving_at_once_make_one_decision(http, api, services, world):
    w = world
    approval = await requested_replace(http, w, pdf(2600, seed=16))
    variables = {"input": {"approvalId": approval["id"]}}
    results = await asyncio.gather(api.raw(APPROVE, variables, token=w.ada.token),
                                   api.raw(APPROVE, variables, token=w.dana.token))
    outcomes = sorted(r["errors"][0]["extensions"]["code"] if r.get("errors") else r["data"]["approve"]["approval"]
                      ["status"] for r in results)
    assert outcomes == ["APPROVED", "CONFLICT"]
    assert (await api.ok(DOCUMENT, {"id": w.doc["id"]}, token=w.ada.token))["document"]["versionCount"] == 2
    assert len([n for n in await notifications(api, w.ed) if n["type"] == "APPROVAL_DECIDED"]) == 1


async def test_a_request_that_went_stale_is_refused_with_the_reason(http, api, world):
    w = world
    # Replaced meanwhile (Dana's own replace applies at once): Ed's content is based on version 1.
    stale = await requested_replace(http, w, pdf(2700, seed=17))
    await replace(http, w.dana, w.doc["id"], pdf(2800, seed=18))
    error = await api.error(APPROVE, {"input": {"approvalId": stale["id"]}}, token=w.ada.token)
    assert error["extensions"]["code"] == "CONFLICT" and "changed since the request" in error["message"]
    assert (await decide(api, REJECT, w.ada, stale["id"]))["status"] == "REJECTED"  # it can still be closed

    # Locked meanwhile by someone who is neither the requester nor the approver.
    locked = await requested_replace(http, w, pdf(2900, seed=19))
    await api.ok(LOCK, {"input": {"documentId": w.doc["id"]}}, token=w.dana.token)
    error = await api.error(APPROVE, {"input": {"approvalId": locked["id"]}}, token=w.ada.token)
    assert error["extensions"]["code"] == "CONFLICT" and "locked" in error["message"]
    # Dana holds the lock herself: approving is her call.
    assert (await decide(api, APPROVE, w.dana, locked["id"]))["status"] == "APPROVED"

    # Deleted meanwhile.
    await api.ok("""mutation($input: UnlockDocumentInput!) { unlockDocument(input: $input) { document { id } } }""",
                 {"input": {"documentId": w.doc["id"]}}, token=w.dana.token)
    gone = (await api.ok(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"]}}, token=w.ed.token))
    await api.ok(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"]}}, token=w.ada.token)
    error = await api.error(APPROVE, {"input": {"approvalId": gone["deleteDocument"]["approval"]["id"]}},
                            token=w.dana.token)
    assert error["extensions"]["code"] == "CONFLICT" and "deleted" in error["message"]


async def test_a_lock_refuses_the_request_itself(http, api, world):
    w = world
    await api.ok(LOCK, {"input": {"documentId": w.doc["id"]}}, token=w.ada.token)
    assert code_of(await replace_raw(http, w.ed, w.doc["id"], pdf(3100, seed=20))) == "LOCKED"
    assert await api.code(DELETE_DOCUMENT, {"input": {"documentId": w.doc["id"]}}, token=w.ed.token) == "LOCKED"
