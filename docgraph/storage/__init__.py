"""Async blob storage on local disk or S3. See ``base.Storage`` for the contract."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from .base import (
    MIN_PART_SIZE,
    ObjectCorrupted,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
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
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageSizeExceeded",
    "StoredObject",
    "build_storage",
    "content_disposition",
    "hash_object",
    "parse_encryption_key",
    "storage_from_settings",
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


def build_storage(
    kind: str,
    *,
    data_dir: Path,
    s3_endpoint_url: str | None = None,
    s3_bucket: str | None = None,
    s3_region: str = "us-east-1",
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    encryption_key: bytes | str | None = None,
    s3_public_endpoint_url: str | None = None,
) -> Storage:
    """The configured backend. ``encryption_key`` applies to the filesystem only: S3 objects
    are encrypted by the server (SSE-S3, AES256)."""
    if kind == "filesystem":
        key = parse_encryption_key(encryption_key) if encryption_key else None
        return FilesystemStorage(Path(data_dir) / "blobs", encryption_key=key)
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
        )
    raise ValueError(f"unknown storage kind: {kind!r}")


def storage_from_settings(settings) -> Storage:
    """The backend docgraph's settings (docgraph.config.Settings) describe."""
    return build_storage(
        settings.storage, data_dir=settings.data_dir, s3_endpoint_url=settings.s3_endpoint_url,
        s3_bucket=settings.s3_bucket, s3_region=settings.s3_region, s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key, encryption_key=settings.storage_encryption_key,
        s3_public_endpoint_url=settings.s3_public_endpoint_url,
    )
