"""build_storage, key parsing and the small shared helpers."""

from __future__ import annotations

import base64

import pytest

from docgraph.storage import (
    FilesystemStorage,
    S3Storage,
    Storage,
    build_storage,
    content_disposition,
    parse_encryption_key,
    validate_key,
)

KEY = bytes(range(32))


async def test_build_filesystem(tmp_path):
    storage = build_storage("filesystem", data_dir=tmp_path, encryption_key=KEY.hex())
    assert isinstance(storage, FilesystemStorage) and isinstance(storage, Storage)
    assert storage.root == tmp_path / "blobs"
    assert [key.material for key in storage.encryption_keys.keys] == [KEY]
    # Without a configured key, a key is generated once into the data directory.
    default = build_storage("filesystem", data_dir=tmp_path / "default")
    again = build_storage("filesystem", data_dir=tmp_path / "default")
    assert default.encryption_keys.current == again.encryption_keys.current
    assert len(default.encryption_keys.current.material) == 32
    assert (tmp_path / "default" / "storage_keys.json").stat().st_mode & 0o777 == 0o600


async def test_build_s3(tmp_path):
    storage = build_storage(
        "s3",
        data_dir=tmp_path,
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_bucket="docs",
        s3_region="eu-west-1",
        s3_access_key="a",
        s3_secret_key="b",
    )
    assert isinstance(storage, S3Storage) and isinstance(storage, Storage)
    assert (storage.bucket, storage.region) == ("docs", "eu-west-1")
    await storage.close()


def test_build_rejects_bad_settings(tmp_path):
    with pytest.raises(ValueError):
        build_storage("ftp", data_dir=tmp_path)
    with pytest.raises(ValueError):
        build_storage("s3", data_dir=tmp_path, s3_bucket=None)
    with pytest.raises(ValueError):
        build_storage("filesystem", data_dir=tmp_path, encryption_key="too short")


@pytest.mark.parametrize(
    "encoded",
    [KEY, KEY.hex(), base64.b64encode(KEY).decode(), base64.urlsafe_b64encode(KEY).decode()],
)
def test_parse_encryption_key(encoded):
    assert parse_encryption_key(encoded) == KEY


def test_content_disposition():
    assert content_disposition("report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    header = content_disposition('naïve "quote";\r\nx.txt', "inline")
    assert header.startswith('inline; filename="naive _quote__x.txt"')
    assert "\r" not in header and "\n" not in header
    assert "filename*=UTF-8''na%C3%AFve%20%22quote%22%3Bx.txt" in header
    assert 'filename="download"' in content_disposition("日本.pdf".replace(".pdf", ""))
    with pytest.raises(ValueError):
        content_disposition("x", "evil")


def test_validate_key_accepts_content_addressed_keys():
    key = "0b6c1f7e-2f4a-4c8e-9d1a-3e5f7a9b1c2d/blobs/" + "a" * 64
    assert validate_key(key) == key
