"""Blobs as files under a root directory, encrypted at rest (encryption.py) when given keys.

Every write goes to a dot-prefixed temporary file next to its destination, is fsynced, renamed
over the destination and the directory fsynced, so readers see the old object or the new one
and a crash leaves at most a stale temporary file (see ``sweep_temporary``). Blocking calls run
in worker threads in 1 MiB steps.

Key rotation: see key_rotation.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ..keyring import Keyring, make_key
from .base import (
    MIN_PART_SIZE,
    HashingStream,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    StorageBase,
    StorageError,
    StoredObject,
    check_range,
    rechunk,
    validate_key,
    validate_part_number,
    validate_parts,
    validate_prefix,
)
from .encryption import HEADER_SIZE, SEGMENT_SIZE, SegmentCipher, SegmentEncryptor, parse_header, plaintext_size
from .key_rotation import MISSING, TMP, UPLOADS, KeyRotation, Superseded, open_root, read_header

IO_CHUNK = 16 * SEGMENT_SIZE  # 1 MiB, whole segments so encrypted batches never split one
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class FilesystemStorage(KeyRotation, StorageBase):
    def __init__(self, root: Path, keys: Keyring | bytes | None = None):
        """`keys`: the keyring that seals objects (one raw 32-byte key will do); None stores
        plaintext."""
        self.root = Path(root)
        if isinstance(keys, bytes):
            keys = Keyring([make_key(keys)])
        self._cipher = SegmentCipher(keys) if keys is not None else None
        # Objects without a header are plaintext from before encryption, not damage.
        self._plaintext_possible = keys is None or open_root(self.root, keys.current.id)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _size(self, path: Path, stored_size: int) -> int:
        """An object's plaintext size; reads its header only while old plaintext may remain."""
        if self._cipher is None:
            return stored_size
        if not self._plaintext_possible:
            return plaintext_size(stored_size)
        header = read_header(path)
        return stored_size if header is None else plaintext_size(stored_size, header.size)

    # -- writing ---------------------------------------------------------------------------

    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredObject:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        return await self._write(path, key, chunks, max_size)

    async def _write(
        self, path: Path, key: str, chunks: AsyncIterable[bytes], max_size: int | None, *,
        salt: bytes | None = None, replacing: int | None = None,
    ) -> StoredObject:
        """Atomically replace ``path``; the directory must exist. ``replacing``: the inode
        ``path`` must still have at the end (re-encryption), else Superseded."""
        stream = HashingStream(chunks, max_size)
        tmp = path.with_name(f"{TMP}{uuid.uuid4().hex}")
        try:
            f = await asyncio.to_thread(open, tmp, "xb")
        except MISSING:
            raise ObjectNotFound(f"no directory for {key}") from None
        encryptor = self._cipher.encryptor(salt) if self._cipher else None
        try:
            if encryptor:
                await asyncio.to_thread(f.write, encryptor.header)
            async for block in rechunk(stream, IO_CHUNK):
                await asyncio.to_thread(_write_block, f, encryptor, block)
            if encryptor and self._cipher and encryptor.key_id not in {k.id for k in self._cipher.keys.keys}:
                raise StorageError("the encryption key was retired during the write; try again")
            await asyncio.to_thread(_commit, f, tmp, path, encryptor, replacing)
        except BaseException:
            # Synchronous on purpose: this also runs when the task is being cancelled.
            f.close()
            tmp.unlink(missing_ok=True)
            raise
        return StoredObject(key, stream.size, stream.sha256)

    async def promote(self, staging_key: str, final_key: str) -> None:
        src, dst = self._path(staging_key), self._path(final_key)

        def move() -> None:
            if not src.is_file():
                raise ObjectNotFound(staging_key)
            if dst.is_file():  # dedupe: only complete files are ever renamed into place
                src.unlink()
                return
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            _fsync_dir(dst.parent)

        await asyncio.to_thread(move)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(*MISSING):
            await asyncio.to_thread(path.unlink)

    # -- reading ---------------------------------------------------------------------------

    async def open_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        async for chunk in self._read(self._path(key), key, start, end):
            yield chunk

    async def _read(
        self, path: Path, key: str, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        try:
            f = await asyncio.to_thread(open, path, "rb")
        except MISSING:
            raise ObjectNotFound(key) from None
        try:
            sealed, size = await asyncio.to_thread(self._open_sealed, f)
            last = size - 1 if end is None else min(end, size - 1)
            if size == 0 and sealed:  # nothing to return, but prove it was not truncated
                await asyncio.to_thread(sealed.check_first_segment)
            # Batches end on 1 MiB boundaries, so no encrypted segment is decrypted twice.
            while start <= last:
                stop = min(last, (start // IO_CHUNK + 1) * IO_CHUNK - 1)
                yield await asyncio.to_thread(_read_block, f, sealed, start, stop)
                start = stop + 1
        finally:
            f.close()

    def _open_sealed(self, f: BinaryIO):
        """(the sealed file, plaintext size), or (None, size) for a plaintext object."""
        stored = os.fstat(f.fileno()).st_size
        if self._cipher is None:
            return None, stored
        if self._plaintext_possible and parse_header(f.read(HEADER_SIZE)) is None:
            return None, stored
        sealed = self._cipher.opened(f, stored)
        return sealed, sealed.size

    async def head(self, key: str) -> int | None:
        path = self._path(key)
        try:
            st = await asyncio.to_thread(path.stat)
        except MISSING:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        try:
            return await asyncio.to_thread(self._size, path, st.st_size)
        except MISSING:
            return None

    async def list_keys(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        validate_prefix(prefix)
        parent, _, name_start = prefix.rpartition("/")
        # Only the first directory needs filtering by name; everything below it matches.
        stack = [(parent, name_start)]
        while stack:
            rel, name_start = stack.pop()
            for name, is_dir, size, mtime in await asyncio.to_thread(_scan, self.root / rel, self._size):
                if not name.startswith(name_start):
                    continue
                key = f"{rel}/{name}" if rel else name
                if is_dir:
                    stack.append((key, ""))
                else:
                    yield ObjectInfo(key, size, datetime.fromtimestamp(mtime, UTC))

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str,
        content_type: str,
        disposition: str = "attachment",
    ) -> str | None:
        return None  # the app serves files through its own signed route

    # -- multipart: parts live in root/.multipart/{upload_id}/{part_number} -----------------

    async def create_multipart(self, key: str) -> str:
        validate_key(key)
        upload_id = uuid.uuid4().hex
        directory = self.root / UPLOADS / upload_id

        def create() -> None:
            directory.mkdir(parents=True)
            (directory / "key").write_text(key)

        await asyncio.to_thread(create)
        return upload_id

    async def _upload_dir(self, key: str, upload_id: str) -> Path:
        validate_key(key)
        directory = self.root / UPLOADS / upload_id
        try:
            if _UPLOAD_ID.fullmatch(upload_id) and await asyncio.to_thread((directory / "key").read_text) == key:
                return directory
        except MISSING:
            pass
        raise ObjectNotFound(f"no upload {upload_id!r} for {key}")

    async def presigned_part_url(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> str | None:
        return None  # the app receives parts on its own endpoint and calls put_part

    async def put_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
    ) -> str:
        validate_part_number(part_number)
        path = await self._upload_dir(key, upload_id) / str(part_number)
        try:
            await self._write(path, key, chunks, max_size)
            return await asyncio.to_thread(self._etag, path)
        except MISSING:  # aborted meanwhile
            raise ObjectNotFound(f"no upload {upload_id!r} for {key}") from None

    def _etag(self, path: Path) -> str:
        """A part's identity: its salt when sealed (kept by re-encryption), else inode and mtime
        (every write creates a new inode, so they change whenever a part is replaced)."""
        header = read_header(path) if self._cipher else None
        if header is not None:
            return header.salt.hex()
        st = path.stat()
        return f"{st.st_ino:x}-{st.st_mtime_ns:x}"

    async def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        directory = await self._upload_dir(key, upload_id)

        def scan() -> list[PartInfo]:
            parts = []
            for entry in os.scandir(directory):
                if entry.name.isdigit():
                    path = Path(entry.path)
                    parts.append(PartInfo(int(entry.name), self._etag(path), self._size(path, entry.stat().st_size)))
            return sorted(parts)

        try:
            return await asyncio.to_thread(scan)
        except MISSING:
            raise ObjectNotFound(f"no upload {upload_id!r} for {key}") from None

    async def complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> None:
        numbers = validate_parts(parts)
        directory = await self._upload_dir(key, upload_id)
        current = {p.part_number: p for p in await self.list_parts(key, upload_id)}
        for i, (number, etag) in enumerate(parts):
            part = current.get(number)
            if part is None or part.etag != etag.strip('"'):
                raise StorageError(f"part {number} is missing or was replaced")
            if i < len(parts) - 1 and part.size < MIN_PART_SIZE:
                raise StorageError(f"part {number} is smaller than {MIN_PART_SIZE} bytes")

        async def assembled() -> AsyncIterator[bytes]:
            for number in numbers:
                async for chunk in self._read(directory / str(number), key, 0, None):
                    yield chunk

        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await self._write(path, key, assembled(), None)
        await asyncio.to_thread(shutil.rmtree, directory, True)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            directory = await self._upload_dir(key, upload_id)
        except ObjectNotFound:
            return
        await asyncio.to_thread(shutil.rmtree, directory, True)

    # -- maintenance -----------------------------------------------------------------------

    async def check(self) -> None:
        def probe() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise PermissionError(f"{self.root} is not writable")

        try:
            await asyncio.to_thread(probe)
        except OSError as e:
            raise StorageError(f"filesystem storage unusable: {e}") from e

    async def sweep_temporary(self, older_than: float = 24 * 3600) -> int:
        """Remove temporary files and multipart uploads untouched for ``older_than`` seconds
        (crash leftovers and abandoned uploads; S3 uses a bucket lifecycle rule instead).
        Returns how many were removed."""

        def sweep() -> int:
            cutoff, removed = time.time() - older_than, 0
            for dirpath, dirnames, filenames in os.walk(self.root):
                if Path(dirpath) == self.root / UPLOADS:
                    for name in dirnames:
                        if _newest_mtime(Path(dirpath, name)) < cutoff:
                            shutil.rmtree(Path(dirpath, name), ignore_errors=True)
                            removed += 1
                    dirnames.clear()
                for name in filenames:
                    path = Path(dirpath, name)
                    if name.startswith(TMP) and path.stat().st_mtime < cutoff:
                        path.unlink(missing_ok=True)
                        removed += 1
            return removed

        return await asyncio.to_thread(sweep)

    async def close(self) -> None:
        pass


def _write_block(f: BinaryIO, encryptor: SegmentEncryptor | None, block: bytearray) -> None:
    if encryptor:
        f.writelines(encryptor.feed(block))
    else:
        f.write(block)


def _commit(f: BinaryIO, tmp: Path, path: Path, encryptor: SegmentEncryptor | None, replacing: int | None) -> None:
    if encryptor:
        f.write(encryptor.finish())
    f.flush()
    os.fsync(f.fileno())
    f.close()
    if replacing is not None:
        try:
            if os.stat(path).st_ino != replacing:
                raise Superseded(path)
        except MISSING:
            raise Superseded(path) from None
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read_block(f: BinaryIO, sealed, start: int, stop: int) -> bytes:
    if sealed:
        return b"".join(sealed.read_range(start, stop))
    f.seek(start)
    return f.read(stop - start + 1)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry is only on disk once the directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _scan(directory: Path, size_of) -> list[tuple[str, bool, int, float]]:
    """Entries of one directory (name, is a directory, plaintext size, mtime), hiding
    dot-prefixed bookkeeping (temp files, .multipart, .encryption)."""
    try:
        with os.scandir(directory) as entries:
            out = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    out.append((entry.name, True, 0, 0.0))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    try:
                        out.append((entry.name, False, size_of(Path(entry.path), st.st_size), st.st_mtime))
                    except MISSING:  # deleted meanwhile
                        continue
            return out
    except MISSING:
        return []


def _newest_mtime(directory: Path) -> float:
    return max((p.stat().st_mtime for p in directory.iterdir()), default=directory.stat().st_mtime)
