"""One behaviour contract, run against every backend (see the ``storage`` fixture)."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from datetime import datetime

import httpx
import pytest
from storage_helpers import KiB, MiB, blob, keys, read, sha256, stream

from docgraph.storage import (
    MIN_PART_SIZE,
    FilesystemStorage,
    ObjectNotFound,
    S3Storage,
    StorageError,
    StorageSizeExceeded,
    StoredObject,
    hash_object,
)

SEGMENT = 64 * KiB  # encrypted filesystem segment
PART = 8 * MiB  # default S3 part size


@pytest.mark.parametrize("size", [0, 1, SEGMENT, SEGMENT + 1, 200 * KiB])
async def test_put_content_addressed_round_trip(storage, size):
    data = blob(size)
    stored = await storage.put_content_addressed("org1", stream(data, 10_000))
    assert stored.key == f"org1/blobs/{sha256(data)}"
    assert (stored.size, stored.sha256) == (size, sha256(data))
    assert await read(storage, stored.key) == data
    assert await storage.head(stored.key) == size
    assert await storage.exists(stored.key)
    assert await keys(storage, "org1/") == [stored.key]  # staging copy is gone


async def test_put_stream_writes_and_replaces_exact_key(storage):
    first = await storage.put_stream("org1/misc/x", stream(b"one"))
    assert (first.key, first.size, first.sha256) == ("org1/misc/x", 3, sha256(b"one"))
    await storage.put_stream("org1/misc/x", stream(b"second"))
    assert await read(storage, "org1/misc/x") == b"second"


async def test_same_content_twice_is_stored_once(storage):
    data = blob(100 * KiB)
    a = await storage.put_content_addressed("org1", stream(data))
    b = await storage.put_content_addressed("org1", stream(data, 777))
    assert a == b
    assert await keys(storage, "org1/") == [a.key]


async def test_concurrent_identical_uploads(storage):
    data = blob(300 * KiB)
    results = await asyncio.gather(
        *(storage.put_content_addressed("org1", stream(data)) for _ in range(4))
    )
    assert {r.key for r in results} == {f"org1/blobs/{sha256(data)}"}
    assert await keys(storage, "org1/") == [results[0].key]
    assert await read(storage, results[0].key) == data


async def test_size_limit_allows_exact_size(storage):
    stored = await storage.put_content_addressed("org1", stream(b"x" * 1000), max_size=1000)
    assert stored.size == 1000


@pytest.mark.parametrize(("size", "limit"), [(5000, 1000), (20 * MiB, 10 * MiB)])
async def test_size_limit_exceeded_leaves_nothing(storage, size, limit):
    # The second case fails after a multipart upload to S3 has started.
    with pytest.raises(StorageSizeExceeded):
        await storage.put_content_addressed("org1", stream(blob(size)), max_size=limit)
    assert await keys(storage, "org1/") == []
    if isinstance(storage, S3Storage):
        s3 = await storage._client()
        uploads = await s3.list_multipart_uploads(Bucket=storage.bucket)
        assert not uploads.get("Uploads")


@pytest.mark.parametrize("size", [1000, 9 * MiB])
async def test_failing_source_stream_leaves_nothing(storage, size):
    # E.g. the client disconnects mid-upload; the 9 MiB case has a multipart upload running.
    async def broken():
        async for chunk in stream(blob(size)):
            yield chunk
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put_content_addressed("org1", broken())
    assert await keys(storage, "org1/") == []
    if isinstance(storage, S3Storage):
        s3 = await storage._client()
        assert not (await s3.list_multipart_uploads(Bucket=storage.bucket)).get("Uploads")


async def test_put_part_size_limit(storage):
    key = "org1/uploads/limited"
    upload_id = await storage.create_multipart(key)
    with pytest.raises(StorageSizeExceeded):
        await storage.put_part(key, upload_id, 1, stream(b"x" * 11), max_size=10)
    assert await storage.list_parts(key, upload_id) == []
    await storage.abort_multipart(key, upload_id)


async def test_range_reads(storage):
    size = PART + 200 * KiB  # crosses an S3 part border and many encryption segments
    data = blob(size)
    key = (await storage.put_content_addressed("org1", stream(data))).key
    ranges = [
        (0, 0),  # first byte
        (0, 99),
        (SEGMENT - 3, SEGMENT + 2),  # segment border
        (SEGMENT, 3 * SEGMENT - 1),  # whole segments
        (5, 2 * MiB + 5),  # several read batches
        (PART - 10, PART + 10),  # S3 part border
        (size - 1, size - 1),  # last byte
        (size - 100, None),  # open-ended
        (size - 5, size + 100),  # end clamped
    ]
    for start, end in ranges:
        expected = data[start : None if end is None else end + 1]
        assert await read(storage, key, start, end) == expected, (start, end)
    assert await read(storage, key, size) == b""  # unsatisfiable: nothing
    with pytest.raises(ValueError):
        await read(storage, key, 10, 5)
    with pytest.raises(ValueError):
        await read(storage, key, -1)


async def test_head_exists_delete(storage):
    await storage.put_stream("org1/misc/a", stream(b"abc"))
    assert await storage.head("org1/misc/a") == 3
    await storage.delete("org1/misc/a")
    assert await storage.head("org1/misc/a") is None
    assert not await storage.exists("org1/misc/a")
    await storage.delete("org1/misc/a")  # idempotent
    await storage.delete("org1/never/existed")


async def test_missing_objects(storage):
    assert await storage.head("org1/blobs/nope") is None
    with pytest.raises(ObjectNotFound):
        await read(storage, "org1/blobs/nope")
    with pytest.raises(ObjectNotFound):
        await storage.promote("org1/staging/nope", "org1/blobs/nope")


async def test_list_keys(storage):
    for key in ["org1/blobs/a", "org1/blobs/b", "org1/other/c", "org2/blobs/a", "org10/x"]:
        await storage.put_stream(key, stream(key.encode()))
    assert await keys(storage, "org1/") == ["org1/blobs/a", "org1/blobs/b", "org1/other/c"]
    assert await keys(storage, "org1/blobs/") == ["org1/blobs/a", "org1/blobs/b"]
    assert await keys(storage, "org1/bl") == ["org1/blobs/a", "org1/blobs/b"]
    assert await keys(storage, "org1") == [
        "org1/blobs/a", "org1/blobs/b", "org1/other/c", "org10/x"
    ]
    assert len(await keys(storage)) == 5
    assert await keys(storage, "nothing/") == []
    [info] = [i async for i in storage.list_keys("org2/")]
    assert (info.key, info.size) == ("org2/blobs/a", len("org2/blobs/a"))
    assert isinstance(info.last_modified, datetime) and info.last_modified.tzinfo is not None


BAD_KEYS = ["", "/abs", "../x", "a/../b", "a/./b", "a//b", "a/", "a/.hidden", "a b", "a\\b", "é"]


async def test_key_validation(storage):
    for key in BAD_KEYS:
        with pytest.raises(ValueError):
            await storage.put_stream(key, stream(b"x"))
        with pytest.raises(ValueError):
            await storage.head(key)
        with pytest.raises(ValueError):
            await read(storage, key)
        with pytest.raises(ValueError):
            await storage.delete(key)
        with pytest.raises(ValueError):
            await storage.create_multipart(key)
    with pytest.raises(ValueError):
        await storage.put_content_addressed("../org", stream(b"x"))
    with pytest.raises(ValueError):
        [_ async for _ in storage.list_keys("../")]


async def test_multipart_round_trip(storage):
    key = "org1/uploads/u1"
    parts_data = [blob(MIN_PART_SIZE, 1), blob(MIN_PART_SIZE + 1, 2), blob(1234, 3)]
    upload_id = await storage.create_multipart(key)
    assert await storage.list_parts(key, upload_id) == []
    etags = {}
    for number in (3, 1, 2):  # any order, as resumable clients do
        data = stream(parts_data[number - 1])
        etags[number] = await storage.put_part(key, upload_id, number, data)
    listed = await storage.list_parts(key, upload_id)
    assert [(p.part_number, p.size) for p in listed] == [
        (1, MIN_PART_SIZE), (2, MIN_PART_SIZE + 1), (3, 1234)
    ]
    assert [p.etag for p in listed] == [etags[1], etags[2], etags[3]]
    assert not await storage.exists(key)
    await storage.complete_multipart(key, upload_id, [(n, etags[n]) for n in (1, 2, 3)])
    whole = b"".join(parts_data)
    assert await read(storage, key) == whole
    assert await hash_object(storage, key) == StoredObject(key, len(whole), sha256(whole))
    with pytest.raises(ObjectNotFound):
        await storage.list_parts(key, upload_id)


async def test_multipart_retried_part_last_wins(storage):
    key = "org1/uploads/u2"
    upload_id = await storage.create_multipart(key)
    await storage.put_part(key, upload_id, 1, stream(blob(MIN_PART_SIZE, 1)))
    retry = blob(MIN_PART_SIZE, 2)
    etag1 = await storage.put_part(key, upload_id, 1, stream(retry))
    etag2 = await storage.put_part(key, upload_id, 2, stream(b"tail"))
    [p1, p2] = await storage.list_parts(key, upload_id)
    assert (p1.part_number, p1.etag, p2.etag) == (1, etag1, etag2)
    await storage.complete_multipart(key, upload_id, [(1, etag1), (2, etag2)])
    assert await read(storage, key) == retry + b"tail"


async def test_multipart_abort(storage):
    key = "org1/uploads/u3"
    upload_id = await storage.create_multipart(key)
    await storage.put_part(key, upload_id, 1, stream(b"data"))
    await storage.abort_multipart(key, upload_id)
    await storage.abort_multipart(key, upload_id)  # idempotent
    with pytest.raises(ObjectNotFound):
        await storage.list_parts(key, upload_id)
    if not isinstance(storage, S3Storage):  # moto answers 500 here, S3 NoSuchUpload
        with pytest.raises(ObjectNotFound):
            await storage.put_part(key, upload_id, 2, stream(b"late"))
    assert await keys(storage, "org1/") == []


async def test_multipart_rejects_bad_completions(storage):
    key = "org1/uploads/u4"
    upload_id = await storage.create_multipart(key)
    small = await storage.put_part(key, upload_id, 1, stream(b"too small"))
    last = await storage.put_part(key, upload_id, 2, stream(b"last"))
    for parts in ([], [(2, last), (1, small)], [(1, small), (1, small)], [(1, "bogus"), (2, last)]):
        with pytest.raises(StorageError):
            await storage.complete_multipart(key, upload_id, parts)
    with pytest.raises(StorageError):  # every part but the last must be >= 5 MiB
        await storage.complete_multipart(key, upload_id, [(1, small), (2, last)])
    with pytest.raises(ValueError):
        await storage.put_part(key, upload_id, 0, stream(b"x"))
    with pytest.raises(ObjectNotFound):
        await storage.list_parts(key, "0" * 32)
    if not isinstance(storage, S3Storage):  # moto ignores the key here
        with pytest.raises(ObjectNotFound):
            await storage.list_parts("org1/uploads/other", upload_id)
    await storage.abort_multipart(key, upload_id)


async def test_presigned_download(storage):
    data = blob(3000)
    key = (await storage.put_content_addressed("org1", stream(data))).key
    url = await storage.presigned_get_url(
        key, expires_in=60, filename='résumé "v2".pdf', content_type="application/pdf"
    )
    if isinstance(storage, FilesystemStorage):
        assert url is None  # the app serves these itself
        return
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="resume _v2_.pdf"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf" in disposition


async def test_presigned_part_upload(storage):
    key = "org1/uploads/u5"
    upload_id = await storage.create_multipart(key)
    url = await storage.presigned_part_url(key, upload_id, 1, expires_in=60)
    if isinstance(storage, FilesystemStorage):
        assert url is None
        await storage.abort_multipart(key, upload_id)
        return
    async with httpx.AsyncClient() as client:
        response = await client.put(url, content=b"client bytes")
    assert response.status_code == 200
    await storage.complete_multipart(key, upload_id, [(1, response.headers["etag"])])
    assert await read(storage, key) == b"client bytes"


async def test_check(storage):
    await storage.check()


async def test_big_stream_uses_constant_memory(storage):
    block = blob(64 * KiB)
    count = 20 * MiB // len(block)

    async def lazy():
        for _ in range(count):
            yield block

    expected = hashlib.sha256(block * count).hexdigest()
    # Warm up clients, service models and thread pools outside the measurement.
    await storage.put_content_addressed("warmup", stream(b"warm"))
    limit = 24 * MiB if isinstance(storage, S3Storage) else 4 * MiB

    tracemalloc.start()
    try:
        stored = await storage.put_content_addressed("org1", lazy())
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        async for chunk in storage.open_range(stored.key):
            digest.update(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (stored.size, stored.sha256) == (20 * MiB, expected)
    assert digest.hexdigest() == expected
    print(f"peaks: upload {upload_peak / MiB:.1f} MiB, download {download_peak / MiB:.1f} MiB")
    assert upload_peak < limit, f"upload peak {upload_peak / MiB:.1f} MiB"
    assert download_peak < 4 * MiB, f"download peak {download_peak / MiB:.1f} MiB"
