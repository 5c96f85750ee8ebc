"""Behaviour specific to the filesystem backend, including at-rest encryption."""

from __future__ import annotations

import os
import time

import pytest
from storage_helpers import KiB, blob, keys, read, stream

from docgraph.keyring import Keyring, make_key
from docgraph.storage import FilesystemStorage, ObjectCorrupted, ObjectNotFound, StorageError, StorageSizeExceeded
from docgraph.storage.encryption import (
    HEADER_SIZE,
    SEALED_SIZE,
    SEGMENT_SIZE,
    TAG_SIZE,
    SegmentCipher,
    plaintext_size,
)

KEY = bytes(range(32))


@pytest.fixture
def encrypted(tmp_path) -> FilesystemStorage:
    return FilesystemStorage(tmp_path, keys=KEY)


def _all_files(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files
    )


async def test_ciphertext_on_disk(encrypted, tmp_path):
    data = b"confidential " * 20_000  # 260,000 bytes: 4 segments
    stored = await encrypted.put_content_addressed("org1", stream(data))
    raw = (tmp_path / stored.key).read_bytes()
    assert b"confidential" not in raw
    assert len(raw) == HEADER_SIZE + len(data) + 4 * TAG_SIZE
    assert stored.size == await encrypted.head(stored.key) == len(data)
    # Same plaintext, fresh nonce prefix: the ciphertext differs.
    await encrypted.put_stream("org1/copy", stream(data))
    assert (tmp_path / "org1/copy").read_bytes() != raw


@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE]
)
def test_plaintext_size_from_file_size(size):
    encryptor = SegmentCipher(Keyring([make_key(KEY)])).encryptor()
    sealed = encryptor.header + b"".join(encryptor.feed(blob(size))) + encryptor.finish()
    assert plaintext_size(len(sealed)) == size


def _tamper(path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(raw)


async def test_tampered_segment_is_detected(encrypted, tmp_path):
    data = blob(4 * SEGMENT_SIZE)
    key = (await encrypted.put_content_addressed("org1", stream(data))).key
    _tamper(tmp_path / key, HEADER_SIZE + 2 * SEALED_SIZE + 100)  # inside segment 2
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, key)
    # Segments are authenticated independently: untouched ranges still read.
    assert await read(encrypted, key, 0, 2 * SEGMENT_SIZE - 1) == data[: 2 * SEGMENT_SIZE]
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, key, 2 * SEGMENT_SIZE + 5, 2 * SEGMENT_SIZE + 5)


@pytest.mark.parametrize(
    "cut",
    [
        HEADER_SIZE + 2 * SEALED_SIZE,  # on a segment border: the last segment was not final
        HEADER_SIZE + 2 * SEALED_SIZE + 1000,  # inside a segment
        HEADER_SIZE,  # every segment gone
        5,  # inside the header
    ],
)
async def test_truncation_is_detected(encrypted, tmp_path, cut):
    key = (await encrypted.put_content_addressed("org1", stream(blob(3 * SEGMENT_SIZE + 10)))).key
    path = tmp_path / key
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, key)


async def test_truncated_empty_file_is_detected(encrypted, tmp_path):
    key = (await encrypted.put_content_addressed("org1", stream(b""))).key
    assert await read(encrypted, key) == b""
    path = tmp_path / key
    path.write_bytes(path.read_bytes()[:HEADER_SIZE])
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, key)


async def test_reordered_or_appended_segments_are_detected(encrypted, tmp_path):
    key = (await encrypted.put_content_addressed("org1", stream(blob(3 * SEGMENT_SIZE + 10)))).key
    path = tmp_path / key
    raw = path.read_bytes()
    header, segs = raw[:HEADER_SIZE], raw[HEADER_SIZE:]
    s0, s1 = segs[:SEALED_SIZE], segs[SEALED_SIZE : 2 * SEALED_SIZE]
    path.write_bytes(header + s1 + s0 + segs[2 * SEALED_SIZE :])
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, key, 0, 10)
    path.write_bytes(raw + b"\0" * 100)
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, key)


async def test_wrong_key_or_plain_file_is_rejected(encrypted, tmp_path):
    key = (await encrypted.put_content_addressed("org1", stream(b"hello"))).key
    with pytest.raises(ObjectCorrupted):
        await read(FilesystemStorage(tmp_path, keys=bytes(32)), key)
    await FilesystemStorage(tmp_path).put_stream("org1/plain", stream(b"not encrypted at all!!"))
    with pytest.raises(ObjectCorrupted):
        await read(encrypted, "org1/plain")


def test_encryption_key_length():
    with pytest.raises(ValueError):
        FilesystemStorage("/tmp", keys=b"short")


@pytest.mark.parametrize("encryption_key", [None, KEY])
async def test_failed_writes_leave_no_temporary_files(tmp_path, encryption_key):
    storage = FilesystemStorage(tmp_path, keys=encryption_key)
    await storage.put_stream("org1/keep", stream(b"keep"))
    with pytest.raises(StorageSizeExceeded):
        await storage.put_content_addressed("org1", stream(blob(3 * 1024 * KiB)), max_size=KiB)
    marker = [".encryption"] if encryption_key else []
    assert _all_files(tmp_path) == [*marker, "org1/keep"]


async def test_multipart_parts_are_private(tmp_path):
    storage = FilesystemStorage(tmp_path)
    upload_id = await storage.create_multipart("org1/big")
    await storage.put_part("org1/big", upload_id, 1, stream(b"part"))
    assert (tmp_path / ".multipart" / upload_id / "1").read_bytes() == b"part"
    assert await keys(storage) == []
    for bad in ["../../etc", "x" * 32, upload_id.upper()]:
        with pytest.raises(ObjectNotFound):
            await storage.put_part("org1/big", bad, 1, stream(b"x"))


async def test_sweep_temporary(tmp_path):
    storage = FilesystemStorage(tmp_path)
    await storage.put_stream("org1/blobs/kept", stream(b"kept"))
    stale_tmp = tmp_path / "org1" / "blobs" / ".tmp-dead"
    stale_tmp.write_bytes(b"crash leftover")
    fresh_tmp = tmp_path / "org1" / "blobs" / ".tmp-live"
    fresh_tmp.write_bytes(b"being written")
    old_upload = await storage.create_multipart("org1/a")
    await storage.put_part("org1/a", old_upload, 1, stream(b"x"))
    new_upload = await storage.create_multipart("org1/b")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(stale_tmp, (day_ago, day_ago))
    for path in (tmp_path / ".multipart" / old_upload).iterdir():
        os.utime(path, (day_ago, day_ago))

    assert await storage.sweep_temporary(older_than=24 * 3600) == 2
    assert not stale_tmp.exists() and fresh_tmp.exists()
    assert await storage.list_parts("org1/b", new_upload) == []
    with pytest.raises(ObjectNotFound):
        await storage.list_parts("org1/a", old_upload)
    assert await read(storage, "org1/blobs/kept") == b"kept"


async def test_check_fails_when_root_is_unusable(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(StorageError):
        await FilesystemStorage(not_a_dir / "blobs").check()
    storage = FilesystemStorage(tmp_path / "new" / "blobs")
    await storage.check()  # creates the root
    assert (tmp_path / "new" / "blobs").is_dir()


async def test_file_and_directory_keys_do_not_confuse_reads(tmp_path):
    storage = FilesystemStorage(tmp_path)
    await storage.put_stream("org1/blobs/a", stream(b"a"))
    assert await storage.head("org1/blobs") is None  # a directory, not an object
    await storage.delete("org1/blobs")  # no-op
    with pytest.raises(ObjectNotFound):
        await read(storage, "org1/blobs")
    assert await storage.head("org1/blobs/a/deeper") is None
