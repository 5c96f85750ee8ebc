"""Fixtures for the fault tests: docgraph server processes on the test's own database (started
with bench/faults.py's helpers, so the bench and the suite run the server the same way), the
organization they write to, and a moto S3 server in a process of its own that a test may kill
and start again on the same port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time

import pytest

from bench import free_port
from bench.faults import World, docgraph_process, kill, make_world, start
from docgraph.storage import S3Storage


@pytest.fixture
async def world(database_url) -> World:
    return await make_world(database_url)


@pytest.fixture
async def launch(database_url, tmp_path):
    """`await launch(**settings)`: a started docgraph server process (stopped after the test);
    settings are extra DOCGRAPH_* variables, e.g. storage="s3"."""
    started = []

    async def launch(**settings):
        server = docgraph_process(database_url, tmp_path / f"server-{len(started)}", **settings)
        started.append(server)
        await start(server)
        return server

    yield launch
    for server in started:
        server.stop()
        kill(server)


# moto's S3 in a child process that serves until killed; the port is fixed so that a new server
# can take over the endpoint the app was configured with (with none of the old one's state).
_MOTO = """
import logging, sys, time
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start()
while True:
    time.sleep(3600)
"""


class MotoProcess:
    bucket = "docgraph-faults"

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_settings(self) -> dict[str, str]:
        """A docgraph server's settings for storing on this endpoint (see `launch`)."""
        return {"storage": "s3", "s3_endpoint_url": self.url, "s3_bucket": self.bucket,
                "s3_access_key": "testing", "s3_secret_key": "testing"}

    async def storage(self) -> S3Storage:
        """A client of the bucket, which it creates if missing (close it after use)."""
        storage = S3Storage(self.bucket, endpoint_url=self.url, access_key="testing", secret_key="testing")
        await storage.ensure_bucket()
        return storage

    @staticmethod
    async def unfinished_uploads(storage: S3Storage) -> list[tuple[str, int]]:
        """(key, parts received) of every multipart upload neither completed nor aborted."""
        s3 = await storage._client()
        found = []
        for upload in (await s3.list_multipart_uploads(Bucket=storage.bucket)).get("Uploads", []):
            parts = await s3.list_parts(Bucket=storage.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            found.append((upload["Key"], len(parts.get("Parts", []))))
        return found

    def start(self, timeout: float = 20.0) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _MOTO, str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "moto exited at start"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise AssertionError(f"moto did not listen on {self.port} within {timeout} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def moto():
    """A moto server process of this test alone (killed afterwards, whatever the test did)."""
    server = MotoProcess(free_port())
    server.start()
    yield server
    server.kill()
