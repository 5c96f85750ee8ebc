"""Blobs as files under a root directory, encrypted at rest (encryption.py) when given keys.

Every write goes to a dot-prefixed temporary file next to its destination, is fsynced, renamed
over the destination and the directory fsynced, so readers see the old object or the new one
and a crash leaves at most a stale temporary file (see ``sweep_temporary``). Blocking calls run
in worker threads in 1 MiB steps.

Key rotation (``reencrypt``): objects sealed with an older key, or not encrypted at all (written
before encryption was the default), are re-encrypted with the newest key, one at a time through
the same write-then-rename, so every read sees a whole object under one key or the other. The
file ``.encryption`` in the root names the key every object was under at the end of the last
complete pass; while it is missing (a directory from before), objects without a header are read
as plaintext. A fresh directory gets it at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
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

from .base import (
    MIN_PART_SIZE,
    MiB,
    ReencryptionBatch,
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
from ..keyring import Keyring, make_key
from .encryption import HEADER_SIZE, SEGMENT_SIZE, Header, SegmentCipher, SegmentEncryptor, parse_header, plaintext_size

IO_CHUNK = 16 * SEGMENT_SIZE  # 1 MiB, whole segments so encrypted batches never split one
_UPLOADS = ".multipart"
_TMP = ".tmp-"
_MARKER = ".encryption"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
PLAINTEXT = "plaintext"
UNKNOWN_KEY = "unknown"  # sealed before key ids were recorded

log = logging.getLogger("docgraph.storage")


class _Superseded(Exception):
    """The object changed or vanished while it was being re-encrypted: leave it alone."""


class FilesystemStorage(StorageBase):
    def __init__(self, root: Path, keys: Keyring | bytes | None = None):
        """`keys`: the keyring that seals objects (one raw 32-byte key will do); None stores
        plaintext."""
        self.root = Path(root)
        if isinstance(keys, bytes):
            keys = Keyring([make_key(keys)])
        self._cipher = SegmentCipher(keys) if keys is not None else None
        # Objects without a header are plaintext from before encryption, not damage.
        self._plaintext_possible = self._cipher is None or _open_root(self.root, keys.current.id)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _size(self, path: Path, stored_size: int) -> int:
        """An object's plaintext size; reads its header only while old plaintext may remain."""
        if self._cipher is None:
            return stored_size
        if not self._plaintext_possible:
            return plaintext_size(stored_size)
        header = _read_header(path)
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
        ``path`` must still have at the end (re-encryption), else _Superseded."""
        stream = HashingStream(chunks, max_size)
        tmp = path.with_name(f"{_TMP}{uuid.uuid4().hex}")
        try:
            f = await asyncio.to_thread(open, tmp, "xb")
        except _MISSING:
            raise ObjectNotFound(f"no directory for {key}") from None
        encryptor = self._cipher.encryptor(salt) if self._cipher else None
        try:
            if encryptor:
                await asyncio.to_thread(f.write, encryptor.header)
            async for block in rechunk(stream, IO_CHUNK):
                await asyncio.to_thread(_write_block, f, encryptor, block)
            if encryptor and encryptor.key_id not in {k.id for k in self._cipher.keys.keys}:
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
        try:
            await asyncio.to_thread(path.unlink)
        except _MISSING:
            pass

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
        except _MISSING:
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
        except _MISSING:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        try:
            return await asyncio.to_thread(self._size, path, st.st_size)
        except _MISSING:
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
        directory = self.root / _UPLOADS / upload_id

        def create() -> None:
            directory.mkdir(parents=True)
            (directory / "key").write_text(key)

        await asyncio.to_thread(create)
        return upload_id

    async def _upload_dir(self, key: str, upload_id: str) -> Path:
        validate_key(key)
        directory = self.root / _UPLOADS / upload_id
        try:
            if _UPLOAD_ID.fullmatch(upload_id):
                if await asyncio.to_thread((directory / "key").read_text) == key:
                    return directory
        except _MISSING:
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
        except _MISSING:  # aborted meanwhile
            raise ObjectNotFound(f"no upload {upload_id!r} for {key}") from None

    def _etag(self, path: Path) -> str:
        """A part's identity: its salt when sealed (kept by re-encryption), else inode and mtime
        (every write creates a new inode, so they change whenever a part is replaced)."""
        header = _read_header(path) if self._cipher else None
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
        except _MISSING:
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
                if Path(dirpath) == self.root / _UPLOADS:
                    for name in dirnames:
                        if _newest_mtime(Path(dirpath, name)) < cutoff:
                            shutil.rmtree(Path(dirpath, name), ignore_errors=True)
                            removed += 1
                    dirnames.clear()
                for name in filenames:
                    path = Path(dirpath, name)
                    if name.startswith(_TMP) and path.stat().st_mtime < cutoff:
                        path.unlink(missing_ok=True)
                        removed += 1
            return removed

        return await asyncio.to_thread(sweep)

    async def close(self) -> None:
        pass

    # -- key rotation ----------------------------------------------------------------------

    @property
    def encryption_keys(self) -> Keyring | None:
        return self._cipher.keys if self._cipher else None

    def needs_reencryption(self) -> bool:
        if self._cipher is None:
            return False
        try:
            marked = (self.root / _MARKER).read_text().strip()
        except _MISSING:
            return True
        return marked != self._cipher.keys.current.id

    async def reencrypt(self, after: list[str] | None, *, limit: int = 100,
                        max_bytes: int = 256 * MiB) -> ReencryptionBatch:
        """Objects (parts of open uploads included) in path order after `after`."""
        if self._cipher is None:
            return ReencryptionBatch(None, 0, 0, None)
        key_id = self._cipher.keys.current.id
        objects = await asyncio.to_thread(_objects_after, self.root, tuple(after or ()), limit)
        cursor, examined, changed, written = after, 0, 0, 0
        for parts in objects:
            size = await self._reencrypt_object(self.root.joinpath(*parts), key_id)
            cursor, examined = list(parts), examined + 1
            if size is not None:
                changed, written = changed + 1, written + size
                if written >= max_bytes:
                    break
        reached_end = len(objects) < limit and examined == len(objects)
        return ReencryptionBatch(None if reached_end else cursor, examined, changed, key_id)

    async def _reencrypt_object(self, path: Path, key_id: str) -> int | None:
        """Seal one object with `key_id` unless it is already; its size when it was re-encrypted."""
        try:
            header, inode = await asyncio.to_thread(_header_and_inode, path)
        except _MISSING:
            return None
        if header is not None and header.key_id == key_id:
            return None
        if header is None and not self._plaintext_possible:
            log.warning("%s is neither encrypted nor from before encryption: left alone", path)
            return None
        key = path.relative_to(self.root).as_posix()
        salt = header.salt if header is not None and header.key_id is not None else None
        try:
            stored = await self._write(path, key, self._read(path, key, 0, None), None, salt=salt, replacing=inode)
        except (_Superseded, ObjectNotFound):
            return None  # replaced or deleted meanwhile: whoever did it wrote with a current key
        return stored.size

    async def finish_reencryption(self, key_id: str) -> None:
        await asyncio.to_thread(_write_marker, self.root, key_id)
        self._plaintext_possible = False

    async def key_usage(self) -> dict[str, int]:
        def count() -> dict[str, int]:
            usage: dict[str, int] = {}
            for parts in _objects_after(self.root, (), None):
                try:
                    header = _read_header(self.root.joinpath(*parts))
                except _MISSING:
                    continue
                name = PLAINTEXT if header is None else header.key_id or UNKNOWN_KEY
                usage[name] = usage.get(name, 0) + 1
            return usage

        return await asyncio.to_thread(count) if self._cipher else {}


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
                raise _Superseded(path)
        except _MISSING:
            raise _Superseded(path) from None
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read_block(f: BinaryIO, sealed, start: int, stop: int) -> bytes:
    if sealed:
        return b"".join(sealed.read_range(start, stop))
    f.seek(start)
    return f.read(stop - start + 1)


def _read_header(path: Path) -> Header | None:
    with open(path, "rb") as f:
        return parse_header(f.read(HEADER_SIZE))


def _header_and_inode(path: Path) -> tuple[Header | None, int]:
    with open(path, "rb") as f:
        return parse_header(f.read(HEADER_SIZE)), os.fstat(f.fileno()).st_ino


def _objects_after(root: Path, after: tuple[str, ...], limit: int | None) -> list[tuple[str, ...]]:
    """The next `limit` objects (path components) after `after`, in path order: every file
    but temporary ones, including the parts of open multipart uploads."""
    return list(itertools.islice(_walk(root, (), after), limit))


def _walk(directory: Path, prefix: tuple[str, ...], after: tuple[str, ...]):
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda entry: entry.name)
    except _MISSING:
        return
    in_upload = len(prefix) == 2 and prefix[0] == _UPLOADS
    for entry in entries:
        parts = prefix + (entry.name,)
        if entry.name.startswith(".") and not (entry.name == _UPLOADS and not prefix):
            continue  # temporary files, the marker
        if entry.is_dir(follow_symlinks=False):
            if parts >= after[: len(parts)]:  # else the whole subtree lies before the cursor
                yield from _walk(Path(entry.path), parts, after)
        elif entry.is_file(follow_symlinks=False) and parts > after and (not in_upload or entry.name.isdigit()):
            yield parts


def _open_root(root: Path, key_id: str) -> bool:
    """Whether plaintext objects may be in `root`: it holds objects but no `.encryption` file
    (written before encryption was the default). An empty root is marked at once."""
    try:
        if (root / _MARKER).exists():
            return False
        root.mkdir(parents=True, exist_ok=True)
        with os.scandir(root) as entries:
            if any(not entry.name.startswith(".") or entry.name == _UPLOADS for entry in entries):
                return True
        _write_marker(root, key_id)
    except OSError:  # an unusable root: check() says so, and nothing is read from it
        pass
    return False


def _write_marker(root: Path, key_id: str) -> None:
    tmp = root / f"{_TMP}{uuid.uuid4().hex}"
    tmp.write_text(key_id)
    os.replace(tmp, root / _MARKER)


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
                    except _MISSING:  # deleted meanwhile
                        continue
            return out
    except _MISSING:
        return []


def _newest_mtime(directory: Path) -> float:
    return max((p.stat().st_mtime for p in directory.iterdir()), default=directory.stat().st_mtime)
