"""Async blob storage on local disk or S3. See ``base.Storage`` for the contract."""

from __future__ import annotations

import base64
import binascii
import functools
import os
from pathlib import Path

from ..keyring import Key, Keyring, add_key, configured, file_keyring
from .base import (
    MIN_PART_SIZE,
    ObjectCorrupted,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    ReencryptionBatch,
    Storage,
    StorageError,
    StorageSizeExceeded,
    StoredObject,
    content_disposition,
    hash_object,
    validate_key,
)
from .filesystem import FilesystemStorage
from .s3 import S3Storage

__all__ = [
    "MIN_PART_SIZE",
    "FilesystemStorage",
    "ObjectCorrupted",
    "ObjectInfo",
    "ObjectNotFound",
    "PartInfo",
    "ReencryptionBatch",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageSizeExceeded",
    "StoredObject",
    "build_storage",
    "content_disposition",
    "hash_object",
    "parse_encryption_key",
    "rotate_storage_key",
    "storage_from_settings",
    "storage_keys",
    "validate_key",
]


def parse_encryption_key(value: bytes | str) -> bytes:
    """32 raw bytes, or their encoding as 64 hex digits or base64 (standard or URL-safe)."""
    if isinstance(value, bytes):
        key = value
    else:
        value = value.strip()
        try:
            if len(value) == 64:
                key = bytes.fromhex(value)
            else:
                key = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
        except (ValueError, binascii.Error):
            raise ValueError("encryption key is neither hex nor base64") from None
    if len(key) != 32:
        raise ValueError("encryption key must be 32 bytes")
    return key


STORAGE_KEY_FILE = "storage_keys.json"


def encryption_keys(data_dir: Path, configured_keys: str | None = None) -> Keyring:
    """The keys that seal filesystem objects: `configured_keys` (comma-separated, newest first)
    when given, else the keyring in the data directory, generated on first use."""
    if configured_keys:
        return _configured_keys(configured_keys)
    return _data_dir_keys(Path(data_dir).resolve())


@functools.cache
def _configured_keys(value: str) -> Keyring:
    return configured(value, parse_encryption_key)


@functools.cache  # one keyring object per process and data dir: it reloads itself
def _data_dir_keys(data_dir: Path) -> Keyring:
    return file_keyring(data_dir / STORAGE_KEY_FILE, _new_key)


def _new_key() -> bytes:
    return os.urandom(32)


def storage_keys(settings) -> Keyring:
    return encryption_keys(settings.data_dir, settings.storage_encryption_key)


def rotate_storage_key(settings) -> Key:
    """A new key, first in the data directory's keyring: new objects use it from now on; the
    others stay to read what they sealed until the worker has re-encrypted it."""
    if settings.storage_encryption_key:
        raise ValueError("STORAGE_ENCRYPTION_KEY is set: put the new key first in it instead")
    path = storage_keys(settings).path
    if path is None:  # not from STORAGE_ENCRYPTION_KEY, checked above: from the data directory's file
        raise ValueError("the storage keys are not kept in a file")
    return add_key(path, _new_key)


def build_storage(
    kind: str,
    *,
    data_dir: Path,
    s3_endpoint_url: str | None = None,
    s3_bucket: str | None = None,
    s3_region: str = "us-east-1",
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    encryption_key: str | None = None,
    s3_public_endpoint_url: str | None = None,
    s3_server_side_encryption: str | None = "AES256",
    s3_kms_key_id: str | None = None,
    s3_ca_bundle: str | None = None,
) -> Storage:
    """The configured backend. The filesystem one encrypts with `encryption_key` (a
    comma-separated list, newest first) or else the keyring in the data directory. S3 objects
    are encrypted by the server: SSE-S3 (AES256) by default, SSE-KMS with `s3_kms_key_id`."""
    if kind == "filesystem":
        return FilesystemStorage(Path(data_dir) / "blobs", encryption_keys(data_dir, encryption_key))
    if kind == "s3":
        if not s3_bucket:
            raise ValueError("s3 storage needs a bucket name")
        return S3Storage(
            s3_bucket,
            endpoint_url=s3_endpoint_url,
            region=s3_region,
            access_key=s3_access_key,
            secret_key=s3_secret_key,
            public_endpoint_url=s3_public_endpoint_url,
            server_side_encryption="aws:kms" if s3_kms_key_id else s3_server_side_encryption,
            kms_key_id=s3_kms_key_id,
            ca_bundle=s3_ca_bundle,
        )
    raise ValueError(f"unknown storage kind: {kind!r}")


def storage_from_settings(settings) -> Storage:
    """The backend docgraph's settings (docgraph.config.Settings) describe."""
    return build_storage(
        settings.storage, data_dir=settings.data_dir, s3_endpoint_url=settings.s3_endpoint_url,
        s3_bucket=settings.s3_bucket, s3_region=settings.s3_region, s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key, encryption_key=settings.storage_encryption_key,
        s3_public_endpoint_url=settings.s3_public_endpoint_url,
        s3_server_side_encryption=settings.s3_server_side_encryption or None,
        s3_kms_key_id=settings.s3_kms_key_id, s3_ca_bundle=settings.s3_ca_bundle,
    )
