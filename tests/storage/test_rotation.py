"""Key rotation on the encrypted filesystem backend: every object (parts of open uploads too)
ends up under the newest key, batch by batch from a cursor, with reads right at every step;
directories from before encryption (plaintext objects, files sealed before key ids) are read
as they are and encrypted by the same passes."""

from __future__ import annotations

import os

import pytest
from storage_helpers import KiB, blob, read, stream

from docgraph import keyring
from docgraph.storage import FilesystemStorage, ObjectCorrupted, build_storage, rotate_storage_key
from docgraph.storage.encryption import LEGACY_MAGIC, SALT_SIZE, SegmentEncryptor, _file_aead
from docgraph.storage.key_rotation import PLAINTEXT, UNKNOWN_KEY

SIZES = [0, 1, 70 * KiB, 300 * KiB]


class Settings:
    """What rotate_storage_key reads of docgraph's settings."""

    def __init__(self, data_dir):
        self.data_dir, self.storage_encryption_key = data_dir, None


@pytest.fixture(autouse=True)
def no_recheck_delay(monkeypatch):
    monkeypatch.setattr(keyring, "RECHECK_SECONDS", 0.0)


async def fill(storage) -> dict[str, bytes]:
    contents = {f"org{i % 2}/blobs/{i:03}": blob(size, seed=i) for i, size in enumerate(SIZES * 3)}
    for key, data in contents.items():
        await storage.put_stream(key, stream(data))
    return contents


async def rotate_fully(storage, *, limit: int, check=None) -> int:
    """Run passes until one finds nothing; returns the batches it took."""
    batches, after, changed = 0, None, 0
    while True:
        batch = await storage.reencrypt(after, limit=limit)
        batches, changed = batches + 1, changed + batch.reencrypted
        if check:
            await check()
        if batch.cursor is not None:
            after = batch.cursor
            continue
        if not changed:
            await storage.finish_reencryption(batch.key_id)
            return batches
        after, changed = None, 0


async def test_rotation_reencrypts_every_object_and_reads_stay_right(tmp_path):
    storage = build_storage("filesystem", data_dir=tmp_path)
    contents = await fill(storage)
    upload = await storage.create_multipart("org0/staging/big")
    etag = await storage.put_part("org0/staging/big", upload, 1, stream(blob(6 * KiB * KiB, seed=99)))
    first = storage.encryption_keys.current
    assert not storage.needs_reencryption()

    second = rotate_storage_key(Settings(tmp_path))
    assert storage.encryption_keys.current == second and storage.needs_reencryption()
    assert await storage.key_usage() == {first.id: len(contents) + 1}

    async def reads_are_right():
        for key, data in contents.items():
            assert await read(storage, key) == data
            assert await read(storage, key, 5, 70_000) == data[5:70_001]
            assert await storage.head(key) == len(data)

    batches = await rotate_fully(storage, limit=5, check=reads_are_right)
    assert batches > len(contents) // 5  # it went in steps
    assert await storage.key_usage() == {second.id: len(contents) + 1}
    assert not storage.needs_reencryption()
    # The part kept its identity: the upload still completes with the etag the client holds.
    assert [(p.part_number, p.etag) for p in await storage.list_parts("org0/staging/big", upload)] == [(1, etag)]
    await storage.complete_multipart("org0/staging/big", upload, [(1, etag)])
    assert await read(storage, "org0/staging/big") == blob(6 * KiB * KiB, seed=99)
    # Once nothing needs the first key, it can go; without it nothing is unreadable.
    keyring.remove_keys(storage.encryption_keys.path, {first.id})
    await reads_are_right()


async def test_a_pass_resumes_from_its_cursor_and_redoing_a_batch_changes_nothing(tmp_path):
    storage = build_storage("filesystem", data_dir=tmp_path)
    contents = await fill(storage)
    rotate_storage_key(Settings(tmp_path))
    first = await storage.reencrypt(None, limit=4)
    assert (first.examined, first.reencrypted) == (4, 4)
    again = await storage.reencrypt(None, limit=4)  # a batch run twice (its job was not committed)
    assert (again.examined, again.reencrypted, again.cursor) == (4, 0, first.cursor)
    rest = await storage.reencrypt(first.cursor, limit=1000)
    assert (rest.examined, rest.reencrypted, rest.cursor) == (len(contents) - 4, len(contents) - 4, None)
    for key, data in contents.items():
        assert await read(storage, key) == data


async def test_an_object_replaced_or_deleted_meanwhile_is_left_to_its_writer(tmp_path, monkeypatch):
    storage = build_storage("filesystem", data_dir=tmp_path)
    await storage.put_stream("org/blobs/a", stream(b"old content"))
    await storage.put_stream("org/blobs/b", stream(b"doomed"))
    rotate_storage_key(Settings(tmp_path))
    real_write = storage._write

    async def racing_write(path, key, chunks, max_size, **kwargs):
        if key == "org/blobs/a" and "replacing" in kwargs:  # a writer gets there first
            os.replace(tmp_path / "blobs/org/blobs/a.new", path)
        if key == "org/blobs/b" and "replacing" in kwargs:  # a purge gets there first
            os.unlink(path)
        return await real_write(path, key, chunks, max_size, **kwargs)

    other = FilesystemStorage(tmp_path / "blobs", storage.encryption_keys)
    await other.put_stream("org/blobs/a.new", stream(b"new content"))
    monkeypatch.setattr(storage, "_write", racing_write)
    batch = await storage.reencrypt(None, limit=10)
    assert batch.reencrypted == 0
    assert await read(storage, "org/blobs/a") == b"new content"
    assert not (tmp_path / "blobs/org/blobs/b").exists()  # not brought back


async def test_a_directory_from_before_encryption_is_read_then_encrypted(tmp_path):
    """Plaintext objects (the old default) and files sealed before key ids (the old
    STORAGE_ENCRYPTION_KEY) are read as they are until a pass has sealed them all."""
    key = os.urandom(32)
    plain = FilesystemStorage(tmp_path / "blobs")
    await plain.put_stream("org/blobs/plain", stream(b"written in the clear " * 1000))
    legacy_sealed = _seal_without_key_id(key, b"sealed before key ids")
    (tmp_path / "blobs/org/blobs/sealed").write_bytes(legacy_sealed)

    storage = build_storage("filesystem", data_dir=tmp_path, encryption_key=key.hex())
    assert storage.needs_reencryption()
    assert await storage.key_usage() == {PLAINTEXT: 1, UNKNOWN_KEY: 1}
    assert await read(storage, "org/blobs/plain") == b"written in the clear " * 1000
    assert await storage.head("org/blobs/plain") == 21_000
    assert await read(storage, "org/blobs/sealed") == b"sealed before key ids"
    assert await storage.head("org/blobs/sealed") == len(b"sealed before key ids")

    await rotate_fully(storage, limit=10)
    assert await storage.key_usage() == {storage.encryption_keys.current.id: 2}
    assert b"in the clear" not in (tmp_path / "blobs/org/blobs/plain").read_bytes()
    assert await read(storage, "org/blobs/plain") == b"written in the clear " * 1000
    # From now on a file without a header is damage, not an old object.
    await plain.put_stream("org/blobs/planted", stream(b"planted in the clear"))
    restarted = build_storage("filesystem", data_dir=tmp_path, encryption_key=key.hex())
    assert not restarted.needs_reencryption()
    with pytest.raises(ObjectCorrupted):
        await read(restarted, "org/blobs/planted")


async def test_a_fresh_directory_accepts_no_plaintext(tmp_path):
    storage = build_storage("filesystem", data_dir=tmp_path)
    await FilesystemStorage(tmp_path / "blobs").put_stream("org/blobs/x", stream(b"in the clear"))
    with pytest.raises(ObjectCorrupted):
        await read(storage, "org/blobs/x")


def _seal_without_key_id(key: bytes, data: bytes) -> bytes:
    """A file as versions before key ids wrote it: DGE1 | salt | segments."""
    salt = os.urandom(SALT_SIZE)
    encryptor = SegmentEncryptor(_file_aead(keyring.make_key(key), salt), LEGACY_MAGIC + salt, "")
    return encryptor.header + b"".join(encryptor.feed(data)) + encryptor.finish()
