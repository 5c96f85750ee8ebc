"""Upload sessions reserve storage (issue 18 #5): their declared size counts against the quota
from the start, a user and an organization hold only so many at once, and the parts of a
session given up or abandoned are reclaimed before its 24 h expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from docgraph.globalid import decode_as
from docgraph.models import UploadSession
from docgraph.services import uploads
from tests.api.documents_helpers import PDF_TYPE, member, pdf, sha256, upload
from tests.api.test_uploads_sessions import COMPLETE, START, chunks_of, put

MiB = 1024 * 1024
CANCEL = "mutation($input: CancelUploadInput!) { cancelUpload(input: $input) { uploadId } }"


@pytest.fixture(autouse=True)
def small_parts(settings):
    settings.upload_part_size = 5 * MiB


async def _start(api, who, size: int, name: str = "big.pdf", **extra):
    return await api.raw(START, {"input": {"folderId": who.drive, "fileName": name, "contentType": PDF_TYPE,
                                           "size": size, **extra}}, token=who.token)


def _code(body) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def _bytes_in_parts(services, started: dict) -> int:
    async with services.db.reading() as session:
        row = await session.get(UploadSession, decode_as(started["id"], "UploadSession"))
    try:
        return sum(part.size for part in await services.storage.list_parts(row.staging_key, row.multipart_upload_id))
    except Exception:  # noqa: BLE001 - the multipart upload is gone
        return 0


async def test_open_sessions_reserve_their_size_against_the_quota(http, api, factory, services):
    org = await factory.organization(storage_quota=25 * MiB)
    ann = await member(factory, api, org, "EDITOR")
    first, second, third = [await _start(api, ann, 10 * MiB, f"{n}.pdf") for n in range(3)]
    assert (_code(first), _code(second), _code(third)) == (None, None, "QUOTA_EXCEEDED")
    assert third["errors"][0]["extensions"]["reserved"] == 20 * MiB
    # A plain upload cannot take the space the sessions reserved either.
    assert _code((await upload(http, ann.token, ann.drive, pdf(6 * MiB))).json()) == "QUOTA_EXCEEDED"

    # Completing a session turns its reservation into stored content, without counting it twice.
    content = pdf(10 * MiB, seed=7)
    started = first["data"]["startUpload"]
    for part, piece in zip(started["parts"], chunks_of(content, started["partSize"]), strict=True):
        assert (await put(http, part["url"], piece)).status_code == 200
    done = await api.raw(COMPLETE, {"input": {"uploadId": started["id"]}}, token=ann.token)
    assert _code(done) is None and done["data"]["completeUpload"]["document"]["fileSize"] == 10 * MiB
    # 10 MiB stored + 10 MiB reserved: 5 MiB left.
    assert _code(await _start(api, ann, 10 * MiB, "4.pdf")) == "QUOTA_EXCEEDED"
    assert _code(await _start(api, ann, 5 * MiB, "5.pdf")) is None


async def test_sessions_that_need_no_transfer_reserve_nothing(http, api, factory):
    org = await factory.organization(storage_quota=1 * MiB)
    ann = await member(factory, api, org, "EDITOR")
    content = pdf(600_000, seed=3)
    assert (await upload(http, ann.token, ann.drive, content)).status_code == 200
    for n in range(3):  # the organization stores this content already: no parts, no bytes
        assert _code(await _start(api, ann, len(content), f"{n}.pdf", sha256=sha256(content))) is None


async def test_a_user_holds_at_most_20_open_sessions(api, factory):
    org = await factory.organization()
    ann, bob = await member(factory, api, org, "EDITOR"), await member(factory, api, org, "EDITOR")
    codes = [_code(await _start(api, ann, 10, f"{n}.pdf")) for n in range(25)]
    assert codes == [None] * 20 + ["QUOTA_EXCEEDED"] * 5
    assert _code(await _start(api, bob, 10)) is None


async def test_an_organization_holds_at_most_its_limit_of_open_sessions(api, factory, settings):
    settings.max_open_uploads_per_organization = 4
    org = await factory.organization()
    people = [await member(factory, api, org, "EDITOR") for _ in range(3)]
    refusals = [body["errors"][0]["extensions"] for n, who in enumerate(people * 2)
                if (body := await _start(api, who, 10, f"{n}.pdf")).get("errors")]
    assert [(r["code"], r["openUploads"], r["limit"]) for r in refusals] == [("QUOTA_EXCEEDED", 4, 4)] * 2


async def test_a_cancelled_session_gives_its_parts_and_reservation_back_at_once(http, api, factory, services):
    org = await factory.organization(storage_quota=12 * MiB)
    ann = await member(factory, api, org, "EDITOR")
    started = (await _start(api, ann, 10 * MiB))["data"]["startUpload"]
    assert (await put(http, started["parts"][0]["url"], pdf(5 * MiB))).status_code == 200
    assert await _bytes_in_parts(services, started) == 5 * MiB
    assert _code(await _start(api, ann, 10 * MiB, "again.pdf")) == "QUOTA_EXCEEDED"

    cancelled = await api.ok(CANCEL, {"input": {"uploadId": started["id"]}}, token=ann.token)
    assert cancelled["cancelUpload"]["uploadId"] == started["id"]
    assert await _bytes_in_parts(services, started) == 0
    # Only once, and only by its owner.
    assert await api.code(CANCEL, {"input": {"uploadId": started["id"]}}, token=ann.token) == "CONFLICT"
    other = (await _start(api, ann, 10, "other.pdf"))["data"]["startUpload"]
    eve = await member(factory, api, org, "EDITOR")
    assert await api.code(CANCEL, {"input": {"uploadId": other["id"]}}, token=eve.token) == "NOT_FOUND"
    assert _code(await _start(api, ann, 10 * MiB, "again.pdf")) is None


async def test_sessions_without_progress_are_reclaimed_before_they_expire(http, api, factory, services, settings):
    org = await factory.organization()
    ann = await member(factory, api, org, "EDITOR")
    idle = timedelta(seconds=settings.upload_idle_seconds)
    sending = (await _start(api, ann, 10 * MiB, "sending.pdf"))["data"]["startUpload"]
    assert _code(await _start(api, ann, 10 * MiB, "silent.pdf")) is None
    assert (await put(http, sending["parts"][0]["url"], pdf(5 * MiB))).status_code == 200

    async def a_sweep_after_idle() -> int:
        async with services.db.transaction() as session:
            await session.execute(text("UPDATE upload_session SET active_at = active_at - make_interval(secs => :s)"),
                                  {"s": idle.total_seconds() + 1})
            return await uploads.reclaim_abandoned(session, services.storage, idle=idle)

    # The silent session is abandoned; the one whose parts grew is not (yet).
    assert await a_sweep_after_idle() == 1
    assert await _bytes_in_parts(services, sending) == 5 * MiB
    # No more progress for another idle period: reclaimed, 23 hours before its expiry.
    assert await a_sweep_after_idle() == 1
    assert await _bytes_in_parts(services, sending) == 0
    async with services.db.reading() as session:
        statuses = (await session.execute(text("SELECT status FROM upload_session"))).scalars().all()
    assert statuses == ["EXPIRED", "EXPIRED"]
    assert _code(await api.raw(COMPLETE, {"input": {"uploadId": sending["id"]}}, token=ann.token)) == "CONFLICT"
