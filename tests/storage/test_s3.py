"""Behaviour specific to the S3 backend."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from storage_helpers import MiB, blob, keys, read, sha256, stream

from docgraph.storage import S3Storage, StorageError


async def _pending_uploads(storage: S3Storage) -> list:
    s3 = await storage._client()
    return (await s3.list_multipart_uploads(Bucket=storage.bucket)).get("Uploads", [])


async def test_check_fails_fast_when_endpoint_is_down():
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = S3Storage(
        "bucket", endpoint_url=f"http://127.0.0.1:{port}", access_key="x", secret_key="x"
    )
    started = time.monotonic()
    try:
        with pytest.raises(StorageError):
            await storage.check(timeout=1.0)
    finally:
        await storage.close()
    assert time.monotonic() - started < 3


async def test_check_fails_for_missing_bucket(s3_factory):
    with pytest.raises(StorageError):
        await s3_factory().check()


async def test_one_client_per_instance(s3_factory):
    storage = s3_factory()
    await storage.ensure_bucket()
    await storage.ensure_bucket()  # idempotent
    client = await storage._client()
    await storage.put_stream("a/b", stream(b"1"))
    assert await storage._client() is client
    await storage.close()
    assert await read(storage, "a/b") == b"1"  # reopens lazily after close


async def test_server_side_encryption_is_requested(s3_factory):
    for sse, expected in [("AES256", "AES256"), (None, None)]:
        storage = s3_factory(server_side_encryption=sse)
        await storage.ensure_bucket()
        stored = await storage.put_content_addressed("org1", stream(b"secret"))
        s3 = await storage._client()
        head = await s3.head_object(Bucket=storage.bucket, Key=stored.key)
        assert head.get("ServerSideEncryption") == expected


async def test_large_objects_are_promoted_by_multipart_copy(s3_factory, monkeypatch):
    storage = s3_factory()
    await storage.ensure_bucket()
    monkeypatch.setattr(storage, "copy_limit", 1 * MiB)
    monkeypatch.setattr(storage, "copy_part_size", 5 * MiB)
    calls = []
    original = storage._copy_in_parts
    monkeypatch.setattr(storage, "_copy_in_parts", lambda *a: calls.append(a) or original(*a))
    data = blob(11 * MiB)
    stored = await storage.put_content_addressed("org1", stream(data))
    assert len(calls) == 1
    assert stored.key == f"org1/blobs/{sha256(data)}"
    assert await read(storage, stored.key) == data
    assert await keys(storage, "org1/") == [stored.key]
    assert await _pending_uploads(storage) == []


async def test_failed_part_aborts_the_upload(s3_factory, monkeypatch):
    storage = s3_factory(part_size=5 * MiB)
    await storage.ensure_bucket()
    original = storage._send_part

    async def flaky(key, upload_id, number, body):
        if number == 2:
            raise StorageError("boom")
        return await original(key, upload_id, number, body)

    monkeypatch.setattr(storage, "_send_part", flaky)
    with pytest.raises(StorageError, match="boom"):
        await storage.put_content_addressed("org1", stream(blob(12 * MiB)))
    assert await _pending_uploads(storage) == []
    assert await keys(storage, "org1/") == []


async def test_cancelled_upload_is_aborted(s3_factory):
    storage = s3_factory(part_size=5 * MiB)
    await storage.ensure_bucket()
    started = asyncio.Event()

    async def slow():
        yield blob(6 * MiB)  # the first part goes out...
        started.set()
        await asyncio.sleep(30)  # ...then the client stalls
        yield b"never"

    task = asyncio.create_task(storage.put_content_addressed("org1", slow()))
    await started.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _pending_uploads(storage) == []
    assert await keys(storage, "org1/") == []


async def test_presigned_urls_use_the_public_endpoint(s3_factory):
    storage = s3_factory(public_endpoint_url="https://files.example.com")
    url = await storage.presigned_get_url(
        "org1/blobs/abc", expires_in=60, filename="a.txt", content_type="text/plain"
    )
    assert url.startswith(f"https://files.example.com/{storage.bucket}/org1/blobs/abc?")
    part_url = await storage.presigned_part_url("org1/u", "upload-id", 3, expires_in=60)
    assert part_url.startswith("https://files.example.com/") and "partNumber=3" in part_url


def test_part_size_minimum():
    with pytest.raises(ValueError):
        S3Storage("bucket", part_size=MiB)
