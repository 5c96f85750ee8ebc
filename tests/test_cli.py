"""The docgraph command: migrate, export-schema, seed-demo and create-superadmin."""

import os
import subprocess
import sys
from pathlib import Path

from docgraph.demo import PEOPLE

ROOT = Path(__file__).resolve().parent.parent


def _docgraph(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCGRAPH_DATABASE_URL": database_url, "DOCGRAPH_DATA_DIR": str(data_dir),
           "DOCGRAPH_BCRYPT_ROUNDS": "4"}
    return subprocess.run([sys.executable, "-m", "docgraph.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_export_schema_writes_the_sdl(tmp_path, database_url):
    target = tmp_path / "schema.graphql"
    result = _docgraph("export-schema", str(target), database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "type Query" in target.read_text()


async def test_seed_demo_then_demo_logins_work(tmp_path, database_url, api):
    result = _docgraph("seed-demo", database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    for email, _, _, _, _ in PEOPLE:
        assert email in result.stdout
    login = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
        accessToken viewer { systemRole organization { name } } } }"""
    email, password, *_ , role = PEOPLE[1]
    data = await api.ok(login, {"e": email, "p": password})
    assert data["login"]["viewer"] == {"systemRole": role, "organization": {"name": "Acme Corp"}}

    again = _docgraph("seed-demo", database_url=database_url, data_dir=tmp_path)
    assert again.returncode == 0 and "already has data" in again.stdout


async def test_create_superadmin_can_log_in_without_an_organization(tmp_path, database_url, api):
    result = _docgraph("create-superadmin", "--email", "root@example.com", "--password", "root-password-1",
                       database_url=database_url, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    data = await api.ok("""mutation { login(input: {email: "root@example.com", password: "root-password-1"})
                           { viewer { isSuperAdmin organization { id } } } }""")
    assert data["login"]["viewer"] == {"isSuperAdmin": True, "organization": None}


def test_migrate_is_idempotent(tmp_path, database_url):
    for _ in range(2):
        result = _docgraph("migrate", database_url=database_url, data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
