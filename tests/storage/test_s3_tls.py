"""S3 over https with a CA the system does not know (S3_CA_BUNDLE), and the server-side
encryption each object is written with: SSE-S3 (AES256) by default, SSE-KMS with a key id."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import trustme
from storage_helpers import read, stream

from docgraph.storage import S3Storage, StorageError, build_storage

# moto's S3 behind werkzeug's TLS, in a child process like the session's plain-http moto.
_MOTO_TLS = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from werkzeug.serving import make_server
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.moto_server.werkzeug_app import MotoRequestHandler
server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), True,
                     request_handler=MotoRequestHandler, ssl_context=(sys.argv[1], sys.argv[2]))
print(server.server_address[1], flush=True)
import threading
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def https_s3(tmp_path_factory):
    root = tmp_path_factory.mktemp("s3tls")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    proc = subprocess.Popen([sys.executable, "-c", _MOTO_TLS, str(root / "cert.pem"), str(root / "key.pem")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield f"https://localhost:{int(proc.stdout.readline())}", root / "ca.pem"
    finally:
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _storage(endpoint: str, **kwargs) -> S3Storage:
    return S3Storage(f"docgraph-tls-{uuid.uuid4().hex[:12]}", endpoint_url=endpoint, access_key="testing",
                     secret_key="testing", **kwargs)


async def test_https_endpoint_with_a_custom_ca_bundle(https_s3, tmp_path):
    endpoint, ca_file = https_s3
    storage = build_storage("s3", data_dir=tmp_path, s3_endpoint_url=endpoint, s3_bucket=f"tls-{uuid.uuid4().hex[:8]}",
                            s3_access_key="testing", s3_secret_key="testing", s3_ca_bundle=str(ca_file))
    try:
        await storage.ensure_bucket()
        stored = await storage.put_content_addressed("org", stream(b"over tls" * 1000))
        assert await read(storage, stored.key) == b"over tls" * 1000
        url = await storage.presigned_get_url(stored.key, expires_in=60, filename="x.txt", content_type="text/plain")
        assert url.startswith(endpoint)
    finally:
        await storage.close()


async def test_an_untrusted_https_endpoint_is_refused(https_s3):
    endpoint, _ = https_s3
    storage = _storage(endpoint)  # the system's trust store does not hold the test CA
    try:
        with pytest.raises(StorageError, match=r"certificate verify failed|CERTIFICATE_VERIFY_FAILED"):
            await storage.head("org/anything")
    finally:
        await storage.close()


@pytest.mark.parametrize("kms_key_id", [None, "arn:aws:kms:us-east-1:123456789012:key/" + str(uuid.UUID(int=7))])
async def test_objects_are_written_with_server_side_encryption(s3_endpoint, kms_key_id):
    storage = _storage(s3_endpoint, kms_key_id=kms_key_id, part_size=5 * 1024 * 1024)
    try:
        await storage.ensure_bucket()
        small = await storage.put_content_addressed("org", stream(b"small"))
        large = await storage.put_stream("org/large", stream(os.urandom(6 * 1024 * 1024)))  # multipart
        s3 = await storage._client()
        for key in (small.key, large.key):
            head = await s3.head_object(Bucket=storage.bucket, Key=key)
            if kms_key_id:
                assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", kms_key_id)
            else:
                assert head["ServerSideEncryption"] == "AES256"
    finally:
        await storage.close()
