"""Key rotation for the encrypted filesystem backend (mixed into FilesystemStorage).

Objects sealed with an older key, or not encrypted at all (written before encryption was the
default), are re-encrypted with the newest key, one at a time through the backend's own
write-then-rename, so every read sees a whole object under one key or the other. An object that
was replaced or deleted meanwhile (its inode changed) is left to whoever did that. The file
`.encryption` in the root names the key every object was under at the end of the last complete
pass; while it is missing (a directory from before), objects without a header are read as
plaintext. A fresh directory gets it at once.

Objects are walked in path order (path components compared one by one), so a pass can stop
after any object and resume after it: the parts of open multipart uploads are objects too
(re-encryption keeps their salt, which is their etag); temporary files are not.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from pathlib import Path

from ..keyring import Keyring
from .base import MiB, ObjectNotFound, ReencryptionBatch
from .encryption import HEADER_SIZE, Header, parse_header

MARKER = ".encryption"
UPLOADS = ".multipart"
TMP = ".tmp-"
PLAINTEXT = "plaintext"
UNKNOWN_KEY = "unknown"  # sealed before key ids were recorded
MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)

log = logging.getLogger("docgraph.storage")


class Superseded(Exception):
    """The object changed or vanished while it was being re-encrypted: leave it alone."""


class KeyRotation:
    """Needs of its host: `root`, `_cipher` (None: plaintext storage), `_plaintext_possible`,
    `_read(path, key, start, end)` and `_write(path, key, chunks, max_size, salt=, replacing=)`."""

    @property
    def encryption_keys(self) -> Keyring | None:
        return self._cipher.keys if self._cipher else None

    def needs_reencryption(self) -> bool:
        if self._cipher is None:
            return False
        try:
            marked = (self.root / MARKER).read_text().strip()
        except MISSING:
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
        except MISSING:
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
        except (Superseded, ObjectNotFound):
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
                    header = read_header(self.root.joinpath(*parts))
                except MISSING:
                    continue
                name = PLAINTEXT if header is None else header.key_id or UNKNOWN_KEY
                usage[name] = usage.get(name, 0) + 1
            return usage

        return await asyncio.to_thread(count) if self._cipher else {}


def read_header(path: Path) -> Header | None:
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
    except MISSING:
        return
    in_upload = len(prefix) == 2 and prefix[0] == UPLOADS
    for entry in entries:
        parts = (*prefix, entry.name)
        if entry.name.startswith(".") and not (entry.name == UPLOADS and not prefix):
            continue  # temporary files, the marker
        if entry.is_dir(follow_symlinks=False):
            if parts >= after[: len(parts)]:  # else the whole subtree lies before the cursor
                yield from _walk(Path(entry.path), parts, after)
        elif entry.is_file(follow_symlinks=False) and parts > after and (not in_upload or entry.name.isdigit()):
            yield parts


def open_root(root: Path, key_id: str) -> bool:
    """Whether plaintext objects may be in `root`: it holds objects but no `.encryption` file
    (written before encryption was the default). An empty root is marked at once."""
    try:
        if (root / MARKER).exists():
            return False
        root.mkdir(parents=True, exist_ok=True)
        with os.scandir(root) as entries:
            if any(not entry.name.startswith(".") or entry.name == UPLOADS for entry in entries):
                return True
        _write_marker(root, key_id)
    except OSError:  # an unusable root: check() says so, and nothing is read from it
        pass
    return False


def _write_marker(root: Path, key_id: str) -> None:
    tmp = root / f"{TMP}{uuid.uuid4().hex}"
    tmp.write_text(key_id)
    os.replace(tmp, root / MARKER)
