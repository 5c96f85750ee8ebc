"""Segmented AES-256-GCM for files at rest, readable at any byte range.

File layout::

    MAGIC (4) | salt (16, random per file) | segment 0 | segment 1 | ... | final segment

Each file is sealed with its own key, HKDF(master key, salt), so nonces never repeat across files
however many there are (a random 96-bit nonce per file under one key would start colliding
after a few billion files). Every segment holds SEGMENT_SIZE plaintext bytes (the final one
0..SEGMENT_SIZE) and is sealed on its own with the segment counter as nonce, so a range read
decrypts only the segments it touches. The associated data marks the final segment: cutting a
file at a segment border leaves a last segment that was sealed as "not final", which fails
authentication, and an empty plaintext still has one (empty) final segment. Reordered segments
fail too, since their counters no longer match.

Not covered: a file swapped whole for another file sealed with the same master key (the key
name is not bound in, because staging files are renamed into place). Callers that care compare
the SHA-256 in the key with the content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .base import ObjectCorrupted

MAGIC = b"DGE1"
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + SALT_SIZE
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
SEALED_SIZE = SEGMENT_SIZE + TAG_SIZE
_FINAL, _NOT_FINAL = b"\x01", b"\x00"


class SegmentCipher:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("encryption key must be 32 bytes (AES-256)")
        self._key = key

    def _file_aead(self, salt: bytes) -> AESGCM:
        hkdf = HKDF(algorithm=SHA256(), length=32, salt=salt, info=b"docgraph blob segments")
        return AESGCM(hkdf.derive(self._key))

    def encryptor(self) -> SegmentEncryptor:
        salt = os.urandom(SALT_SIZE)
        return SegmentEncryptor(self._file_aead(salt), MAGIC + salt)

    @staticmethod
    def plaintext_size(stored_size: int) -> int:
        """Size implied by the file length (checked only when segments are decrypted)."""
        body = stored_size - HEADER_SIZE
        segments = -(-body // SEALED_SIZE)  # ceil
        return max(body - segments * TAG_SIZE, 0)

    def read_range(self, f: BinaryIO, start: int, end: int, stored_size: int) -> Iterator[bytes]:
        """Plaintext bytes ``start..end`` (inclusive, already clamped) from an open file; blocking.

        ``end = start - 1`` reads nothing but still authenticates the segment at ``start``: that
        is how an empty file proves it was not truncated.
        """
        f.seek(0)
        header = f.read(HEADER_SIZE)
        if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
            raise ObjectCorrupted("not an encrypted file")
        aead = self._file_aead(header[len(MAGIC) :])
        last = -(-(stored_size - HEADER_SIZE) // SEALED_SIZE) - 1
        first_seg = start // SEGMENT_SIZE
        last_seg = max(end // SEGMENT_SIZE, first_seg)
        f.seek(HEADER_SIZE + first_seg * SEALED_SIZE)
        for index in range(first_seg, last_seg + 1):
            plain = _open(aead, index, f.read(SEALED_SIZE), index == last)
            base = index * SEGMENT_SIZE
            yield plain[max(start - base, 0) : end - base + 1]


class SegmentEncryptor:
    """Streaming sealer: feed plaintext, write what comes out, then write ``finish()``.

    One segment is held back until more data arrives, because only the end of the stream
    tells which segment is final.
    """

    def __init__(self, aead: AESGCM, header: bytes):
        self._aead = aead
        self._index = 0
        self._pending = bytearray()
        self.header = header

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
