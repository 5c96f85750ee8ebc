"""A default `docgraph serve` (embedded PostgreSQL, filesystem storage) with a certificate the
test makes: HTTPS and WSS on every worker, HSTS on what came over TLS, and not one plaintext byte
of an uploaded file anywhere in the data directory."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trustme
import websockets

from docgraph.demo import PEOPLE
from tests.api.documents_helpers import UPLOAD, png
from tests.live import live_server

ROOT = Path(__file__).resolve().parent.parent
MARKER = b"the-confidential-marker-7f3a9c"
LOGIN = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken } }"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(tmp_path, ca):
    """`docgraph serve --demo --workers 2 --ssl-certfile ... --ssl-keyfile ...`, nothing else set."""
    cert = ca.issue_cert("localhost", "127.0.0.1")
    certfile, keyfile = tmp_path / "server.pem", tmp_path / "server.key"
    cert.private_key_pem.write_to_path(str(keyfile))
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    data_dir, port = tmp_path / "data", _free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("DOCGRAPH_") and key != "DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "docgraph.cli", "serve", "--demo", "--data-dir", str(data_dir), "--port", str(port),
         "--workers", "2", "--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile)],
        env={**env, "DOCGRAPH_BCRYPT_ROUNDS": "4", "DOCGRAPH_LOG_LEVEL": "WARNING"}, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process, port, data_dir
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _until_up(client: httpx.AsyncClient, process, url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("docgraph serve did not answer over HTTPS")


async def test_https_and_wss_with_hsts_and_no_plaintext_on_disk(https_server, ca):
    process, port, data_dir = https_server
    context = ssl.create_default_context()
    ca.configure_trust(context)
    base = f"https://localhost:{port}"
    async with httpx.AsyncClient(verify=context, timeout=30) as client:
        await _until_up(client, process, f"{base}/healthz")
        email, password, *_ = PEOPLE[1]
        response = await client.post(f"{base}/graphql", json={"query": LOGIN, "variables": {"e": email, "p": password}})
        assert response.status_code == 200, response.text
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        token = response.json()["data"]["login"]["accessToken"]
        auth = {"Authorization": f"Bearer {token}"}
        drive = (await client.post(f"{base}/graphql", headers=auth, json={"query": "{ me { myDrive { id } } }"})
                 ).json()["data"]["me"]["myDrive"]["id"]
        content = png(200_000, seed=5)[:150_000] + MARKER * 100 + png(50_000, seed=6)[16:]
        operations = {"query": UPLOAD, "variables": {"input": {"folderId": drive, "file": None}}}
        uploaded = await client.post(f"{base}/graphql", headers={**auth, "x-graphql-preflight": "1"}, data={
            "operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": ("picture.png", content, "image/png")})
        assert uploaded.status_code == 200 and not uploaded.json().get("errors"), uploaded.text
        assert uploaded.json()["data"]["uploadDocument"]["document"]["fileSize"] == len(content)

        # A burst of new connections (spread over both workers' sockets by the kernel) all speak TLS.
        answers = await asyncio.gather(*(_fresh_connection_healthz(context, base) for _ in range(12)))
        assert set(answers) == {200}

    async with websockets.connect(f"wss://localhost:{port}/graphql", ssl=context,
                                  subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ me { user { email } } }"}}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer["type"] == "next" and answer["payload"]["data"]["me"]["user"]["email"] == email

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # a client not trusting the CA
        async with httpx.AsyncClient() as untrusting:
            await untrusting.get(f"{base}/healthz")

    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    blobs = [path for path in (data_dir / "blobs").rglob("*") if path.is_file() and not path.name.startswith(".")]
    assert blobs and all(path.read_bytes().startswith(b"DGE2") for path in blobs)
    holding_it = [str(path) for path in data_dir.rglob("*") if path.is_file() and MARKER in path.read_bytes()]
    assert holding_it == []


async def _fresh_connection_healthz(context: ssl.SSLContext, base: str) -> int:
    async with httpx.AsyncClient(verify=context) as client:
        return (await client.get(f"{base}/healthz")).status_code


async def test_hsts_only_for_what_came_over_tls(app):
    """Through a proxy uvicorn trusts (loopback by default), X-Forwarded-Proto says so; a plain
    request gets no HSTS."""
    async with live_server(app) as address, httpx.AsyncClient() as client:
        plain = await client.get(f"http://{address}/healthz")
        assert "strict-transport-security" not in plain.headers
        proxied = await client.get(f"http://{address}/healthz", headers={"X-Forwarded-Proto": "https"})
        assert proxied.headers["strict-transport-security"] == "max-age=31536000"


async def test_serve_refuses_a_certificate_without_its_key(tmp_path):
    result = subprocess.run([sys.executable, "-m", "docgraph.cli", "serve", "--data-dir", str(tmp_path),
                             "--ssl-certfile", str(tmp_path / "cert.pem")], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 2 and "--ssl-keyfile" in result.stderr
