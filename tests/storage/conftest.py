"""Fixtures for the storage contract suite.

The S3 backend is tested over real HTTP against the session's ``s3_endpoint`` (tests/conftest.py:
``S3_ENDPOINT_URL`` when set, else one moto server shared with the API tests).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from docgraph.storage import FilesystemStorage, S3Storage

ENCRYPTION_KEY = bytes(range(32))


def new_s3_storage(endpoint: str, **kwargs) -> S3Storage:
    """An S3Storage on a fresh bucket name (create it with ``await s.ensure_bucket()``)."""
    return S3Storage(
        f"docgraph-test-{uuid.uuid4().hex[:16]}",
        endpoint_url=endpoint,
        access_key=os.environ.get("S3_ACCESS_KEY", "testing"),
        secret_key=os.environ.get("S3_SECRET_KEY", "testing"),
        **kwargs,
    )


@pytest.fixture
async def s3_factory(s3_endpoint: str) -> AsyncIterator[Callable[..., S3Storage]]:
    """For S3-only tests that need their own settings."""
    made: list[S3Storage] = []

    def make(**kwargs) -> S3Storage:
        made.append(new_s3_storage(s3_endpoint, **kwargs))
        return made[-1]

    yield make
    for storage in made:
        await _discard(storage)


async def _discard(storage: S3Storage) -> None:
    with contextlib.suppress(Exception):
        await _drop_bucket(storage)
    await storage.close()


async def _drop_bucket(storage: S3Storage) -> None:
    """Leave a shared server (MinIO) clean; moto forgets everything anyway."""
    s3 = await storage._client()
    uploads = await s3.list_multipart_uploads(Bucket=storage.bucket)
    for upload in uploads.get("Uploads", ()):
        await storage.abort_multipart(upload["Key"], upload["UploadId"])
    async for info in storage.list_keys(""):
        await storage.delete(info.key)
    await s3.delete_bucket(Bucket=storage.bucket)


@pytest.fixture(params=["filesystem", "filesystem-encrypted", "s3"])
async def storage(request, tmp_path) -> AsyncIterator:
    if request.param == "s3":
        # Looked up here so that moto only starts when an S3 test runs.
        s3 = new_s3_storage(request.getfixturevalue("s3_endpoint"))
        await s3.ensure_bucket()
        yield s3
        await _discard(s3)
    else:
        key = ENCRYPTION_KEY if request.param == "filesystem-encrypted" else None
        fs = FilesystemStorage(tmp_path / "blobs", keys=key)
        yield fs
        await fs.close()
