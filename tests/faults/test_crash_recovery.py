"""Server processes SIGKILLed mid-write. Under upload/replace load at random moments (the short
version of `python -m bench.faults`): after each restart every acknowledged write is readable and
nothing half-done is visible; at the end the orphan sweep leaves storage holding exactly the
referenced blobs and `docgraph audit verify` passes. Between two parts of an S3 multipart
upload: nothing is recorded and the sweep leaves nothing in the bucket."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import httpx
import pytest

from bench.faults import MiB, crash_recovery, kill, sweep_all
from docgraph.db import Database
from tests.api.documents_helpers import pdf

from .support import client, counts, gated, part_received, streamed_upload, until


async def test_acknowledged_writes_survive_four_kills_and_the_sweep_reclaims_the_leftovers(database_url, tmp_path):
    seed = random.randrange(2**32)
    report = await crash_recovery(database_url, tmp_path / "server", kills=4, clients=3, seed=seed,
                                  max_size=2 * MiB, kill_after=(0.5, 1.5))

    context = f"seed {seed}: {report}"
    assert report.problems == [], context
    assert report.unexpected_errors == [], context
    assert report.acknowledged["total"] > 0 and report.downloads_verified >= report.acknowledged["total"], context
    assert report.checks_after_restart == 4, context
    # The sweep reclaimed every leftover of the kills, and nothing else.
    assert all(count == 0 for count in report.orphans_after_sweep.values()), context
    assert report.audit_verify.startswith("exit 0"), context


async def test_a_kill_during_an_s3_multipart_upload_leaves_nothing_once_the_sweep_has_run(
        database_url, launch, world, moto):
    """Large files go to S3 as multipart uploads; a crash between two parts leaves the upload
    unfinished in the bucket (its parts are stored, and billed, but listed by no key)."""
    observer = await moto.storage()
    server = await launch(**moto.app_settings())
    resume = asyncio.Event()
    db = Database(database_url, pool_size=1)
    try:
        async with client(server, world) as http:
            content = pdf(20 * MiB, seed=8)
            uploading = asyncio.create_task(streamed_upload(
                http, world.folder_id, gated(content, 9 * MiB, resume), len(content), "big.pdf"))
            await until(lambda: part_received(moto, observer), timeout=20, what="a part to reach S3")
            kill(server)
            resume.set()
            with pytest.raises(httpx.TransportError):
                await asyncio.wait_for(uploading, 10)
        assert await counts(database_url) == {"document": 0, "document_version": 0, "blob": 0}

        await sweep_all(db, observer, grace=timedelta(0))

        assert [info.key async for info in observer.list_keys("")] == []
        assert await moto.unfinished_uploads(observer) == []
    finally:
        await db.dispose()
        await observer.close()
