"""The audit log's hash chains: `docgraph audit verify` names the first tampered row, and
`docgraph audit export` streams rows that parse back."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url, select
from typer.testing import CliRunner

from docgraph.auth.principal import Principal
from docgraph.cli import app as cli
from docgraph.models import AuditLog
from docgraph.services import audit
from docgraph.services.audit_log import EXPORT_FIELDS, export_lines, verify_chains

ROOT = Path(__file__).resolve().parents[2]


def _docgraph(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCGRAPH_DATABASE_URL": database_url, "DOCGRAPH_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "docgraph.cli", "audit", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


@pytest.fixture
async def history(services, factory):
    """Two organizations with a few audited actions each, plus a login failure for nobody."""
    orgs = [await factory.organization() for _ in range(2)]
    for org in orgs:
        admin = await factory.user(org, "ADMIN")
        actor = Principal(admin.id, org.id, "ADMIN", False)
        async with services.db.transaction() as session:
            for n in range(3):
                await audit.record_by(session, actor, "CREATE", "FOLDER", resource_id=uuid.uuid4(),
                                      resource_name=f"folder {n}", details={"n": n, "nested": {"ok": True},
                                                                            "id": uuid.uuid4()})
        await audit.record_failure(services.db, actor, "DELETE", "FOLDER", PermissionError("no, thanks"))
    async with services.db.transaction() as session:
        await audit.record(session, action="LOGIN", resource_type="USER", organization_id=None, user_id=None,
                           status="FAILURE", error_message="unknown email", details={"email": "x@example.com"})
    return orgs


async def _tamper(database_url: str, sql: str, *args) -> None:
    """Change the log as a superuser behind the append-only trigger's back."""
    conn = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute(sql, *args)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    finally:
        await conn.close()


async def test_every_chain_verifies_after_several_actions(services, history, database_url, tmp_path):
    reports = await verify_chains(services.db)
    assert [(r.organization_id, r.rows, r.ok) for r in reports] == [
        (None, 1, True), *sorted(((org.id, 4, True) for org in history), key=lambda r: str(r[0]))]
    result = _docgraph("verify", database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 3


async def test_a_row_edited_behind_the_triggers_back_is_named(services, history, database_url, tmp_path):
    victim_org = history[1]
    async with services.db.reading() as session:
        victim = (await session.execute(select(AuditLog).where(
            AuditLog.organization_id == victim_org.id, AuditLog.chain_seq == 2))).scalar_one()
    await _tamper(database_url, "UPDATE audit_log SET resource_name = 'nothing to see' WHERE id = $1", victim.id)

    [report] = await verify_chains(services.db, victim_org.id)
    assert (report.broken_row_id, report.broken_chain_seq, report.rows) == (victim.id, 2, 1)
    assert "altered" in report.problem
    result = _docgraph("verify", database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 1
    assert f"BROKEN  organization {victim_org.id}: row {victim.id} (chain_seq 2)" in result.stdout
    assert f"ok      organization {history[0].id}" in result.stdout


async def test_a_deleted_row_and_a_rewritten_hash_are_detected(services, history, database_url):
    org = history[0]
    await _tamper(database_url, "DELETE FROM audit_log WHERE organization_id = $1 AND chain_seq = 2", org.id)
    [report] = await verify_chains(services.db, org.id)
    assert report.broken_chain_seq == 3 and "missing" in report.problem

    org = history[1]
    await _tamper(database_url, "UPDATE audit_log SET resource_name = 'x', row_hash = repeat('0', 64) "
                                "WHERE organization_id = $1 AND chain_seq = 3", org.id)
    [report] = await verify_chains(services.db, org.id)
    assert report.broken_chain_seq == 3  # the hash no longer matches the content


async def test_export_formats_parse_back(services, history, database_url, tmp_path):
    lines = [line async for line in export_lines(services.db, "jsonl")]
    records = [json.loads(line) for line in lines]
    assert len(records) == 9 and all(set(r) == set(EXPORT_FIELDS) for r in records)
    assert records[0]["organization_id"] is None and records[0]["change_details"] == {"email": "x@example.com"}
    first_created = next(r for r in records if r["action"] == "CREATE")
    assert first_created["change_details"]["nested"] == {"ok": True} and first_created["chain_seq"] == 1

    target = tmp_path / "audit.csv"
    org = history[0]
    result = _docgraph("export", "--format", "csv", "--organization", str(org.id), "--output", str(target),
                       database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["chain_seq"] for row in rows] == ["1", "2", "3", "4"]
    assert {row["organization_id"] for row in rows} == {str(org.id)}
    assert json.loads(rows[0]["change_details"])["n"] == 0
    assert rows[3]["status"] == "FAILURE" and rows[3]["error_message"] == "no, thanks"
    jsonl = {r["id"]: r for r in records}
    for row in rows:
        assert row["row_hash"] == jsonl[row["id"]]["row_hash"]

    stdout = _docgraph("export", "--format", "jsonl", database_url=database_url, data_dir=tmp_path)
    assert [json.loads(line)["id"] for line in stdout.stdout.splitlines()] == [r["id"] for r in records]
    for bad in (["export", "--format", "xml"], ["verify", "--organization", "nope"]):
        assert CliRunner().invoke(cli, ["audit", *bad]).exit_code == 2
