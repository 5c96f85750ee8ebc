"""Item 5: large uploads through /graphql (GraphQL multipart request spec) on a real uvicorn over
loopback, against writing the same bytes straight to the same storage backend.

    python -m bench.uploads [--quick] [--backend filesystem|s3|both] [--sizes MiB,MiB]

Builds a scratch database (one organization whose per-document limit allows 2 GiB - 1, one
member), starts ONE docgraph process (`uvicorn docgraph.app:create_app`, no in-process worker)
on that backend, then for each size (default 256 MiB and 1 GiB; --quick: 64 and 256 MiB):

- through the API: `uploadDocument` with the file streamed by a raw HTTP/1.1 client (asyncio
  streams, Content-Length known, 1 MiB writes) — the body is generated lazily, a valid PDF;
- direct: the same number of bytes to `storage.put_stream` of the same backend, in this process
  (on the filesystem: encrypted at rest, as the server writes them);
- raw (filesystem): the same bytes written in plaintext, the speed of the disk without encryption;

alternating them, best of --repeats (2) each; reporting each one's throughput (MiB/s), the ratio
API ÷ raw (the goal: at least 0.5), the cost of encryption (direct ÷ raw), and the server
process's peak RSS growth during an upload (psutil, sampled every 20 ms, against its RSS right
before; the largest growth of the repeats). On S3, raw is direct (the server encrypts). The
s3 backend is moto's server in a child process (over HTTP, like the tests). Writes
<results>/uploads.json and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

from . import DATA_DIR, PYTHON, RESULTS_DIR, ROOT, Process, console, docgraph_env, free_port, mint_token, write_result

MiB = 1024 * 1024
BLOCK = 1 * MiB
BOUNDARY = "docgraph-bench-boundary"
MAX_SIZE = 2**31 - 1  # the API's Int ceiling
UPLOAD = """mutation($input: UploadDocumentInput!) { uploadDocument(input: $input) {
              document { id fileSize currentVersion { contentHash } } } }"""
GOAL_RATIO = 0.5
GOAL_RSS_MB = 64

_MOTO = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


# --- content: a valid PDF of any size, generated block by block ---------------------------------------

class Content:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed = size, seed
        self.block = hashlib.sha256(str(seed).encode()).digest() * (BLOCK // 32)

    def chunks(self):
        """Synchronous generator of the bytes (the same block reused: nothing accumulates)."""
        yield self.head
        left = self.size - len(self.head) - len(self.tail)
        while left > 0:
            n = min(left, BLOCK)
            yield self.block if n == BLOCK else self.block[:n]
            left -= n
        yield self.tail

    async def achunks(self):
        for chunk in self.chunks():
            yield chunk


# --- the scratch world ----------------------------------------------------------------------------------

async def build(url: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """One organization, one member and the member's My Drive: (organization, user, folder)."""
    org, user, drive = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tag = org.hex[:8]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO organization (id, name, status, settings, created_at, updated_at) "
                           "VALUES ($1, $2, 'ACTIVE', $3, now(), now())",
                           org, f"Bench uploads {tag}", json.dumps({"max_document_size": MAX_SIZE}))
        await conn.execute("INSERT INTO users (id, email, password_hash, first_name, last_name, is_active, "
                           "is_super_admin, created_at, updated_at) "
                           "VALUES ($1, $2, 'x', 'Up', 'Loader', true, false, now(), now())", user,
                           f"uploader-{tag}@bench.example")
        await conn.execute("INSERT INTO membership (id, user_id, organization_id, system_role, is_default, joined_at) "
                           "VALUES ($1, $2, $3, 'EDITOR', true, now())", uuid.uuid4(), user, org)
        await conn.execute("INSERT INTO folder (id, organization_id, name, owner_type, owner_id, path, created_by, "
                           "created_at, updated_at) VALUES ($1, $2, 'My Drive', 'USER', $3, ARRAY[$1::uuid], $3, "
                           "now(), now())", drive, org, user)
    finally:
        await conn.close()
    return org, user, drive


def start_moto() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([PYTHON, "-c", _MOTO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


def stop_moto(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def storage_env(backend: str, data_dir: Path, endpoint: str | None, bucket: str) -> dict[str, str]:
    env = {"DOCGRAPH_STORAGE": backend, "DOCGRAPH_DATA_DIR": str(data_dir)}
    if backend == "s3":
        env |= {"DOCGRAPH_S3_ENDPOINT_URL": endpoint, "DOCGRAPH_S3_BUCKET": bucket,
                "DOCGRAPH_S3_ACCESS_KEY": "testing", "DOCGRAPH_S3_SECRET_KEY": "testing"}
    return env


def make_storage(backend: str, data_dir: Path, endpoint: str | None, bucket: str):
    from docgraph.storage import build_storage

    return build_storage(backend, data_dir=data_dir, s3_endpoint_url=endpoint, s3_bucket=bucket,
                         s3_access_key="testing", s3_secret_key="testing")


def raw_storage(backend: str, data_dir: Path, storage):
    """Plaintext writes to the same disk (the filesystem backend encrypts by default)."""
    if backend != "filesystem":
        return storage
    from docgraph.storage import FilesystemStorage

    return FilesystemStorage(data_dir / "raw")


# --- one upload through the API, by a raw HTTP/1.1 client --------------------------------------------------

def multipart_frame(folder_id: str, file_name: str) -> tuple[bytes, bytes]:
    from docgraph.globalid import encode

    operations = json.dumps({"query": UPLOAD, "variables": {"input": {"folderId": encode("Folder", folder_id),
                                                                      "file": None}}})
    before = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n"
              f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n"
              f"{json.dumps({'0': ['variables.input.file']})}\r\n"
              f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\n"
              f"Content-Type: application/pdf\r\n\r\n").encode()
    return before, f"\r\n--{BOUNDARY}--\r\n".encode()


async def upload_through_api(port: int, token: str, folder_id: uuid.UUID, content: Content) -> tuple[float, dict]:
    before, after = multipart_frame(str(folder_id), f"bench-{content.size // MiB}-{content.seed}.pdf")
    length = len(before) + content.size + len(after)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    writer.write((f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                  f"x-graphql-preflight: 1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                  f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode() + before)
    for chunk in content.chunks():
        writer.write(chunk)
        await writer.drain()
    writer.write(after)
    await writer.drain()
    response = await reader.read()
    seconds = time.perf_counter() - started
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"upload failed: {head[:200]!r} {body[:500]!r}")
    data = json.loads(body)
    if data.get("errors"):
        raise RuntimeError(f"upload failed: {data['errors']}")
    return seconds, data["data"]["uploadDocument"]["document"]


async def sample_rss(pid: int, stop: asyncio.Event) -> int:
    import psutil

    process, peak = psutil.Process(pid), 0
    while not stop.is_set():
        peak = max(peak, process.memory_info().rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)
    return max(peak, process.memory_info().rss)


async def measure(backend: str, sizes: list[int], url: str, repeats: int, data_root: Path) -> dict:
    import psutil

    org, user, drive = await build(url)
    token = mint_token(user, org)
    data_dir = data_root / f"uploads-{os.getpid()}-{backend}"
    moto, endpoint, bucket = None, None, f"bench-uploads-{uuid.uuid4().hex[:12]}"
    server = None
    try:
        if backend == "s3":
            moto, endpoint = start_moto()
            s3 = make_storage("s3", data_dir, endpoint, bucket)
            await s3.ensure_bucket()
            await s3.close()
        port = free_port()
        env = docgraph_env(url) | {"DOCGRAPH_RUN_WORKER": "false"} | storage_env(backend, data_dir, endpoint, bucket)
        server = Process(f"uploads-server-{backend}", [PYTHON, "-m", "uvicorn", "docgraph.app:create_app", "--factory",
                                                       "--host", "127.0.0.1", "--port", str(port),
                                                       "--log-level", "warning"], env=env, port=port)
        server.start()
        server.wait_ready("/healthz")
        pid = server.proc.pid
        await upload_through_api(port, token, drive, Content(2 * MiB, seed=-1))  # warm-up: imports, pools
        storage = make_storage(backend, data_dir, endpoint, bucket)
        raw = raw_storage(backend, data_dir, storage)
        runs = []
        for index, size in enumerate(sizes):
            # Alternating API and direct writes, best of `repeats` each: the disk and the page
            # cache move the figures more than either path does.
            api_seconds, direct_seconds, raw_seconds, rss_growth = float("inf"), float("inf"), float("inf"), 0
            for attempt in range(repeats):
                content = Content(size, seed=index * 100 + attempt)
                stop = asyncio.Event()
                rss_before = psutil.Process(pid).memory_info().rss
                sampler = asyncio.create_task(sample_rss(pid, stop))
                seconds, document = await upload_through_api(port, token, drive, content)
                stop.set()
                rss_growth = max(rss_growth, await sampler - rss_before)
                api_seconds = min(api_seconds, seconds)
                if document["fileSize"] != size:
                    raise RuntimeError(f"stored {document['fileSize']} bytes of {size}")
                started = time.perf_counter()
                direct = await storage.put_stream(f"{org}/bench/direct-{index}", content.achunks())
                direct_seconds = min(direct_seconds, time.perf_counter() - started)
                if direct.sha256 != document["currentVersion"]["contentHash"]:
                    raise RuntimeError("the API stored other bytes than the direct write")
                await storage.delete(direct.key)
                if raw is not storage:
                    started = time.perf_counter()
                    plain = await raw.put_stream(f"{org}/bench/raw-{index}", content.achunks())
                    raw_seconds = min(raw_seconds, time.perf_counter() - started)
                    await raw.delete(plain.key)
            raw_seconds = direct_seconds if raw is storage else raw_seconds
            api_rate, direct_rate = size / MiB / api_seconds, size / MiB / direct_seconds
            raw_rate = size / MiB / raw_seconds
            run = {
                "size_mib": size // MiB,
                "api_seconds": round(api_seconds, 2), "api_mib_per_s": round(api_rate, 1),
                "direct_seconds": round(direct_seconds, 2), "direct_mib_per_s": round(direct_rate, 1),
                "raw_mib_per_s": round(raw_rate, 1),
                "encryption_cost": round(direct_rate / raw_rate, 2),  # encrypted direct ÷ plaintext direct
                "throughput_ratio": round(api_rate / raw_rate, 2),
                "server_rss_before_mb": round(rss_before / MiB, 1),
                "server_rss_peak_growth_mb": round(rss_growth / MiB, 1),
            }
            console.print(f"{backend} {size // MiB} MiB: {run}")
            runs.append(run)
        await storage.close()
        return {"runs": runs,
                "goal_met": all(r["throughput_ratio"] >= GOAL_RATIO and r["server_rss_peak_growth_mb"] < GOAL_RSS_MB
                                for r in runs)}
    finally:
        if server is not None:
            server.stop()
        if moto is not None:
            stop_moto(moto)
        shutil.rmtree(data_dir, ignore_errors=True)


async def run(args) -> dict:
    from bench.dataset import server_url
    from docgraph.db import async_url
    from docgraph.migrate import upgrade

    admin_url = server_url()
    name = f"docgraph_bench_uploads_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, async_url(url))
        backends = ["filesystem", "s3"] if args.backend == "both" else [args.backend]
        results = {backend: await measure(backend, args.sizes, url, args.repeats, args.data_root)
                   for backend in backends}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "data_root": str(args.data_root),
        "backends": results,
        "goal": f"API throughput >= {GOAL_RATIO:.0%} of a raw (plaintext) write and server RSS growth "
                f"< {GOAL_RSS_MB} MB",
        "goal_met": all(r["goal_met"] for r in results.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64 and 256 MiB")
    parser.add_argument("--backend", choices=("filesystem", "s3", "both"), default="filesystem")
    parser.add_argument("--sizes", help="comma-separated sizes in MiB (default 256,1024)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per size and path; the best counts")
    parser.add_argument("--data-root", type=Path, default=DATA_DIR,
                        help="where the filesystem backend stores (e.g. /dev/shm to take the disk out)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("DOCGRAPH_BENCH_QUICK") == "1"
    default = "64,256" if quick else "256,1024"
    args.sizes = [min(int(s) * MiB, MAX_SIZE) for s in (args.sizes or default).split(",")]
    result = asyncio.run(run(args))
    results_dir = Path(os.environ.get("DOCGRAPH_BENCH_RESULTS_DIR", RESULTS_DIR))
    write_result(results_dir, "uploads", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
