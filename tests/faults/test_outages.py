"""Outages under a running server process: PostgreSQL connections terminated mid-request, the
S3 endpoint dying mid-upload, the database refusing connections. Each time the request fails
with a clear error code (no hang), nothing half-written is left, `/readyz` tells, and the server
recovers on its own: no restart."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import make_url

from docgraph.globalid import decode
from tests.api.documents_helpers import data_of, pdf, replace, upload

from .support import MiB, client, counts, gated, part_received, plain, streamed_upload, until

LIST = "query($id: ID!) { node(id: $id) { ... on Folder { documents(first: 10) { totalCount } } } }"
ME = "{ me { user { id } } }"
DOWNLOAD_URL = "query($id: ID!) { node(id: $id) { ... on Document { downloadUrl } } }"


def blobs_of(server) -> Path:
    """Where a filesystem-storage server keeps its blobs."""
    return Path(server.env["DOCGRAPH_DATA_DIR"]) / "blobs"


async def eventually_ready(http: httpx.AsyncClient, status: int, timeout: float = 20.0) -> dict:
    """/readyz until it answers `status` (bounded); returns its body."""
    deadline = time.monotonic() + timeout
    while True:
        response = await http.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            return response.json()
        await asyncio.sleep(0.2)


# --- (a) connections terminated mid-request ------------------------------------------------------------

TERMINATE = """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()"""


async def test_a_replace_whose_connection_is_terminated_fails_with_a_code_and_writes_nothing(
        database_url, launch, world):
    server = await launch()
    async with client(server, world) as http:
        document = data_of(await upload(http, world.token, world.folder_id, pdf(50_000, seed=1)))
        document = document["uploadDocument"]["document"]
        before = await counts(database_url)
        admin = await asyncpg.connect(plain(database_url))
        try:
            # Hold the document's row: the replacement's transaction waits for it, connection in hand.
            holding = admin.transaction()
            await holding.start()
            await admin.execute("SELECT 1 FROM document WHERE id = $1 FOR UPDATE", decode(document["id"])[1])
            replacing = asyncio.create_task(replace(http, world.token, document["id"], pdf(60_000, seed=2)))
            await until(lambda: admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"), what="the replace to wait")
            assert await admin.fetchval(TERMINATE) >= 1
            await holding.rollback()
            response = await asyncio.wait_for(replacing, 20)
        finally:
            await admin.close()

        errors = response.json()["errors"]
        assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and errors[0]["extensions"]["timestamp"]
        assert await counts(database_url) == before
        # The next requests succeed on the same server: dead pooled connections are replaced.
        replaced = data_of(await replace(http, world.token, document["id"], pdf(70_000, seed=3)))
        assert replaced["replaceDocument"]["document"]["currentVersion"]["versionNumber"] == 2
        listing = (await http.post("/graphql", json={"query": LIST, "variables": {"id": world.folder_id}})).json()
        assert listing["data"]["node"]["documents"]["totalCount"] == 1
        assert (await http.get("/readyz")).status_code == 200
        # The staged file of the failed replacement was discarded: storage holds the two versions
        # (and the marker naming their encryption key).
        stored = sorted(p.name for p in blobs_of(server).rglob("*") if p.is_file() and p.name != ".encryption")
        assert len(stored) == 2 and not [name for name in stored if name.startswith(".")]


async def writing_a_file(server) -> bool:
    return any(blobs_of(server).rglob(".tmp-*"))


async def test_a_slow_upload_outlives_the_termination_of_every_connection(database_url, launch, world):
    server = await launch()
    content = pdf(3 * MiB, seed=4)
    resume = asyncio.Event()
    async with client(server, world) as http:
        uploading = asyncio.create_task(streamed_upload(
            http, world.folder_id, gated(content, MiB, resume), len(content), "slow.pdf"))
        admin = await asyncpg.connect(plain(database_url))
        try:
            # The server has authenticated the request and is writing the file to staging.
            await until(lambda: writing_a_file(server), what="the upload to reach storage")
            assert await admin.fetchval(TERMINATE) >= 1
        finally:
            await admin.close()
        resume.set()
        document = data_of(await asyncio.wait_for(uploading, 30))["uploadDocument"]["document"]
    assert document["currentVersion"]["contentHash"] == hashlib.sha256(content).hexdigest()
    assert await counts(database_url) == {"document": 1, "document_version": 1, "blob": 1}


# --- (b) the S3 endpoint stops mid-upload ------------------------------------------------------------------

async def test_s3_dying_mid_upload_fails_it_cleanly_and_the_app_recovers_when_s3_returns(
        database_url, launch, world, moto):
    observer = await moto.storage()
    server = await launch(**moto.app_settings())
    # Three 8 MiB parts' worth: part 1 reaches S3, then S3 dies, then the rest arrives.
    content = pdf(20 * MiB, seed=5)
    s3_gone = asyncio.Event()
    try:
        async with client(server, world) as http:
            assert (await http.get("/readyz")).status_code == 200
            uploading = asyncio.create_task(streamed_upload(
                http, world.folder_id, gated(content, 9 * MiB, s3_gone), len(content), "big.pdf"))
            await until(lambda: part_received(moto, observer), timeout=20, what="a part to reach S3")
            await observer.close()
            moto.kill()
            s3_gone.set()
            response = await asyncio.wait_for(uploading, 60)

            assert response.status_code == 503
            assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert "Storage is unavailable" in response.json()["errors"][0]["message"]
            assert await counts(database_url) == {"document": 0, "document_version": 0, "blob": 0}
            down = await eventually_ready(http, 503)
            assert down["checks"]["database"] == "ok" and down["checks"]["storage"].startswith("error")

            moto.start()  # same port, empty: the bucket has to be made again
            observer = await moto.storage()
            assert (await eventually_ready(http, 200))["checks"] == {"database": "ok", "storage": "ok"}
            small = pdf(300_000, seed=6)
            document = data_of(await upload(http, world.token, world.folder_id, small))["uploadDocument"]["document"]
            link = await http.post("/graphql", json={"query": DOWNLOAD_URL, "variables": {"id": document["id"]}})
            downloaded = await http.get(link.json()["data"]["node"]["downloadUrl"])
            assert downloaded.status_code == 200 and downloaded.content == small
    finally:
        await observer.close()


# --- (c) the database refuses connections ------------------------------------------------------------------

@contextlib.asynccontextmanager
async def database_refusing_connections(server_url: str, database_url: str):
    """The test's database takes no new connections and its open ones are cut, until the block ends."""
    name = make_url(database_url).database
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_readyz_reports_a_database_that_refuses_connections_until_it_is_back(
        database_url, server_url, launch, world):
    server = await launch()
    async with client(server, world) as http:
        assert (await http.get("/readyz")).status_code == 200
        async with database_refusing_connections(server_url, database_url):
            down = await eventually_ready(http, 503)
            assert down["checks"]["database"].startswith("error") and down["checks"]["storage"] == "ok"
        assert (await eventually_ready(http, 200))["checks"] == {"database": "ok", "storage": "ok"}
        assert (await http.post("/graphql", json={"query": ME})).json()["data"]["me"]["user"]["id"]


async def test_requests_during_a_database_outage_fail_at_once_with_an_error_code(
        database_url, server_url, launch, world):
    server = await launch()
    async with client(server, world) as http:
        async with database_refusing_connections(server_url, database_url):
            started = time.monotonic()
            query = await http.post("/graphql", json={"query": ME})
            uploading = await upload(http, world.token, world.folder_id, pdf(10_000, seed=7))
            assert time.monotonic() - started < 10
        assert query.status_code == 200 and error_code(query) == "INTERNAL_SERVER_ERROR"
        # Not 401: the token is good, the database is away (a client would drop its session on 401).
        assert uploading.status_code == 503 and error_code(uploading) == "INTERNAL_SERVER_ERROR"
        assert (await http.post("/graphql", json={"query": ME})).json()["data"]["me"]["user"]["id"]
    assert await counts(database_url) == {"document": 0, "document_version": 0, "blob": 0}


def error_code(response: httpx.Response) -> str:
    """The extensions.code of a GraphQL error answer (not a bare 500 page)."""
    assert response.headers["content-type"].startswith("application/json"), \
        f"HTTP {response.status_code}: {response.text[:200]}"
    return response.json()["errors"][0]["extensions"]["code"]
