"""Segmented AES-256-GCM for files at rest, readable at any byte range.

File layout::

    MAGIC (4) | nonce prefix (8, random per file) | segment 0 | segment 1 | ... | final segment

Every segment holds SEGMENT_SIZE plaintext bytes (the final one 0..SEGMENT_SIZE) and is sealed on
its own with nonce = prefix || counter (4 bytes, big endian), so a range read decrypts only the
segments it touches. The associated data marks the final segment: cutting a file at a segment
border leaves a last segment that was sealed as "not final", which fails authentication, and an
empty plaintext still has one (empty) final segment. Reordering segments changes their nonces and
fails too. A random 64-bit prefix keeps nonce reuse negligible for billions of files per key.

Not covered: a file swapped whole for another file sealed with the same key (the key name
is not bound in, because staging files are renamed into place). Callers that care compare the
SHA-256 in the key with the content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .base import ObjectCorrupted

MAGIC = b"DGE1"
PREFIX_SIZE = 8
HEADER_SIZE = len(MAGIC) + PREFIX_SIZE
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
SEALED_SIZE = SEGMENT_SIZE + TAG_SIZE
_MAX_SEGMENTS = 2**32
_FINAL, _NOT_FINAL = b"\x01", b"\x00"


class SegmentCipher:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def encryptor(self) -> SegmentEncryptor:
        return SegmentEncryptor(self._aead)

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
        prefix = header[len(MAGIC) :]
        last = -(-(stored_size - HEADER_SIZE) // SEALED_SIZE) - 1
        first_seg = start // SEGMENT_SIZE
        last_seg = max(end // SEGMENT_SIZE, first_seg)
        f.seek(HEADER_SIZE + first_seg * SEALED_SIZE)
        for index in range(first_seg, last_seg + 1):
            plain = self._open(prefix, index, f.read(SEALED_SIZE), index == last)
            base = index * SEGMENT_SIZE
            yield plain[max(start - base, 0) : end - base + 1]

    def _open(self, prefix: bytes, index: int, sealed: bytes, final: bool) -> bytes:
        try:
            return self._aead.decrypt(
                _nonce(prefix, index), sealed, _FINAL if final else _NOT_FINAL
            )
        except InvalidTag:
            raise ObjectCorrupted(f"segment {index} failed authentication") from None


class SegmentEncryptor:
    """Streaming sealer: feed plaintext, write what comes out, then write ``finish()``.

    One segment is held back until more data arrives, because only the end of the stream
    tells which segment is final.
    """

    def __init__(self, aead: AESGCM):
        self._aead = aead
        self._prefix = os.urandom(PREFIX_SIZE)
        self._index = 0
        self._pending = bytearray()
        self.header = MAGIC + self._prefix

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
        if self._index >= _MAX_SEGMENTS:
            raise ValueError("file too large for one nonce prefix")
        sealed = self._aead.encrypt(
            _nonce(self._prefix, self._index), bytes(plain), _FINAL if final else _NOT_FINAL
        )
        self._index += 1
        return sealed


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")
