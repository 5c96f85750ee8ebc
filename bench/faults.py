"""Crash recovery under load (issue 6: nothing acknowledged is lost, nothing half-done is visible).

A real docgraph server (`uvicorn docgraph.app:create_app --factory`, filesystem blobs under its
data dir, no in-process worker) takes uploads and replacements from a few concurrent clients
(random bytes, 1 KB-2 MB) and is killed with SIGKILL at random moments. After every restart:

- every write a client saw acknowledged (HTTP 200, data, no errors) is there: its version has
  the acknowledged content (downloaded through downloadUrl, SHA-256 compared) and the document
  is at that version or later;
- nothing is half-done: each document's current version is its last, version_count equals its
  versions, numbers run 1..n; every version's blob row is live and its object is in storage
  with the right size; every committed create/replace has its audit row; the audit chains verify;
- writes cut off by the kill either committed completely or left no rows.

At the end, with the server stopped, the orphan sweep must leave everything alone within its
grace period (1 hour), and with grace 0 reclaim what the kills left (staging objects,
promoted-but-unrecorded blobs, temporary files) so that storage holds exactly the referenced
blobs; every acknowledged version is then read back from storage and hashed, and
`docgraph audit verify` must exit 0.

    python -m bench.faults [--kills 50] [--clients 4] [--seed S] [--quick]

Results: <results dir>/faults.json (bench/results, or DOCGRAPH_BENCH_RESULTS_DIR). The test
suite runs the same harness with 4 kills (tests/faults/test_crash_recovery.py).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, select, text

from bench import PYTHON, RESULTS_DIR, ROOT, Process, console, docgraph_env, free_port, mint_token, write_result
from tests.api.documents_helpers import pdf, replace, upload

KiB, MiB = 1024, 1024 * 1024
REQUEST_TIMEOUT = 60.0
READY_TIMEOUT = 60.0
NODES_PER_QUERY = 100  # the API's `nodes` maximum

NODES = """query($ids: [ID!]!, $download: Boolean!) { nodes(ids: $ids) { ... on DocumentVersion {
    id versionNumber contentHash fileSize downloadUrl @include(if: $download)
    document { id versionCount currentVersion { versionNumber } } } } }"""


# --- the server process ------------------------------------------------------------------------------

def docgraph_process(database_url: str, data_dir: Path, **settings: str) -> Process:
    """A docgraph server subprocess (not started): the given database, blobs under `data_dir`,
    the bench's secret key (tokens: bench.mint_token), no in-process worker; `settings` are
    more DOCGRAPH_* variables, e.g. storage="s3"."""
    port = free_port()
    env = docgraph_env(database_url) | {"DOCGRAPH_DATA_DIR": str(data_dir), "DOCGRAPH_RUN_WORKER": "false"}
    env |= {f"DOCGRAPH_{name.upper()}": value for name, value in settings.items()}
    data_dir.mkdir(parents=True, exist_ok=True)
    return Process("docgraph-faults", [PYTHON, "-m", "uvicorn", "docgraph.app:create_app", "--factory",
                                       "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                   env=env, port=port, log_path=data_dir / "server.log")


async def start(server: Process, log_name: str = "server.log") -> float:
    """Start (or restart, same port) and wait until /healthz answers; returns the seconds it took.
    Each start logs to its own file, so a killed run's log is kept."""
    began = time.monotonic()
    server.log_path = server.log_path.with_name(log_name)
    server.start()
    await asyncio.to_thread(server.wait_ready, "/healthz", READY_TIMEOUT)
    return time.monotonic() - began


def kill(server: Process) -> None:
    """SIGKILL: no lifespan shutdown, no finally blocks, sockets closed by the kernel."""
    if server.proc is not None and server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)


# --- the world -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class World:
    organization_id: uuid.UUID
    user_id: uuid.UUID
    folder_id: str  # global ID of the user's My Drive
    token: str


async def make_world(database_url: str) -> World:
    """An organization made through its services, whose ADMIN uploads into their own My Drive:
    as its owner and an admin they are a reviewer, so replacements apply at once (no approval)."""
    from docgraph.auth.principal import Principal
    from docgraph.config import Settings
    from docgraph.db import Database, async_url
    from docgraph.demo import create_superadmin
    from docgraph.globalid import encode
    from docgraph.models import Folder, User
    from docgraph.services import organizations

    url = async_url(database_url)
    settings = Settings(database_url=url, bcrypt_rounds=4, secret_key="unused-" + "x" * 32)
    root = await create_superadmin(settings, url, "root@faults.example", "root-password")
    db = Database(url, pool_size=1)
    try:
        actor = Principal(user_id=root.id, organization_id=None, system_role=None, is_super_admin=True)
        org = await organizations.create_organization(
            db, actor, name="Faults", description=None, admin_email="writer@faults.example",
            admin_password="writer-password", admin_first_name="Fault", admin_last_name="Writer", bcrypt_rounds=4)
        async with db.reading() as session:
            user = (await session.execute(select(User).where(User.email == "writer@faults.example"))).scalar_one()
            drive = (await session.execute(select(Folder.id).where(
                Folder.organization_id == org.id, Folder.owner_type == "USER", Folder.owner_id == user.id,
                Folder.parent_id.is_(None)))).scalar_one()
    finally:
        await db.dispose()
    return World(org.id, user.id, encode("Folder", drive), mint_token(user.id, org.id))


# --- the load --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ack:
    """A write the client saw acknowledged."""
    kind: str  # "upload" | "replace"
    document_id: str
    version_id: str
    version_number: int
    sha256: str
    size: int


@dataclass
class Ledger:
    """What the clients saw, over the whole run."""
    acks: list[Ack] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # acknowledged uploads, for replacements
    # Writes cut off by a kill, by the unique name (upload) or change comment (replace) they carry.
    interrupted: list[tuple[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # error answers and failures before any kill
    bytes_acknowledged: int = 0


async def client_loop(url: str, world: World, ledger: Ledger, rng: random.Random, stop: asyncio.Event,
                      max_size: int, tag: str) -> None:
    """Upload or replace until `stop` is set (set just before the kill)."""
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as http:
        for n in range(1_000_000):  # bounded: `stop` ends it within a cycle
            if stop.is_set():
                return
            size = rng.randint(KiB, max_size)
            content = pdf(size, seed=rng.getrandbits(32))
            attempt = f"{tag}-{n}-{uuid.uuid4().hex[:8]}"
            is_upload = not ledger.documents or rng.random() < 0.4
            kind = "upload" if is_upload else "replace"
            try:
                if is_upload:
                    response = await upload(http, world.token, world.folder_id, content, name=f"{attempt}.pdf",
                                            file_name=f"{attempt}.pdf")
                else:
                    response = await replace(http, world.token, rng.choice(ledger.documents), content,
                                             changeComment=attempt)
            except httpx.TransportError as exc:
                if stop.is_set():  # cut off by the kill: committed or not, never half
                    ledger.interrupted.append((kind, attempt))
                    return
                ledger.unexpected.append(f"{kind} {attempt}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.1)
                continue
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            if response.status_code != 200 or body.get("errors") or not body.get("data"):
                ledger.unexpected.append(f"{kind} {attempt}: HTTP {response.status_code} {str(body)[:300]}")
                continue
            document = body["data"]["uploadDocument" if is_upload else "replaceDocument"]["document"]
            version = document["currentVersion"]
            ledger.acks.append(Ack(kind, document["id"], version["id"], version["versionNumber"],
                                   version["contentHash"], size))
            ledger.bytes_acknowledged += size
            if version["contentHash"] != hashlib.sha256(content).hexdigest():
                ledger.unexpected.append(f"{kind} {attempt}: acknowledged hash {version['contentHash']} is wrong")
            if is_upload:
                ledger.documents.append(document["id"])


async def load_then_kill(server: Process, world: World, ledger: Ledger, rng: random.Random, *, clients: int,
                         kill_after: tuple[float, float], max_size: int, cycle: int) -> float:
    """Run the clients, SIGKILL the server after a random delay; returns the delay."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client_loop(server.url, world, ledger, random.Random(rng.getrandbits(64)), stop,
                                             max_size, f"c{cycle}.{i}")) for i in range(clients)]
    delay = rng.uniform(*kill_after)
    await asyncio.sleep(delay)
    stop.set()
    kill(server)
    done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
    for task in pending:
        task.cancel()
        ledger.unexpected.append(f"cycle {cycle}: a client did not notice the kill")
    for task in done:
        if task.exception() is not None:
            ledger.unexpected.append(f"cycle {cycle}: client failed: {task.exception()!r}")
    return delay


# --- the checks ------------------------------------------------------------------------------------------

HALF_DONE = {
    "document whose current version is missing, foreign or not its last": """
        SELECT d.id FROM document d LEFT JOIN document_version v ON v.id = d.current_version_id
        WHERE v.id IS NULL OR v.document_id <> d.id OR v.version_number <> d.version_count
           OR v.file_size <> d.file_size""",
    "document whose version_count is not its number of versions, or whose numbers have gaps": """
        SELECT d.id FROM document d LEFT JOIN document_version v ON v.document_id = d.id
        GROUP BY d.id, d.version_count
        HAVING count(v.id) <> d.version_count OR max(v.version_number) <> d.version_count
            OR min(v.version_number) <> 1""",
    "version whose blob row is missing, purged or of other content": """
        SELECT v.id FROM document_version v LEFT JOIN blob b ON b.id = v.blob_id
        WHERE b.id IS NULL OR b.purged_at IS NOT NULL OR b.sha256 <> v.content_hash OR b.size <> v.file_size""",
}
AUDITED = """SELECT
    (SELECT count(*) FROM document) AS documents, (SELECT count(*) FROM document_version) AS versions,
    (SELECT count(*) FROM audit_log WHERE resource_type = 'DOCUMENT' AND status = 'SUCCESS'
        AND action = 'CREATE') AS creates,
    (SELECT count(*) FROM audit_log WHERE resource_type = 'DOCUMENT' AND status = 'SUCCESS'
        AND action = 'UPDATE' AND change_details ? 'version') AS replaces"""
REFERENCED = """SELECT DISTINCT b.storage_key, b.size FROM blob b JOIN document_version v ON v.blob_id = b.id"""


@dataclass
class Checker:
    """The checks run after each restart; problems are collected, not raised, so a run reports all."""
    db: Any          # docgraph.db.Database on the run's database
    storage: Any     # the server's FilesystemStorage, read directly
    world: World
    problems: list[str] = field(default_factory=list)
    downloads: int = 0
    checks: int = 0

    def problem(self, message: str) -> None:
        if len(self.problems) < 200:  # keep the report readable when everything breaks
            self.problems.append(message)

    async def after_restart(self, url: str, ledger: Ledger, new_acks: list[Ack], interrupted: list) -> dict:
        """Everything, downloading only `new_acks` (earlier ones were downloaded after their cycle)."""
        self.checks += 1
        await self.rows_whole()
        await self.referenced_objects_stored()
        await self.acknowledged_readable(url, ledger.acks, download={a.version_id for a in new_acks})
        await self.audit_chains()
        return await self.fate_of(interrupted)

    async def rows_whole(self) -> None:
        async with self.db.reading() as session:
            for what, query in HALF_DONE.items():
                for row in (await session.execute(text(query))).all()[:5]:
                    self.problem(f"{what}: {row[0]}")
            counts = (await session.execute(text(AUDITED))).one()
        if counts.creates != counts.documents or counts.replaces != counts.versions - counts.documents:
            self.problem(f"audit rows do not match the committed writes: {dict(counts._mapping)}")

    async def referenced_objects_stored(self) -> None:
        async with self.db.reading() as session:
            referenced = (await session.execute(text(REFERENCED))).all()
        sizes = await asyncio.gather(*(self.storage.head(key) for key, _ in referenced))
        for (key, size), stored in zip(referenced, sizes, strict=False):
            if stored != size:
                self.problem(f"a version's blob {key} is {'missing' if stored is None else f'{stored} bytes'} "
                             f"in storage, {size} expected")

    async def acknowledged_readable(self, url: str, acks: list[Ack], download: set[str]) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            for start in range(0, len(acks), NODES_PER_QUERY):
                batch = acks[start:start + NODES_PER_QUERY]
                wanted = any(ack.version_id in download for ack in batch)
                response = await http.post("/graphql", headers={"Authorization": f"Bearer {self.world.token}"},
                                           json={"query": NODES, "variables": {
                                               "ids": [ack.version_id for ack in batch], "download": wanted}})
                body = response.json()
                if body.get("errors") or not body.get("data"):
                    self.problem(f"reading acknowledged versions failed: {str(body)[:300]}")
                    continue
                for ack, node in zip(batch, body["data"]["nodes"], strict=False):
                    await self._one(http, ack, node, ack.version_id in download)

    async def _one(self, http: httpx.AsyncClient, ack: Ack, node: dict | None, download: bool) -> None:
        if not node:
            self.problem(f"acknowledged {ack.kind} lost: version {ack.version_number} of {ack.document_id}")
            return
        current = node["document"]["currentVersion"]["versionNumber"]
        seen = (node["document"]["id"], node["versionNumber"], node["contentHash"], node["fileSize"])
        if seen != (ack.document_id, ack.version_number, ack.sha256, ack.size) or current < ack.version_number:
            self.problem(f"acknowledged {ack.kind} changed: {ack} now {node}")
        if download:
            self.downloads += 1
            digest = hashlib.sha256()
            async with http.stream("GET", node["downloadUrl"]) as response:
                async for chunk in response.aiter_bytes():
                    digest.update(chunk)
            if response.status_code != 200 or digest.hexdigest() != ack.sha256:
                self.problem(f"download of acknowledged {ack.kind} {ack.version_id}: HTTP {response.status_code}, "
                             f"sha256 {digest.hexdigest()} (expected {ack.sha256})")

    async def acknowledged_stored(self, acks: list[Ack]) -> None:
        """Every acknowledged version's content, read back from storage and hashed."""
        from docgraph.globalid import decode
        from docgraph.storage import hash_object

        async with self.db.reading() as session:
            keys = dict((await session.execute(text(
                "SELECT v.id, b.storage_key FROM document_version v JOIN blob b ON b.id = v.blob_id"))).all())
        for ack in acks:
            key = keys.get(decode(ack.version_id)[1])
            stored = await hash_object(self.storage, key) if key else None
            if stored is None or stored.sha256 != ack.sha256:
                self.problem(f"acknowledged {ack.kind} {ack.version_id} is not in storage as acknowledged")

    async def audit_chains(self) -> None:
        from docgraph.services.audit_log import verify_chains

        try:
            reports = await verify_chains(self.db)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a problem to report
            self.problem(f"verifying the audit chains failed: {type(exc).__name__}: {str(exc)[:300]}")
            return
        for report in reports:
            if not report.ok:
                self.problem(f"audit chain of {report.organization_id} broken at {report.broken_row_id}: "
                             f"{report.problem}")

    async def fate_of(self, interrupted: list[tuple[str, str]]) -> dict:
        """How many writes cut off by the kill committed anyway (wholly: the checks above hold)."""
        names = [f"{attempt}.pdf" for kind, attempt in interrupted if kind == "upload"]
        comments = [attempt for kind, attempt in interrupted if kind == "replace"]
        async with self.db.reading() as session:
            uploads = (await session.execute(text("SELECT count(*) FROM document WHERE name = ANY(:names)"),
                                             {"names": names})).scalar_one()
            replaces = (await session.execute(
                text("SELECT count(*) FROM document_version WHERE change_comment = ANY(:comments)"),
                {"comments": comments})).scalar_one()
        return {"interrupted": len(interrupted), "committed": uploads + replaces}


# --- orphans ---------------------------------------------------------------------------------------------

async def orphans(db, storage, organization_id: uuid.UUID) -> dict[str, int]:
    """What storage holds that no row refers to (the server must be stopped)."""
    async with db.reading() as session:
        recorded = set((await session.execute(text("SELECT storage_key FROM blob WHERE purged_at IS NULL"))).scalars())
        unreferenced_rows = (await session.execute(text(
            "SELECT count(*) FROM blob b WHERE purged_at IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM document_version v WHERE v.blob_id = b.id)"))).scalar_one()
    staging = [info.key async for info in storage.list_keys(f"{organization_id}/staging/")]
    blobs = [info.key async for info in storage.list_keys(f"{organization_id}/blobs/")]
    others = [info.key async for info in storage.list_keys("")
              if not info.key.startswith((f"{organization_id}/staging/", f"{organization_id}/blobs/"))]
    hidden = leftover_files(storage)
    return {"staging_objects": len(staging), "unrecorded_blob_objects": len([k for k in blobs if k not in recorded]),
            "unreferenced_blob_rows": unreferenced_rows, "other_objects": len(others),
            "temporary_files": len(hidden)}


def leftover_files(storage) -> list:
    """Temporary files and multipart parts (hidden from listings); not the encryption marker."""
    return [path for path in storage.root.rglob(".*") if path.is_file() and path.name != ".encryption"]


async def sweep_all(db, storage, grace: timedelta) -> dict[str, int]:
    """The worker's orphan sweep, run until it has nothing left to do (bounded)."""
    from docgraph.events.sweep import MAX_DELETIONS, sweep

    total = {"expired_sessions": 0, "staging_objects": 0, "blob_objects": 0, "blob_rows": 0}
    for _ in range(20):
        async with db.transaction() as session:
            report = await sweep(session, storage, grace=grace, leftovers_after=grace)
        for name in total:
            total[name] += getattr(report, name)
        if report.deletions < MAX_DELETIONS:
            break
    return total


async def storage_is_exactly_referenced(db, storage, checker: Checker) -> None:
    async with db.reading() as session:
        referenced = {key for key, _ in (await session.execute(text(REFERENCED))).all()}
    stored = {info.key async for info in storage.list_keys("")}
    if stored != referenced:
        checker.problem(f"after the sweep storage holds {len(stored - referenced)} unreferenced object(s) "
                        f"{sorted(stored - referenced)[:3]} and lacks {sorted(referenced - stored)[:3]}")
    leftovers = [str(path) for path in leftover_files(storage)]
    if leftovers:
        checker.problem(f"after the sweep temporary files remain: {leftovers[:3]}")


def audit_verify_cli(database_url: str, data_dir: Path) -> tuple[int, str]:
    """`docgraph audit verify` as an operator runs it."""
    import subprocess

    from docgraph.db import async_url

    env = dict(os.environ, DOCGRAPH_DATABASE_URL=async_url(database_url), DOCGRAPH_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    done = subprocess.run([str(Path(PYTHON).parent / "docgraph"), "audit", "verify"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, (done.stdout + done.stderr).strip()


# --- the run ---------------------------------------------------------------------------------------------

@dataclass
class CrashReport:
    kills: int = 0
    clients: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)
    acknowledged_mb: float = 0.0
    interrupted: int = 0
    interrupted_committed: int = 0
    orphans_found: dict[str, int] = field(default_factory=dict)
    reclaimed: dict[str, int] = field(default_factory=dict)
    orphans_after_sweep: dict[str, int] = field(default_factory=dict)
    restart_seconds: dict[str, float] = field(default_factory=dict)
    kill_after_seconds: dict[str, float] = field(default_factory=dict)
    downloads_verified: int = 0
    checks_after_restart: int = 0
    audit_verify: str = ""
    phase_seconds: dict[str, float] = field(default_factory=dict)
    unexpected_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unexpected_errors


async def crash_recovery(database_url: str, data_dir: Path, *, kills: int, clients: int = 4, seed: int = 0,
                         max_size: int = 2 * MiB, kill_after: tuple[float, float] = (0.3, 2.0),
                         say=lambda message: None) -> CrashReport:
    """The whole experiment on a migrated, empty database (plain or asyncpg URL)."""
    from docgraph.db import Database, async_url
    from docgraph.storage import build_storage

    began = time.monotonic()
    rng = random.Random(seed)
    world = await make_world(database_url)
    server = docgraph_process(database_url, data_dir)
    db = Database(async_url(database_url), pool_size=2)
    storage = build_storage("filesystem", data_dir=data_dir)  # with the server's keys
    checker = Checker(db, storage, world)
    ledger, report = Ledger(), CrashReport(kills=kills, clients=clients)
    restarts, delays, phases = [], [], {}
    try:
        await start(server, "server-0.log")
        for cycle in range(1, kills + 1):
            acks_before, interrupted_before = len(ledger.acks), len(ledger.interrupted)
            delays.append(await load_then_kill(server, world, ledger, rng, clients=clients, kill_after=kill_after,
                                               max_size=max_size, cycle=cycle))
            restarts.append(await start(server, f"server-{cycle}.log"))
            fate = await checker.after_restart(server.url, ledger, ledger.acks[acks_before:],
                                               ledger.interrupted[interrupted_before:])
            report.interrupted_committed += fate["committed"]
            say(f"kill {cycle}/{kills} after {delays[-1]:.2f} s: {len(ledger.acks) - acks_before} acknowledged, "
                f"{fate['interrupted']} cut off ({fate['committed']} committed); up again in {restarts[-1]:.1f} s; "
                f"problems so far: {len(checker.problems)}")
        server.stop()  # gracefully: nothing in flight while the sweep runs with grace 0
        phases["load, kills, restarts and checks"] = time.monotonic() - began
        report.orphans_found = await orphans(db, storage, world.organization_id)
        # Within its grace period the sweep leaves everything alone (it may be an upload in flight).
        if any((early := await sweep_all(db, storage, grace=timedelta(hours=1))).values()):
            checker.problem(f"the sweep reclaimed objects younger than its grace period: {early}")
        report.reclaimed = await sweep_all(db, storage, grace=timedelta(0))
        report.orphans_after_sweep = await orphans(db, storage, world.organization_id)
        await storage_is_exactly_referenced(db, storage, checker)
        say(f"orphans {report.orphans_found}; sweep reclaimed {report.reclaimed}")
        # The sweep must not have touched anything acknowledged: read every acknowledged version back.
        await checker.acknowledged_stored(ledger.acks)
        await checker.rows_whole()
        phases["sweep and final checks"] = time.monotonic() - began - sum(phases.values())
        code, output = await asyncio.to_thread(audit_verify_cli, database_url, data_dir)
        report.audit_verify = f"exit {code}: {output[-300:]}"
        if code != 0:
            checker.problem(f"docgraph audit verify exited {code}: {output[-500:]}")
    finally:
        kill(server)
        await db.dispose()
    report.acknowledged = {"uploads": sum(a.kind == "upload" for a in ledger.acks),
                           "replaces": sum(a.kind == "replace" for a in ledger.acks), "total": len(ledger.acks)}
    report.acknowledged_mb = round(ledger.bytes_acknowledged / MiB, 1)
    report.interrupted = len(ledger.interrupted)
    report.restart_seconds = _summary(restarts)
    report.kill_after_seconds = _summary(delays)
    report.downloads_verified = checker.downloads
    report.checks_after_restart = checker.checks
    report.unexpected_errors = ledger.unexpected[:50]
    report.problems = checker.problems
    report.seconds = round(time.monotonic() - began, 1)
    report.phase_seconds = {name: round(seconds, 1) for name, seconds in phases.items()}
    return report


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"p50": round(statistics.median(values), 2), "max": round(max(values), 2), "n": len(values)}


# --- the command -----------------------------------------------------------------------------------------

async def run(args) -> CrashReport:
    """On a fresh database of the bench's PostgreSQL server (dropped afterwards)."""
    import asyncpg

    from bench.dataset import server_url
    from docgraph.db import async_url
    from docgraph.migrate import upgrade

    admin_url = server_url()
    name = f"docgraph_bench_faults_{os.getpid()}"
    data_dir = Path(os.environ.get("DOCGRAPH_BENCH_DATA_DIR", ROOT / "bench" / ".data")) / name
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, async_url(url))
        return await crash_recovery(url, data_dir, kills=args.kills, clients=args.clients, seed=args.seed,
                                    say=console.print)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 kills")
    parser.add_argument("--kills", type=int)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    quick = args.quick or os.environ.get("DOCGRAPH_BENCH_QUICK") == "1"
    args.kills = args.kills or (10 if quick else 50)
    report = asyncio.run(run(args))
    result = {"status": "ok" if report.ok else "failed", "seed": args.seed, **asdict(report)}
    write_result(Path(os.environ.get("DOCGRAPH_BENCH_RESULTS_DIR", RESULTS_DIR)), "faults", result)
    print(json.dumps(result, indent=1))
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
