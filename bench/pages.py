"""Items 1 and 2: the nested folder page, docgraph against PostGraphile v4, and SQL statements
per request.

    python -m bench.pages [--quick] [--duration S] [--profile]

1. docgraph (`docgraph serve --workers 2 --no-worker`) and PostGraphile v4 (2 node cluster
   workers, installed from npm into bench/postgraphile/node_modules) serve the same database.
   The page: a folder at depth 10 with its ancestors and its first 50 documents, each with
   current version, creator and (docgraph only) the viewer's permissions. The viewer is
   reader@bench.example, an EDITOR who sees the folder through grants only, so docgraph runs
   its whole access evaluation (visibility of the folder, of each ancestor, the documents
   listing filter and myPermissions). PostGraphile has no permission evaluation: its page is
   unchecked. Load comes from bench/load.py in a separate process, closed loop, at
   concurrency 1, 16 and 64, equal warmup and duration for both servers, alternating servers.
2. The same page at page sizes 1, 10 and 100, served in-process with a SQLAlchemy
   `before_cursor_execute` hook counting the statements each request sends to PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections import Counter
from typing import Any

import asyncpg
import httpx
from sqlalchemy import make_url

from . import BENCH_DIR, Context, CpuUse, Process, console, free_port, postgres_processes, profiling, run_load

POSTGRAPHILE_DIR = BENCH_DIR / "postgraphile"
CONCURRENCIES = (1, 16, 64)
PAGE_SIZE = 50
STATEMENT_PAGE_SIZES = (1, 10, 100)
GOAL_RATIO = 0.5

DOCGRAPH_QUERY = """
query FolderPage($id: ID!, $first: Int!) {
  folder(id: $id) {
    name
    ancestors { id name }
    documents(first: $first) {
      totalCount
      edges { node {
        id name
        currentVersion { versionNumber fileSize contentHash }
        createdBy { email }
        myPermissions { canView canUpdate canDelete }
      } }
    }
  }
}"""

# The same page as PostGraphile derives it from the tables: relations from the foreign keys
# (document.folder_id, document.current_version_id, document.created_by) and ancestors from a
# computed column over folder.path (postgraphile/ancestors.sql). Live documents by name.
POSTGRAPHILE_QUERY = """
query FolderPage($id: UUID!, $first: Int!) {
  folderById(id: $id) {
    name
    ancestors { nodes { id name } }
    documentsByFolderId(first: $first, condition: {deletedAt: null}, orderBy: [NAME_ASC, ID_ASC]) {
      totalCount
      edges { node {
        id name
        documentVersionByCurrentVersionId { versionNumber fileSize contentHash }
        userByCreatedBy { email }
      } }
    }
  }
}"""


def docgraph_body(folder_id: str, first: int) -> dict[str, Any]:
    from docgraph import globalid

    return {"query": DOCGRAPH_QUERY, "operationName": "FolderPage",
            "variables": {"id": globalid.encode("Folder", uuid.UUID(folder_id)), "first": first}}


def postgraphile_body(folder_id: str, first: int) -> dict[str, Any]:
    return {"query": POSTGRAPHILE_QUERY, "operationName": "FolderPage", "variables": {"id": folder_id, "first": first}}


# --- the folder and the checks ----------------------------------------------------------------------

async def choose_folder(ctx: Context, minimum: int = max(STATEMENT_PAGE_SIZES)) -> tuple[str, int]:
    """The first hot folder the reader may VIEW with at least `minimum` visible documents,
    counted by docgraph's own visibility filter."""
    from sqlalchemy import func, select

    from docgraph.db import Database, async_url
    from docgraph.models import Document
    from docgraph.permissions import FOLDER, Actor, evaluate, visible_document_ids

    actor = Actor(uuid.UUID(ctx.info.reader_id), uuid.UUID(ctx.info.organization_id))
    db = Database(async_url(ctx.info.database_url), pool_size=1)
    try:
        async with db.reading() as session:
            for folder_id in ctx.info.hot_folder_ids:
                key = (FOLDER, uuid.UUID(folder_id))
                access = (await evaluate(session, actor, [key]))[key]
                if not access.visible or access.is_implicit:
                    continue
                visible = visible_document_ids(actor, Document.folder_id == uuid.UUID(folder_id)).subquery()
                count = (await session.execute(select(func.count()).select_from(visible))).scalar_one()
                if count >= minimum:
                    return folder_id, count
    finally:
        await db.dispose()
    raise RuntimeError("no hot folder the reader sees through grants with enough documents: regenerate the dataset")


def page_problem(data: dict[str, Any], *, docgraph: bool, first: int, visible: int) -> str | None:
    """Why a response is not the expected page (None when it is)."""
    if data.get("errors"):
        return json.dumps(data["errors"])[:500]
    folder = (data.get("data") or {}).get("folder" if docgraph else "folderById")
    if not folder:
        return "no folder in the response"
    documents = folder["documents" if docgraph else "documentsByFolderId"]
    edges = documents["edges"]
    if len(edges) != min(first, visible if docgraph else documents["totalCount"]):
        return f"{len(edges)} documents on the page, expected {min(first, visible)}"
    if docgraph and documents["totalCount"] != visible:
        return f"totalCount {documents['totalCount']}, the reader may view {visible}"
    version = "currentVersion" if docgraph else "documentVersionByCurrentVersionId"
    if any(edge["node"][version] is None for edge in edges):
        return "a document without its current version"
    return None


def schema_missing(url: str, token: str) -> list[str]:
    """Fields of the page that the running docgraph schema does not have yet."""
    query = """{ folder: __type(name: "Folder") { fields { name } }
                 document: __type(name: "Document") { fields { name } } }"""
    data = httpx.post(url + "/graphql", json={"query": query},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["data"]
    have = {(kind, f["name"]) for kind in ("folder", "document") for f in (data[kind] or {}).get("fields", [])}
    wanted = [("folder", "documents"), ("folder", "ancestors"), ("document", "currentVersion"),
              ("document", "createdBy"), ("document", "myPermissions")]
    return [f"{kind.capitalize()}.{name}" for kind, name in wanted if (kind, name) not in have]


# --- PostGraphile -----------------------------------------------------------------------------------

def install_postgraphile() -> None:
    if (POSTGRAPHILE_DIR / "node_modules" / "postgraphile").exists():
        return
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed: PostGraphile cannot be installed")
    console.print("installing PostGraphile v4 from npm into bench/postgraphile/node_modules")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=POSTGRAPHILE_DIR,
                   check=True, timeout=600)


async def prepare_postgraphile_schema(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute((POSTGRAPHILE_DIR / "ancestors.sql").read_text())
    finally:
        await conn.close()


def postgraphile_server(database_url: str, *, workers: int = 2) -> Process:
    install_postgraphile()
    url = make_url(database_url)
    port = free_port()
    env = dict(os.environ, PORT=str(port), WORKERS=str(workers), NODE_ENV="production")
    env.pop("DATABASE_URL", None)
    if url.query.get("host", "").startswith("/"):  # the embedded server: its unix socket
        env.update(PGHOST=url.query["host"], PGDATABASE=url.database, PGUSER=url.username or "postgres")
        if url.port:
            env["PGPORT"] = str(url.port)
    else:
        env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    server = Process("postgraphile", ["node", str(POSTGRAPHILE_DIR / "server.js")], env=env, port=port)
    server.start()
    server.wait_ready("/graphql")
    return server


# --- item 1 -----------------------------------------------------------------------------------------

async def throughput(ctx: Context, folder_id: str, visible: int) -> dict[str, Any]:
    token = ctx.reader_token()
    docgraph = ctx.docgraph()
    missing = schema_missing(docgraph.url, token)
    if missing:
        return {"status": "not available yet", "missing_fields": missing}
    auth = {"Authorization": f"Bearer {token}"}
    targets = {
        "docgraph": (docgraph.url + "/graphql", docgraph_body(folder_id, PAGE_SIZE), auth),
    }
    await prepare_postgraphile_schema(ctx.info.database_url)
    postgraphile = ctx.start(lambda: postgraphile_server(ctx.info.database_url))
    targets["postgraphile"] = (postgraphile.url + "/graphql", postgraphile_body(folder_id, PAGE_SIZE), {})
    servers = {"docgraph": docgraph, "postgraphile": postgraphile}

    samples = {}
    for name, (url, body, headers) in targets.items():
        response = httpx.post(url, json=body, headers=headers, timeout=60).json()
        problem = page_problem(response, docgraph=name == "docgraph", first=PAGE_SIZE, visible=visible)
        if problem:
            raise RuntimeError(f"{name} does not serve the page: {problem}")
        samples[name] = response

    runs: dict[str, dict[str, Any]] = {name: {} for name in targets}
    warmups: dict[str, float] = {}
    for concurrency in CONCURRENCIES:
        warmup = warmups[str(concurrency)] = _warmup(ctx.warmup, concurrency, runs)
        order = list(targets) if concurrency != 16 else list(reversed(targets))  # alternate who goes first
        for name in order:
            url, body, headers = targets[name]
            # Where the machine's two cores go: the server's processes and PostgreSQL's, per request.
            with CpuUse(server=servers[name].processes, postgresql=postgres_processes) as cpu:
                stats = await run_load(url, body, concurrency=concurrency, duration=ctx.duration, warmup=warmup,
                                       headers=headers)
            stats["cpu_cores"], stats["cpu_ms_per_request"] = cpu.cores, cpu.per_request_ms(stats["rps"])
            runs[name][str(concurrency)] = stats
            console.print(f"  page {name:12} c={concurrency:<3} {stats['rps']:8.1f} req/s  "
                          f"p50 / p95 / p99 {stats['p50_ms']} / {stats['p95_ms']} / {stats['p99_ms']} ms  "
                          f"errors {stats['errors']}  CPU ms/request {stats['cpu_ms_per_request']}")
    ratios = {c: round(runs["docgraph"][c]["rps"] / runs["postgraphile"][c]["rps"], 3)
              if runs["postgraphile"][c]["rps"] else None for c in runs["docgraph"]}
    return {
        "status": "ok",
        "folder_id": folder_id, "folder_depth": 10, "visible_documents": visible, "page_size": PAGE_SIZE,
        "viewer": "reader@bench.example (EDITOR; folder visible through GROUP and USER grants only)",
        "duration_s": ctx.duration, "warmup_s": warmups, "workers": 2,
        "docgraph": runs["docgraph"], "postgraphile": runs["postgraphile"],
        "ratio_rps": ratios, "goal_ratio": GOAL_RATIO,
        "goal_met": all(r is not None and r >= GOAL_RATIO for r in ratios.values()),
        "response_bytes": {name: len(json.dumps(sample)) for name, sample in samples.items()},
        "note": "PostGraphile evaluates no permissions: its page is unchecked (no myPermissions, no visibility "
                "filter on the folder, its ancestors or its documents); docgraph's is fully access-checked.",
        "cpu_method": "psutil CPU time (user + system) of the server's process tree and of every PostgreSQL "
                      "process over the whole load run (warmup included), divided by its length: cores busy; "
                      "per request: cores / measured req/s",
    }


def _warmup(minimum: float, concurrency: int, runs: dict[str, dict[str, Any]], cap: float = 15.0) -> float:
    """Unmeasured seconds before a run: at least `minimum`, and at high concurrency long enough
    for the first wave of requests (all sent at once) to have passed, estimated from the slower
    server's single-connection rate, so the window sees the steady state."""
    rates = [r["1"]["rps"] for r in runs.values() if "1" in r and r["1"]["rps"]]
    if not rates:
        return minimum
    return round(min(cap, max(minimum, 1.5 * concurrency / min(rates))), 1)


# --- item 2 -----------------------------------------------------------------------------------------

async def statements(ctx: Context, folder_id: str, visible: int) -> dict[str, Any]:
    """Statements per request at each page size, counted in-process on the app's engine."""
    from sqlalchemy import event

    from docgraph.app import build_services, create_app
    from docgraph.config import Settings
    from docgraph.db import async_url

    from . import DATA_DIR, SECRET_KEY, TOKEN_TTL

    url = async_url(ctx.info.database_url)
    settings = Settings(database_url=url, data_dir=DATA_DIR / "serve", secret_key=SECRET_KEY,
                        access_token_ttl=TOKEN_TTL, graphiql=False, run_worker=False)
    services = build_services(settings, database_url=url)
    app = create_app(settings, services=services)
    executed: list[tuple[str, Any]] = []
    other = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):
        executed.append((statement, parameters))

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    # Round trips that are not statements of the app, as asyncpg sends them: BEGIN / COMMIT /
    # ROLLBACK (none for reads in autocommit) and the pool's liveness ping at each checkout.
    event.listen(engine.pool, "connect", lambda dbapi_connection, record: dbapi_connection.driver_connection
                 .add_query_logger(lambda logged: other.update([_around_kind(logged.query)])))
    event.listen(engine.pool, "checkout", lambda *args: other.update(["checkout"]))
    pre_ping = bool(getattr(engine.pool, "_pre_ping", False))
    headers = {"Authorization": f"Bearer {ctx.reader_token()}"}
    per_size: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     timeout=60) as client:
            for first in (*STATEMENT_PAGE_SIZES, PAGE_SIZE):
                body = docgraph_body(folder_id, first)
                for _attempt in range(3):  # the last of three: connections and caches are warm
                    executed.clear()
                    other.clear()
                    response = (await client.post("/graphql", json=body, headers=headers)).json()
                problem = page_problem(response, docgraph=True, first=first, visible=visible)
                if problem:
                    raise RuntimeError(f"page of {first}: {problem}")
                if first == PAGE_SIZE:  # the benchmark's page: how much of it is PostgreSQL's time
                    database = await _database_time(ctx.info.database_url, executed)
                    continue
                kinds = Counter(_statement_kind(s) for s, _ in executed)
                per_size[str(first)] = {
                    "statements": len(executed), "by_kind": dict(kinds.most_common()),
                    "sessions": other["checkout"], "transactions": other["begin"],
                    "round_trips": len(executed) + sum(n for kind, n in other.items() if kind != "checkout"),
                    "around_statements": {kind: n for kind, n in other.items() if kind != "checkout"},
                }
    finally:
        await services.db.dispose()
    counts = [v["statements"] for v in per_size.values()]
    return {"status": "ok", "page_sizes": per_size, "constant": len(set(counts)) == 1, "pool_pre_ping": pre_ping,
            f"database_ms_page_of_{PAGE_SIZE}": database,
            "method": "SQLAlchemy before_cursor_execute on the app's engine, app in-process over ASGI, "
                      "third request of each size counted; round_trips adds what asyncpg sends around "
                      "the statements (its query logger): BEGIN / COMMIT / ROLLBACK and the pool's "
                      "liveness pings"}


async def _database_time(database_url: str, executed: list[tuple[str, Any]]) -> dict[str, Any]:
    """PostgreSQL's own time for the statements of one request, run again one by one under
    EXPLAIN (ANALYZE, TIMING OFF): planning and execution, summed."""
    conn = await asyncpg.connect(database_url)
    planning = execution = 0.0
    try:
        for statement, parameters in executed:
            plan = await conn.fetchval("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + statement,
                                       *(parameters or ()))
            plan = json.loads(plan) if isinstance(plan, str) else plan
            planning += plan[0]["Planning Time"]
            execution += plan[0]["Execution Time"]
    finally:
        await conn.close()
    return {"statements": len(executed), "planning": round(planning, 2), "execution": round(execution, 2)}


def _around_kind(query: str) -> str:
    """What asyncpg sent besides the app's statements: a transaction's edge or a ping."""
    word = query.strip().rstrip(";").split(" ")[0].lower()
    return word if word in ("begin", "commit", "rollback") else "ping" if not word else "other"


def _statement_kind(statement: str) -> str:
    """A short label for a statement: its verb and the first table it reads."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    table = "?"
    lowered = [w.lower() for w in words]
    if "from" in lowered:
        index = lowered.index("from") + 1
        if index < len(words):
            table = words[index].strip('"(),')
    return f"{verb} {table}"


# --- entry ------------------------------------------------------------------------------------------

async def run(ctx: Context, *, with_profile: bool = False) -> dict[str, dict[str, Any]]:
    folder_id, visible = await choose_folder(ctx)
    console.print(f"page: folder {folder_id} at depth 10, {visible} documents visible to the reader")
    results = {"pages": await throughput(ctx, folder_id, visible)}
    if results["pages"]["status"] == "ok":
        from . import floor

        results["pages"]["floor"] = await floor.measure()
        results["statements"] = await statements(ctx, folder_id, visible)
        if with_profile:
            results["profile"] = await profiling.record(
                ctx.docgraph(), docgraph_body(folder_id, PAGE_SIZE), {"Authorization": f"Bearer {ctx.reader_token()}"},
                ctx.results_dir, "profile-page")
    else:
        results["statements"] = dict(results["pages"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="nested folder page: docgraph vs PostGraphile v4")
    Context.add_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="also profile a docgraph worker with py-spy")
    args = parser.parse_args()

    async def go():
        async with await Context.from_arguments(args) as ctx:
            for name, result in (await run(ctx, with_profile=args.profile)).items():
                ctx.write(name, result)
                print(json.dumps({name: result}, indent=1, default=str)[:4000])

    asyncio.run(go())


if __name__ == "__main__":
    main()
