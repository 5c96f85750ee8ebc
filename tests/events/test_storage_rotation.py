"""`docgraph rotate-storage-key` with real worker processes: the workers re-encrypt every object
in the background while downloads keep returning the right bytes, and a worker killed (SIGKILL)
mid-way leaves nothing half-done: the next worker finishes the rotation."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

from docgraph.storage import storage_keys
from tests.api.documents_helpers import member, pdf, uploaded

from .support import ROOT

URL = "query($id: ID!) { document(id: $id) { downloadUrl } }"
DOCUMENTS = 40


def docgraph(*args: str, settings, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "DOCGRAPH_DATABASE_URL": settings.database_url,
                   "DOCGRAPH_DATA_DIR": str(settings.data_dir), "DOCGRAPH_SECRET_KEY": settings.secret_key, **env}
    environment.pop("DATABASE_URL", None)
    with open(settings.data_dir / f"{args[0]}-{time.monotonic_ns()}.log", "wb") as log:  # the child keeps its own
        return subprocess.Popen([sys.executable, "-m", "docgraph.cli", *args], cwd=ROOT, env=environment,
                                stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def until(condition, what: str, timeout: float = 60.0, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(every)


async def test_rotation_survives_a_killed_worker_while_downloads_stay_right(settings, services, factory, api, http):
    org = await factory.organization()
    ed = await member(factory, api, org, "EDITOR")
    contents, links = {}, {}
    for i in range(DOCUMENTS):
        content = pdf(256 * 1024 + i, seed=i)
        document = await uploaded(http, ed.token, ed.drive, content, file_name=f"doc-{i}.pdf")
        contents[document["id"]] = content
        links[document["id"]] = (await api.ok(URL, {"id": document["id"]}, token=ed.token))["document"]["downloadUrl"]
    storage = services.storage
    first = storage.encryption_keys.current.id
    assert await storage.key_usage() == {first: DOCUMENTS}

    downloads = {"done": 0}
    stop_downloading = asyncio.Event()

    async def download_all_the_time():
        rng = random.Random(1)
        while not stop_downloading.is_set():
            document_id = rng.choice(list(contents))
            response = await http.get(links[document_id], headers={"Range": "bytes=70000-"}
                                      if downloads["done"] % 2 else {})
            expected = contents[document_id][70000:] if downloads["done"] % 2 else contents[document_id]
            assert response.status_code in (200, 206) and response.content == expected
            downloads["done"] += 1

    downloader = asyncio.create_task(download_all_the_time())
    rotate = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "docgraph.cli", "rotate-storage-key"], cwd=ROOT, timeout=120,
                            capture_output=True, text=True,
                            env={**os.environ, "DOCGRAPH_DATABASE_URL": settings.database_url,
                                 "DOCGRAPH_DATA_DIR": str(settings.data_dir)})
    assert rotate.returncode == 0, rotate.stderr
    second = storage_keys(settings).current.id
    assert second != first and f"encrypting with key {second}" in rotate.stdout

    async def usage():
        return await storage.key_usage()

    # One object per job, so the kill lands mid-way.
    worker = docgraph("worker", settings=settings, DOCGRAPH_STORAGE_REENCRYPT_BATCH="1")
    try:
        mid_way = await until(lambda: _between(usage, second, 3, DOCUMENTS - 5), "re-encryption to be under way",
                              every=0.002)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        after_kill = await usage()
        assert after_kill.get(first, 0) > 0, "the worker finished before it could be killed"
        assert after_kill[second] >= mid_way[second]
    finally:
        stop(worker)

    worker = docgraph("worker", settings=settings, DOCGRAPH_STORAGE_REENCRYPT_BATCH="3")
    try:
        async def complete():
            return not storage.needs_reencryption() and await usage() == {second: DOCUMENTS}

        await until(complete, "the next worker to finish the rotation", timeout=120)
    finally:
        stop(worker)
        stop_downloading.set()
        await downloader
    assert downloads["done"] > DOCUMENTS  # downloads ran throughout
    for document_id, content in contents.items():
        assert (await http.get(links[document_id])).content == content
    for path in (settings.data_dir / "blobs").rglob("*"):
        if path.is_file() and path.name.startswith(".tmp-"):  # the killed write's temporary file only
            assert time.time() - path.stat().st_mtime < 300


async def _between(usage, key_id: str, low: int, high: int):
    current = await usage()
    return current if low <= current.get(key_id, 0) <= high else None

