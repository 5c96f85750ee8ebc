"""Blobs in an S3 (or S3-compatible: MinIO, Ceph, R2...) bucket through aioboto3.

One session and one long-lived client per instance: creating sessions per request costs more
than the requests. Streaming uploads drive the multipart API directly because aioboto3's managed
transfer can hold ~100 parts in memory; here at most two part buffers exist per upload (one
being sent, one being filled).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from .base import (
    MAX_PART_NUMBER,
    MIN_PART_SIZE,
    HashingStream,
    MiB,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    StorageBase,
    StorageError,
    StorageSizeExceeded,
    StoredObject,
    check_range,
    content_disposition,
    rechunk,
    validate_key,
    validate_part_number,
    validate_parts,
    validate_prefix,
)

READ_CHUNK = 1 * MiB
MAX_BUFFERED_PART = 64 * MiB  # put_part holds one part in memory: S3 needs its length up front
_NOT_FOUND = {"NoSuchKey", "NoSuchUpload", "NotFound", "404"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _translate(error: ClientError, what: str) -> StorageError:
    if _code(error) in _NOT_FOUND:
        return ObjectNotFound(what)
    return StorageError(f"S3 {_code(error) or 'error'} on {what}: {error}")


@contextlib.contextmanager
def _errors(what: str) -> Iterator[None]:
    """Translate botocore/aiohttp failures into the storage exceptions."""
    try:
        yield
    except ClientError as e:
        raise _translate(e, what) from e
    except (BotoCoreError, aiohttp.ClientError, TimeoutError) as e:
        raise StorageError(f"S3 unreachable on {what}: {e}") from e


class _BufferBody(io.RawIOBase):
    """A seekable read-only file over a part buffer, without copying it.

    Given bytes, aiohttp writes them at once and the socket's unsent remainder is copied into
    the transport buffer (a second part-sized copy). Given a file, it streams 64 KiB reads with
    back-pressure; seeking lets botocore hash the payload and rewind for retries.
    """

    def __init__(self, buffer: bytes | bytearray):
        self._view = memoryview(buffer)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, b: Any) -> int:
        chunk = self._view[self._pos : self._pos + len(b)]
        b[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def __len__(self) -> int:
        return len(self._view)

    def close(self) -> None:
        # aiohttp's request objects can linger in reference cycles: unpin the buffer now.
        if not self.closed:
            self._view.release()
        super().close()


class S3Storage(StorageBase):
    # Objects above copy_limit are promoted with a multipart copy (S3's single-copy maximum).
    copy_limit = 5 * 1024 * MiB
    copy_part_size = 512 * MiB

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        server_side_encryption: str | None = "AES256",
        kms_key_id: str | None = None,
        part_size: int = 8 * MiB,
        public_endpoint_url: str | None = None,
        ca_bundle: str | None = None,
    ):
        """`server_side_encryption`: "AES256" (SSE-S3), "aws:kms" (SSE-KMS, with `kms_key_id`
        or the bucket's default KMS key) or None. `ca_bundle`: a PEM file of the certificate
        authorities to trust for an https endpoint (default: the system's)."""
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE}")
        self.bucket = bucket
        self.region = region
        self.part_size = part_size
        self._sse: dict[str, str] = (
            {"ServerSideEncryption": server_side_encryption} if server_side_encryption else {}
        )
        if kms_key_id:
            self._sse |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        self._verify: str | bool = ca_bundle or True
        self._endpoint_url = endpoint_url
        # Presigned URLs embed (and sign) the host: give browsers the public name when the
        # server reaches S3 through an internal one (e.g. http://minio:9000 in compose).
        self._public_endpoint_url = public_endpoint_url
        self._session = aioboto3.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self._config = AioConfig(
            signature_version="s3v4",
            # Custom endpoints rarely have wildcard DNS for virtual-hosted buckets.
            s3={"addressing_style": "path"} if endpoint_url else None,
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            # Since botocore 1.36 default CRC checksums break several S3-compatible servers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._clients: dict[str | None, Any] = {}
        self._stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()

    async def _client(self, endpoint_url: str | None = None) -> Any:
        endpoint_url = endpoint_url or self._endpoint_url
        if endpoint_url not in self._clients:
            async with self._lock:
                if endpoint_url not in self._clients:
                    client = self._session.client(
                        "s3", endpoint_url=endpoint_url, config=self._config, verify=self._verify
                    )
                    self._clients[endpoint_url] = await self._stack.enter_async_context(client)
        return self._clients[endpoint_url]

    async def close(self) -> None:
        self._clients.clear()
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()

    async def ensure_bucket(self) -> None:
        """Create the bucket if missing (development and tests)."""
        s3 = await self._client()
        try:
            with _errors(self.bucket):
                await s3.head_bucket(Bucket=self.bucket)
            return
        except ObjectNotFound:
            pass
        extra = {}
        if self.region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await s3.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as e:
            if _code(e) != "BucketAlreadyOwnedByYou":  # lost a creation race: fine
                raise _translate(e, self.bucket) from e
        except BotoCoreError as e:
            raise StorageError(f"S3 unreachable on {self.bucket}: {e}") from e

    async def check(self, timeout: float = 5.0) -> None:
        s3 = await self._client()
        try:
            async with asyncio.timeout(timeout):
                with _errors(self.bucket):
                    await s3.head_bucket(Bucket=self.bucket)
        except TimeoutError as e:
            raise StorageError(f"S3 did not answer within {timeout}s") from e

    # -- writing ---------------------------------------------------------------------------

    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredObject:
        validate_key(key)
        stream = HashingStream(chunks, max_size)
        # Parts must grow for objects above 10,000 parts of the default size.
        part_size = max(self.part_size, -(-(max_size or 0) // MAX_PART_NUMBER))
        async with contextlib.aclosing(rechunk(stream, part_size)) as blocks:
            block: bytearray | None = await anext(blocks, bytearray())
            if block is not None and len(block) < part_size:  # the whole body fits in one request
                s3 = await self._client()
                with _errors(key), _BufferBody(block) as body:
                    await s3.put_object(Bucket=self.bucket, Key=key, Body=body, **self._sse)
                return StoredObject(key, stream.size, stream.sha256)
            # The loop stays inline: a helper's caller would keep the first block alive.
            async with self._multipart(key) as (upload_id, parts):
                sending: asyncio.Task[str] | None = None
                number = 0
                try:
                    while block is not None:
                        number += 1
                        if number > MAX_PART_NUMBER:
                            raise StorageSizeExceeded(f"more than {MAX_PART_NUMBER} parts")
                        if sending:  # part n-1 must finish before part n starts
                            parts.append((number - 1, await sending))
                        sending = asyncio.create_task(
                            self._send_part(key, upload_id, number, block)
                        )
                        block = await anext(blocks, None)  # filled while part n is sent
                    if sending is not None:  # always: the first block made a part
                        parts.append((number, await sending))
                except BaseException:
                    if sending and not sending.done():
                        sending.cancel()
                        await asyncio.gather(sending, return_exceptions=True)
                    raise
        return StoredObject(key, stream.size, stream.sha256)

    @contextlib.asynccontextmanager
    async def _multipart(self, key: str) -> AsyncIterator[tuple[str, list[tuple[int, str]]]]:
        """Yield (upload id, parts list to fill); complete on success, abort on any failure."""
        upload_id = await self.create_multipart(key)
        parts: list[tuple[int, str]] = []
        try:
            yield upload_id, parts
            await self.complete_multipart(key, upload_id, parts)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.abort_multipart(key, upload_id))
            raise

    async def _send_part(
        self, key: str, upload_id: str, number: int, body: bytes | bytearray
    ) -> str:
        s3 = await self._client()
        with _errors(key), _BufferBody(body) as stream:
            response = await s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=stream
            )
        return response["ETag"]

    async def promote(self, staging_key: str, final_key: str) -> None:
        validate_key(final_key)
        if await self.head(final_key) is None:
            size = await self.head(staging_key)
            if size is None:
                raise ObjectNotFound(staging_key)
            if size <= self.copy_limit:
                s3 = await self._client()
                with _errors(staging_key):
                    await s3.copy_object(
                        Bucket=self.bucket, Key=final_key, CopySource=self._source(staging_key),
                        **self._sse,
                    )
            else:
                await self._copy_in_parts(staging_key, final_key, size)
        await self.delete(staging_key)

    async def _copy_in_parts(self, source: str, key: str, size: int) -> None:
        s3 = await self._client()
        async with self._multipart(key) as (upload_id, parts):
            for number, offset in enumerate(range(0, size, self.copy_part_size), 1):
                last = min(offset + self.copy_part_size, size) - 1
                with _errors(source):
                    response = await s3.upload_part_copy(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                        CopySource=self._source(source), CopySourceRange=f"bytes={offset}-{last}",
                    )
                parts.append((number, response["CopyPartResult"]["ETag"]))

    def _source(self, key: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": key}

    async def delete(self, key: str) -> None:
        validate_key(key)
        s3 = await self._client()
        with _errors(key):
            await s3.delete_object(Bucket=self.bucket, Key=key)  # S3 deletes are idempotent

    # -- reading ---------------------------------------------------------------------------

    async def open_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        validate_key(key)
        check_range(start, end)
        s3 = await self._client()
        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        with _errors(key):
            try:
                response = await s3.get_object(Bucket=self.bucket, Key=key, **extra)
            except ClientError as e:
                if _code(e) == "InvalidRange":  # start beyond the end: nothing to read
                    return
                raise
        body = response["Body"]
        async with body:
            while True:
                with _errors(key):
                    chunk = await body.read(READ_CHUNK)
                if not chunk:
                    return
                yield chunk

    async def head(self, key: str) -> int | None:
        validate_key(key)
        s3 = await self._client()
        try:
            with _errors(key):
                response = await s3.head_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            return None
        return response["ContentLength"]

    async def _listed(self, operation: str, prefix: str, items: str) -> AsyncIterator[dict[str, Any]]:
        """Every entry under `prefix` of a paginated listing `operation`, page after page."""
        validate_prefix(prefix)
        s3 = await self._client()
        pages = s3.get_paginator(operation).paginate(Bucket=self.bucket, Prefix=prefix)
        with _errors(prefix):
            async for page in pages:
                for item in page.get(items, ()):
                    yield item

    async def list_keys(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        async for obj in self._listed("list_objects_v2", prefix, "Contents"):
            yield ObjectInfo(obj["Key"], obj["Size"], obj["LastModified"])

    async def list_multipart(self, prefix: str) -> AsyncIterator[tuple[str, str, Any]]:
        """(key, upload id, initiated) of multipart uploads under `prefix` never completed or
        aborted: what a crash between parts leaves behind, invisible to `list_keys`."""
        async for upload in self._listed("list_multipart_uploads", prefix, "Uploads"):
            yield upload["Key"], upload["UploadId"], upload["Initiated"]

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str,
        content_type: str,
        disposition: str = "attachment",
    ) -> str | None:
        validate_key(key)
        s3 = await self._client(self._public_endpoint_url)
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename, disposition),
            "ResponseContentType": content_type,
        }
        return await s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    # -- multipart -------------------------------------------------------------------------

    async def create_multipart(self, key: str) -> str:
        validate_key(key)
        s3 = await self._client()
        with _errors(key):
            response = await s3.create_multipart_upload(Bucket=self.bucket, Key=key, **self._sse)
        return response["UploadId"]

    async def presigned_part_url(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> str | None:
        validate_key(key)
        validate_part_number(part_number)
        s3 = await self._client(self._public_endpoint_url)
        params = {
            "Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number
        }
        return await s3.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_in)

    async def put_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
    ) -> str:
        validate_key(key)
        validate_part_number(part_number)
        limit = min(max_size, MAX_BUFFERED_PART) if max_size is not None else MAX_BUFFERED_PART
        body = bytearray()
        async for chunk in HashingStream(chunks, limit):
            body += chunk
        return await self._send_part(key, upload_id, part_number, body)

    async def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        validate_key(key)
        s3 = await self._client()
        pages = s3.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=key, UploadId=upload_id
        )
        parts = []
        with _errors(key):
            async for page in pages:
                for p in page.get("Parts", ()):
                    parts.append(PartInfo(p["PartNumber"], p["ETag"], p["Size"]))
        return parts

    async def complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> None:
        validate_key(key)
        validate_parts(parts)
        s3 = await self._client()
        with _errors(key):
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            )

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        validate_key(key)
        s3 = await self._client()
        with contextlib.suppress(ObjectNotFound), _errors(key):
            await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
