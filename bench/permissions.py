"""Benchmark of the access evaluation: one batched check of 1,000 resources at depth 20.

Builds, with bulk COPY, an organization of ~50,000 folders (5 department drives, chains 20
levels deep with leaves along them) and 50,000 documents, a creator row per folder (what
createFolder writes) plus 5,000 shares to users, groups, custom and system roles (10 % of them
restrictions, 10 % expired), then evaluates 1,000 resources at depth 20 (folders whose path
has 20 nodes, and documents in such folders) for an EDITOR who is in two groups and holds a
custom role, 50 times. Reports the database's execution time (EXPLAIN ANALYZE, timing off)
and the round trip through `permissions.evaluate` (statement build + execute + rows), p50/p95.

    .venv/bin/python bench/permissions.py [--runs 50] [--keep]

Uses DATABASE_URL (any database on that server: a scratch database is created and dropped)
or else starts an embedded PostgreSQL (pgserver) in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

from docgraph import permissions
from docgraph.db import Database, async_url
from docgraph.migrate import upgrade
from docgraph.permissions.evaluation import by_ids

DEPARTMENTS = 5
CHAINS_PER_DEPARTMENT = 25
DEPTH = 20                 # nodes in the path of the deepest folders (root included)
LEAVES_PER_CHAIN_NODE = 21
DOCUMENTS = 50_000
SHARES = 5_000
MEMBERS = 50
GROUPS = 10
CUSTOM_ROLES = 5
CHECKED = 1_000

rng = random.Random(20)


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def build(conn: asyncpg.Connection) -> dict:
    now = datetime.now(UTC)
    org = uuid.uuid4()
    await conn.execute("INSERT INTO organization (id, name, status, settings, created_at, updated_at) "
                       "VALUES ($1, 'Bench', 'ACTIVE', '{}', now(), now())", org)
    users = [uuid.uuid4() for _ in range(MEMBERS)]
    admin = users[0]
    roles = ["ADMIN"] + ["EDITOR" if i % 3 else "VIEWER" for i in range(1, MEMBERS)]
    await conn.copy_records_to_table("users", columns=[
        "id", "email", "password_hash", "first_name", "last_name", "is_active", "is_super_admin",
        "created_at", "updated_at"], records=[
        (u, f"{u}@bench.example", "x", "B", "U", True, False, now, now) for u in users])
    await conn.copy_records_to_table("membership", columns=[
        "id", "user_id", "organization_id", "system_role", "is_default", "joined_at"], records=[
        (uuid.uuid4(), u, org, r, True, now) for u, r in zip(users, roles, strict=False)])
    system_roles = {key: uuid.uuid4() for key in ("ADMIN", "EDITOR", "VIEWER")}
    custom_roles = [uuid.uuid4() for _ in range(CUSTOM_ROLES)]
    await conn.copy_records_to_table("role", columns=[
        "id", "organization_id", "name", "is_system", "system_key", "created_at"], records=[
        *((rid, org, key, True, key, now) for key, rid in system_roles.items()),
        *((rid, org, f"custom {i}", False, None, now) for i, rid in enumerate(custom_roles))])
    groups = [uuid.uuid4() for _ in range(GROUPS)]
    await conn.copy_records_to_table("groups", columns=["id", "organization_id", "name", "created_at"],
                                     records=[(g, org, f"group {i}", now) for i, g in enumerate(groups)])
    # The measured user: an EDITOR in groups 0 and 1 holding custom role 0.
    me = users[2]
    group_members = {(groups[0], me), (groups[1], me)} | {(rng.choice(groups), rng.choice(users)) for _ in range(100)}
    await conn.copy_records_to_table("group_member", columns=["group_id", "user_id", "organization_id", "created_at"],
                                     records=[(g, u, org, now) for g, u in group_members])
    member_roles = {(custom_roles[0], me)} | {(rng.choice(custom_roles), rng.choice(users)) for _ in range(30)}
    await conn.copy_records_to_table("member_role", columns=["role_id", "user_id", "organization_id", "created_at"],
                                     records=[(r, u, org, now) for r, u in member_roles])

    departments = [uuid.uuid4() for _ in range(DEPARTMENTS)]
    folders: list[tuple] = []  # id, parent, name, owner_type, owner_id, department, path, creator

    def folder(parent: tuple | None, name: str, department: uuid.UUID, creator: uuid.UUID) -> tuple:
        folder_id = uuid.uuid4()
        row = (folder_id, parent[0] if parent else None, name, "ORG", org, department,
               [*(parent[6] if parent else []), folder_id], creator)
        folders.append(row)
        return row

    creators = [u for u, r in zip(users, roles, strict=False) if r != "VIEWER" and u != me]
    for d, department in enumerate(departments):
        root = folder(None, f"Department {d}", department, admin)
        for c in range(CHAINS_PER_DEPARTMENT):
            node = root
            for level in range(2, DEPTH + 1):
                node = folder(node, f"chain {c} level {level}", department, rng.choice(creators))
                if level < DEPTH:
                    for leaf in range(LEAVES_PER_CHAIN_NODE):
                        folder(node, f"leaf {leaf}", department, rng.choice(creators))
    await conn.copy_records_to_table("department", columns=["id", "organization_id", "name", "created_at"],
                                     records=[(d, org, f"Department {i}", now) for i, d in enumerate(departments)])
    await conn.copy_records_to_table("folder", columns=[
        "id", "organization_id", "parent_id", "name", "owner_type", "owner_id", "department_id", "path",
        "created_by", "created_at", "updated_at"], records=[
        (f[0], org, f[1], f[2], f[3], f[4], f[5], f[6], f[7], now, now) for f in folders])

    deep = [f for f in folders if len(f[6]) == DEPTH]
    documents = []
    for i in range(DOCUMENTS):
        holder = rng.choice(deep) if i % 2 == 0 else rng.choice(folders)
        documents.append((uuid.uuid4(), org, holder[0], f"doc {i}.pdf", "application/pdf", 1000, 1,
                          rng.choice(creators), now, now, holder))
    await conn.copy_records_to_table("document", columns=[
        "id", "organization_id", "folder_id", "name", "content_type", "file_size", "version_count", "created_by",
        "created_at", "updated_at"], records=[d[:10] for d in documents])

    capability_columns = ["can_view", "can_create", "can_update", "can_delete", "can_share", "can_manage"]
    grants = [(uuid.uuid4(), org, f[0], None, "USER", f[7], *([True] * 6), f[7], now, None) for f in folders]
    subjects = ([("USER", u) for u in users] + [("GROUP", g) for g in groups]
                + [("ROLE", r) for r in custom_roles] + [("ROLE", r) for r in system_roles.values()])
    taken = {(g[2], g[4], g[5]) for g in grants}
    while len(grants) < len(folders) + SHARES:
        on_document = rng.random() < 0.2
        resource = rng.choice(documents)[0] if on_document else rng.choice(folders)[0]
        subject_type, subject_id = rng.choice(subjects)
        if (resource, subject_type, subject_id) in taken:
            continue
        taken.add((resource, subject_type, subject_id))
        kind = rng.random()
        caps = [False] * 6 if kind < 0.1 else [True] + [rng.random() < 0.4 for _ in range(5)]
        expires = now - timedelta(days=1) if 0.1 <= kind < 0.2 else None
        grants.append((uuid.uuid4(), org, None if on_document else resource, resource if on_document else None,
                       subject_type, subject_id, *caps, admin, now, expires))
    await conn.copy_records_to_table("grants", columns=[
        "id", "organization_id", "folder_id", "document_id", "subject_type", "subject_id", *capability_columns,
        "granted_by", "granted_at", "expires_at"], records=grants)
    await conn.execute("ANALYZE")

    checked = ([("FOLDER", f[0]) for f in rng.sample(deep, CHECKED // 2)]
               + [("DOCUMENT", d[0]) for d in rng.sample([d for d in documents if len(d[10][6]) == DEPTH],
                                                         CHECKED - CHECKED // 2)])
    return {"org": org, "me": me, "checked": checked, "folders": len(folders), "documents": len(documents),
            "grants": len(grants), "deep_folders": len(deep)}


async def measure(db: Database, world: dict, runs: int, show_plan: bool = False) -> dict:
    actor = permissions.Actor(world["me"], world["org"])
    keys = world["checked"]
    wall, server = [], []
    async with db.reading() as session:
        found = await permissions.evaluate(session, actor, keys)  # warm-up (plans, caches)
    statement, values = by_ids(actor, keys)
    statement = statement.compile(dialect=db.engine.dialect)
    parameters = tuple(values.get(name, statement.params.get(name)) for name in statement.positiontup)
    explain = f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {statement}"
    if show_plan:
        async with db.reading() as session:
            connection = await session.connection()
            rows = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
            print("\n".join(row[0] for row in rows))
    for _ in range(runs):
        async with db.reading() as session:
            started = time.perf_counter()
            found = await permissions.evaluate(session, actor, keys)
            wall.append((time.perf_counter() - started) * 1000)
            connection = await session.connection()
            plan = (await connection.exec_driver_sql(explain, parameters)).scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            server.append(plan[0]["Execution Time"])
    allowed = {c.value: sum(a.allows(c) for a in found.values()) for c in permissions.CAPABILITIES}
    rules = {}
    for access in found.values():
        rules[access.rule.value] = rules.get(access.rule.value, 0) + 1
    return {"wall": wall, "server": server, "allowed": allowed, "rules": rules, "found": len(found)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--plan", action="store_true", help="print one EXPLAIN ANALYZE plan")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or os.environ.get("DOCGRAPH_DATABASE_URL")
    pg = None
    if not server_url:
        import pgserver

        pg = pgserver.get_server(Path(tempfile.mkdtemp(prefix="dgbench-")), cleanup_mode="delete")
        server_url = pg.get_uri()
    name = f"docgraph_bench_{os.getpid()}"
    admin = await asyncpg.connect(plain(server_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(plain(server_url)).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, async_url(url))
        started = time.perf_counter()
        conn = await asyncpg.connect(url)
        world = await build(conn)
        await conn.close()
        print(f"built {world['folders']:,} folders ({world['deep_folders']:,} at depth {DEPTH}), "
              f"{world['documents']:,} documents, {world['grants']:,} grants in {time.perf_counter() - started:.1f} s")
        db = Database(async_url(url), pool_size=2)
        result = await measure(db, world, args.runs, show_plan=args.plan)
        await db.dispose()
        print(f"one batched check of {result['found']:,} resources at depth {DEPTH}, {args.runs} runs:")
        for label, values in (("database execution", result["server"]), ("evaluate() round trip", result["wall"])):
            print(f"  {label:22} p50 {percentile(values, 0.5):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms"
                  f"   mean {statistics.mean(values):7.1f} ms")
        print(f"  decided by: {result['rules']}")
        print(f"  allowed:    {result['allowed']}")
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if pg is not None:
            pg.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
