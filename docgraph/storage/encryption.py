"""Segmented AES-256-GCM for files at rest, readable at any byte range, with rotating keys.

File layout::

    MAGIC "DGE2" (4) | key id (8) | salt (16, random per file) | segment 0 | segment 1 | ... | final segment

The key id names the keyring key (docgraph/keyring.py) the file was sealed with, so any key
still in the keyring decrypts while new files use the newest. Each file is sealed with its own
key, HKDF(master key, salt), so nonces never repeat across files however many there are (a
random 96-bit nonce per file under one key would start colliding after a few billion files).
Every segment holds SEGMENT_SIZE plaintext bytes (the final one 0..SEGMENT_SIZE) and is sealed
on its own with the segment counter as nonce, so a range read decrypts only the segments it
touches. The associated data marks the final segment: cutting a file at a segment border leaves
a last segment that was sealed as "not final", which fails authentication, and an empty
plaintext still has one (empty) final segment. Reordered segments fail too, since their
counters no longer match.

Re-encrypting a file under a new key keeps its salt: the derived key differs (another master
key), and the file keeps its identity (multipart part etags are the salt).

Files written before key ids ("DGE1": magic and salt only, no key id, 20 bytes of header) are
still read: the key is whichever one authenticates the first segment.

Not covered: a file swapped whole for another file sealed with the same master key (the key
name is not bound in, because staging files are renamed into place). Callers that care compare
the SHA-256 in the key with the content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..keyring import Key, Keyring
from .base import ObjectCorrupted

MAGIC = b"DGE2"
LEGACY_MAGIC = b"DGE1"
KEY_ID_SIZE = 8
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + KEY_ID_SIZE + SALT_SIZE
LEGACY_HEADER_SIZE = len(LEGACY_MAGIC) + SALT_SIZE
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
SEALED_SIZE = SEGMENT_SIZE + TAG_SIZE
_FINAL, _NOT_FINAL = b"\x01", b"\x00"


@dataclass(frozen=True)
class Header:
    key_id: str | None  # None: a file from before key ids
    salt: bytes
    size: int  # bytes before the first segment


def parse_header(raw: bytes) -> Header | None:
    """The header at the start of a file, or None when the file is not encrypted."""
    if raw.startswith(MAGIC) and len(raw) >= HEADER_SIZE:
        kid = raw[len(MAGIC) : len(MAGIC) + KEY_ID_SIZE].hex()
        return Header(kid, raw[HEADER_SIZE - SALT_SIZE : HEADER_SIZE], HEADER_SIZE)
    if raw.startswith(LEGACY_MAGIC) and len(raw) >= LEGACY_HEADER_SIZE:
        return Header(None, raw[len(LEGACY_MAGIC) : LEGACY_HEADER_SIZE], LEGACY_HEADER_SIZE)
    return None


def plaintext_size(stored_size: int, header_size: int = HEADER_SIZE) -> int:
    """Size implied by the file length (checked only when segments are decrypted)."""
    body = stored_size - header_size
    segments = -(-body // SEALED_SIZE)  # ceil
    return max(body - segments * TAG_SIZE, 0)


def _file_aead(key: Key, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=SHA256(), length=32, salt=salt, info=b"docgraph blob segments")
    return AESGCM(hkdf.derive(key.material))


class SegmentCipher:
    def __init__(self, keys: Keyring):
        for key in keys.keys:
            if len(key.material) != 32:
                raise ValueError("encryption keys must be 32 bytes (AES-256)")
        self.keys = keys

    def encryptor(self, salt: bytes | None = None) -> SegmentEncryptor:
        """Seal with the newest key; `salt` is given when re-encrypting a file."""
        key = self.keys.current
        salt = salt or os.urandom(SALT_SIZE)
        return SegmentEncryptor(_file_aead(key, salt), MAGIC + bytes.fromhex(key.id) + salt, key.id)

    def opened(self, f: BinaryIO, stored_size: int) -> SealedFile:
        """The sealed file open in `f`; ObjectCorrupted when it is not one, or its key is gone."""
        f.seek(0)
        header = parse_header(f.read(HEADER_SIZE))
        if header is None:
            raise ObjectCorrupted("not an encrypted file")
        if header.key_id is not None:
            key = self.keys.find(header.key_id)
            if key is None:
                raise ObjectCorrupted(f"sealed with key {header.key_id}, which is not in the keyring")
            return SealedFile(f, header, _file_aead(key, header.salt), stored_size)
        for key in self.keys.keys:  # before key ids: the key whose first segment authenticates
            sealed = SealedFile(f, header, _file_aead(key, header.salt), stored_size)
            try:
                sealed.check_first_segment()
                return sealed
            except ObjectCorrupted:
                continue
        raise ObjectCorrupted("no key of the keyring opens this file")


class SealedFile:
    def __init__(self, f: BinaryIO, header: Header, aead: AESGCM, stored_size: int):
        self.f, self.header, self._aead, self.stored_size = f, header, aead, stored_size
        self.size = plaintext_size(stored_size, header.size)
        self._last = -(-(stored_size - header.size) // SEALED_SIZE) - 1

    def check_first_segment(self) -> None:
        for _ in self.read_range(0, -1):
            pass

    def read_range(self, start: int, end: int) -> Iterator[bytes]:
        """Plaintext bytes ``start..end`` (inclusive, already clamped); blocking.

        ``end = start - 1`` reads nothing but still authenticates the segment at ``start``: that
        is how an empty file proves it was not truncated.
        """
        first_seg = start // SEGMENT_SIZE
        last_seg = max(end // SEGMENT_SIZE, first_seg)
        self.f.seek(self.header.size + first_seg * SEALED_SIZE)
        for index in range(first_seg, last_seg + 1):
            plain = _open(self._aead, index, self.f.read(SEALED_SIZE), index == self._last)
            base = index * SEGMENT_SIZE
            yield plain[max(start - base, 0) : end - base + 1]


class SegmentEncryptor:
    """Streaming sealer: write ``header``, then what ``feed`` returns, then ``finish()``.

    One segment is held back until more data arrives, because only the end of the stream
    tells which segment is final.
    """

    def __init__(self, aead: AESGCM, header: bytes, key_id: str):
        self._aead = aead
        self._index = 0
        self._pending = bytearray()
        self.header = header
        self.key_id = key_id

    @property
    def salt(self) -> bytes:
        return self.header[-SALT_SIZE:]

    def feed(self, data: bytes | bytearray) -> list[bytes]:
        """Sealed segments ready to be written (possibly none)."""
        out, view = [], memoryview(data)
        while view:
            if len(self._pending) == SEGMENT_SIZE:
                out.append(self._seal(self._pending, final=False))
                self._pending = bytearray()
            n = min(SEGMENT_SIZE - len(self._pending), len(view))
            self._pending += view[:n]
            view = view[n:]
        return out

    def finish(self) -> bytes:
        return self._seal(self._pending, final=True)

    def _seal(self, plain: bytes | bytearray, *, final: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._index), bytes(plain), _ad(final))
        self._index += 1
        return sealed


def _open(aead: AESGCM, index: int, sealed: bytes, final: bool) -> bytes:
    try:
        return aead.decrypt(_nonce(index), sealed, _ad(final))
    except InvalidTag:
        raise ObjectCorrupted(f"segment {index} failed authentication") from None


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _ad(final: bool) -> bytes:
    return _FINAL if final else _NOT_FINAL
