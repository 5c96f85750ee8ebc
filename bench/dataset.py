"""The benchmark dataset: one organization at the issue's scale, bulk-loaded with COPY.

    python -m bench.dataset [--quick] [--regenerate]

Full scale: 1 organization, 1,000 users (memberships with mixed system roles, My Drive roots),
10 departments with roots and admins, 100 groups, 10 custom roles, 10,000 folders in the
department drives up to depth 20 (a root is depth 0), 100,000 documents with 1-3 versions
(blobs per (organization, sha256), sometimes shared), 20,000 sharing grants at mixed depths
(USER / GROUP / ROLE subjects, restrictions, expired and expiring rows) plus the creator's
full row on every folder a person created (what createFolder writes). `--quick` is 10x smaller
(it keeps the 1,000 documents at depth 20 that the permission benchmark needs).

Rows are generated in Python from a fixed seed and loaded with asyncpg's
`copy_records_to_table` into a database migrated by docgraph's own migrations. Foreign-key
triggers are off during the load (`session_replication_role = replica`, so the two reference
cycles, department <-> root folder and document <-> current version, load in one pass); every
foreign key is then re-verified with one anti-join each before the transaction commits. CHECK
constraints and unique indexes stay enforced throughout.

The personas the benchmarks use are fixed: `reader@bench.example` (EDITOR, not an admin, not a
creator of anything it reads) sees the hot folders through grants only, and a department
through its group; `admin@bench.example` is the organization ADMIN.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import make_url

from . import DATA_DIR, console
from .generator import PASSWORD, SEARCH_METADATA, SEARCH_TAG, SEED, Rows

COPY_CHUNK = 20_000


@dataclass(frozen=True)
class Scale:
    name: str
    users: int
    groups: int
    custom_roles: int
    departments: int
    folders: int          # in department drives, roots included (My Drive roots come on top)
    documents: int
    grants: int           # sharing grants (creators' rows come on top)
    max_depth: int = 20
    hot_folders: int = 5  # folders at depth 10 the reader sees through grants (page benchmark)
    hot_documents: int = 150
    deep_documents: int = 1_000  # documents in folders at max_depth (permission benchmark)

    @property
    def database(self) -> str:
        return f"docgraph_bench_{self.name}"


FULL = Scale("full", users=1_000, groups=100, custom_roles=10, departments=10, folders=10_000,
             documents=100_000, grants=20_000)
QUICK = Scale("quick", users=100, groups=10, custom_roles=3, departments=4, folders=1_000,
              documents=10_000, grants=2_000, hot_folders=3)


@dataclass
class DatasetInfo:
    """What the benchmarks need to know about a generated dataset (kept beside it as JSON)."""

    scale: str
    database_url: str
    organization_id: str
    admin_id: str
    reader_id: str
    hot_folder_ids: list[str]
    deep_document_ids: list[str]
    search_tags: list[str]
    search_metadata: dict[str, Any]
    counts: dict[str, int]
    depth_histogram: dict[str, int]
    generated_at: str
    generation_seconds: float
    seed: int = SEED
    password: str = PASSWORD
    extra: dict[str, Any] = field(default_factory=dict)


# --- where the dataset lives ----------------------------------------------------------------------

def server_url() -> str:
    """A plain (asyncpg) URL to a maintenance database of the server the bench uses:
    DATABASE_URL / DOCGRAPH_DATABASE_URL when set, else the embedded PostgreSQL in bench/.data."""
    import os

    url = os.environ.get("DOCGRAPH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        from docgraph.db import start_embedded_postgres

        url = start_embedded_postgres(DATA_DIR)
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def database_url(scale: Scale) -> str:
    """Plain URL of the scale's own database (never the one DATABASE_URL names)."""
    return make_url(server_url()).set(database=scale.database).render_as_string(hide_password=False)


def info_path(scale: Scale) -> Path:
    return DATA_DIR / f"{scale.database}.json"


# --- loading --------------------------------------------------------------------------------------

# Tables load in this order; with foreign-key triggers off the order only matters for readability.
LOAD_ORDER = ("organization", "users", "membership", "role", "member_role", "department", "department_admin",
              "groups", "group_member", "folder", "blob", "document", "document_version", "grants")

_FOREIGN_KEYS_SQL = """
    SELECT c.conname, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
           array_agg(a.attname ORDER BY k.ord) AS child_columns,
           array_agg(pa.attname ORDER BY k.ord) AS parent_columns
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child_attnum, parent_attnum, ord)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.child_attnum
    JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_attnum
    WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
    GROUP BY c.conname, c.conrelid, c.confrelid
"""


async def verify_foreign_keys(conn: asyncpg.Connection) -> int:
    """Every foreign key of the schema, checked with one anti-join each; raises on a dangling
    reference. Returns how many constraints were checked."""
    checked = 0
    for fk in await conn.fetch(_FOREIGN_KEYS_SQL):
        child_cols = [f'c."{col}"' for col in fk["child_columns"]]
        pairs = zip(fk["child_columns"], fk["parent_columns"], strict=True)
        match = " AND ".join(f'p."{pc}" = c."{cc}"' for cc, pc in pairs)
        not_null = " AND ".join(f"{col} IS NOT NULL" for col in child_cols)
        dangling = await conn.fetchval(
            f"SELECT count(*) FROM {fk['child']} c WHERE {not_null} "
            f"AND NOT EXISTS (SELECT 1 FROM {fk['parent']} p WHERE {match})")
        if dangling:
            raise RuntimeError(f"dataset breaks foreign key {fk['conname']}: {dangling} dangling rows")
        checked += 1
    return checked


async def _copy(conn: asyncpg.Connection, rows: Rows, progress) -> None:
    total = sum(len(rows.tables[t]) for t in LOAD_ORDER)
    task = progress.add_task("copy rows", total=total)
    for table in LOAD_ORDER:
        records = rows.tables[table]
        progress.update(task, description=f"copy {table}")
        for start in range(0, len(records), COPY_CHUNK):
            chunk = records[start:start + COPY_CHUNK]
            await conn.copy_records_to_table(table, records=chunk, columns=list(Rows.COLUMNS[table]))
            progress.advance(task, len(chunk))
    progress.update(task, description="copy done")


async def _create_database(scale: Scale) -> str:
    admin = await asyncpg.connect(server_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scale.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{scale.database}"')
    finally:
        await admin.close()
    return database_url(scale)


def migrate(url: str) -> None:
    from docgraph.db import async_url
    from docgraph.migrate import upgrade

    upgrade(async_url(url))


def describe(rows: Rows, url: str, seconds: float) -> DatasetInfo:
    histogram: dict[str, int] = {}
    for depth in rows.depth.values():
        histogram[str(depth)] = histogram.get(str(depth), 0) + 1
    return DatasetInfo(
        scale=rows.scale.name, database_url=url, organization_id=str(rows.org), admin_id=str(rows.admin),
        reader_id=str(rows.reader), hot_folder_ids=[str(f) for f in rows.hot_folders],
        deep_document_ids=[str(d) for d in rows.deep_documents], search_tags=[SEARCH_TAG],
        search_metadata=SEARCH_METADATA, counts={t: len(r) for t, r in rows.tables.items()},
        depth_histogram=dict(sorted(histogram.items(), key=lambda kv: int(kv[0]))),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        generation_seconds=round(seconds, 1),
    )


async def generate(scale: Scale) -> DatasetInfo:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.perf_counter()
    url = await _create_database(scale)
    await asyncio.to_thread(migrate, url)
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        rows = Rows(scale)
        rows.build(progress)
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await _copy(conn, rows, progress)
                await conn.execute(
                    "UPDATE department d SET root_folder_id = f.id FROM folder f "
                    "WHERE f.department_id = d.id AND f.parent_id IS NULL AND f.owner_type = 'ORG'")
                await conn.execute("SET LOCAL session_replication_role = origin")
                task = progress.add_task("verify foreign keys", total=None)
                checked = await verify_foreign_keys(conn)
                progress.update(task, description=f"verified {checked} foreign keys", total=1, completed=1)
            task = progress.add_task("vacuum analyze", total=None)
            await conn.execute("VACUUM ANALYZE")
            progress.update(task, total=1, completed=1)
        finally:
            await conn.close()
    info = describe(rows, url, time.perf_counter() - started)
    info_path(scale).write_text(json.dumps(asdict(info), indent=1))
    return info


async def _present(scale: Scale) -> DatasetInfo | None:
    """The kept dataset, if its description and its organization are both there."""
    path = info_path(scale)
    if not path.exists():
        return None
    info = DatasetInfo(**json.loads(path.read_text()))
    try:
        conn = await asyncpg.connect(database_url(scale))
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        found = await conn.fetchval("SELECT count(*) FROM organization WHERE id = $1", uuid.UUID(info.organization_id))
    except asyncpg.UndefinedTableError:
        found = 0
    finally:
        await conn.close()
    if not found:
        return None
    info.database_url = database_url(scale)
    return info


async def ensure(scale: Scale, *, regenerate: bool = False) -> DatasetInfo:
    """The dataset for `scale`: kept from an earlier run (migrated to the newest revision) or
    generated now."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    info = None if regenerate else await _present(scale)
    if info is not None:
        await asyncio.to_thread(migrate, info.database_url)
        console.print(f"dataset [b]{scale.name}[/b]: kept from {info.generated_at} ({info.database_url})")
        return info
    console.print(f"dataset [b]{scale.name}[/b]: generating into {scale.database}")
    info = await generate(scale)
    console.print(f"dataset [b]{scale.name}[/b]: {info.counts} in {info.generation_seconds} s")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller dataset")
    parser.add_argument("--regenerate", action="store_true", help="drop and rebuild the dataset")
    args = parser.parse_args()
    info = asyncio.run(ensure(QUICK if args.quick else FULL, regenerate=args.regenerate))
    print(json.dumps({k: v for k, v in asdict(info).items() if k != "deep_document_ids"}, indent=1))


if __name__ == "__main__":
    main()
