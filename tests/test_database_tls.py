"""TLS to PostgreSQL: a server started here with `ssl=on`, a certificate the test makes, and a
pg_hba.conf that refuses every connection without TLS. docgraph's engine, its LISTEN connection
and Alembic connect in `verify-full` mode; a wrong CA, or a certificate for another host, is
refused.

pgserver's PostgreSQL is built without OpenSSL, so the server comes from a PostgreSQL
installation that has it (`pg_config --bindir`, or DOCGRAPH_TEST_PG_BINDIR).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import pytest
import trustme
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from docgraph.db import Database, connect_options
from docgraph.events.broker import Broker
from docgraph.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


def _bindir() -> Path:
    """A PostgreSQL server built with OpenSSL."""
    candidates = [os.environ.get("DOCGRAPH_TEST_PG_BINDIR")]
    if shutil.which("pg_config"):
        candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip())
    candidates += sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    for candidate in filter(None, candidates):
        config = Path(candidate) / "pg_config"
        if (Path(candidate) / "postgres").exists() and config.exists() and \
                "openssl" in subprocess.run([str(config), "--configure"], capture_output=True, text=True).stdout:
            return Path(candidate)
    raise AssertionError("these tests need a PostgreSQL server built with OpenSSL (Debian: apt-get install "
                         "postgresql); point DOCGRAPH_TEST_PG_BINDIR at its bin directory")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(owner: pwd.struct_passwd | None):
    """PostgreSQL refuses to run as root: run it as the directory's owner."""
    if owner is None:
        return None

    def demote() -> None:
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)

    return demote


class TlsPostgres:
    def __init__(self, root: Path, ca: trustme.CA, port: int) -> None:
        self.root, self.ca, self.port = root, ca, port
        self.ca_file = root / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))

    def url(self, database: str = "postgres", host: str = "localhost", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql+asyncpg://postgres@{host}:{self.port}/{database}" + (f"?{query}" if query else "")

    def verified_url(self, database: str = "postgres", **params: str) -> str:
        return self.url(database, sslmode="verify-full", sslrootcert=str(self.ca_file), **params)


@pytest.fixture(scope="module")
def tls_postgres():
    bindir = _bindir()
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="dgtls-"))
    data = root / "data"
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost")  # not 127.0.0.1: verify-full by address must fail
    server_cert.cert_chain_pems[0].write_to_path(str(root / "server.crt"))
    server_cert.private_key_pem.write_to_path(str(root / "server.key"))
    os.chmod(root / "server.key", 0o600)
    if owner:
        for path in (root, root / "server.crt", root / "server.key"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True, preexec_fn=_as_owner(owner))
    port = _free_port()
    (data / "pg_hba.conf").write_text("local all all trust\n"
                                      "hostssl all all 127.0.0.1/32 trust\n"
                                      "hostnossl all all 127.0.0.1/32 reject\n")
    server = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
         "-c", f"unix_socket_directories={root}", "-c", "ssl=on", "-c", f"ssl_cert_file={root / 'server.crt'}",
         "-c", f"ssl_key_file={root / 'server.key'}", "-c", "fsync=off"],
        preexec_fn=_as_owner(owner), stdout=subprocess.DEVNULL, stderr=(root / "server.log").open("wb"))
    try:
        cluster = TlsPostgres(root, ca, port)
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (root / "server.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the TLS PostgreSQL did not start"
                time.sleep(0.1)
        yield cluster
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(root, ignore_errors=True)


async def _uses_tls(db: Database) -> bool:
    async with db.reading() as session:
        return (await session.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))).scalar()


async def test_the_engine_connects_in_verify_full_mode(tls_postgres):
    db = Database(tls_postgres.verified_url(), pool_size=1)
    try:
        assert await _uses_tls(db) is True
    finally:
        await db.dispose()


@pytest.mark.parametrize("case", ["another CA", "a certificate for another host", "no TLS"])
async def test_a_server_that_cannot_be_verified_is_refused(tls_postgres, tmp_path, case):
    if case == "another CA":
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        url, refusal = tls_postgres.url(sslmode="verify-full", sslrootcert=str(other)), ssl.SSLCertVerificationError
    elif case == "a certificate for another host":  # the certificate names localhost, not 127.0.0.1
        url = tls_postgres.url(host="127.0.0.1", sslmode="verify-full", sslrootcert=str(tls_postgres.ca_file))
        refusal = ssl.SSLCertVerificationError
    else:  # the server's pg_hba.conf refuses connections without TLS
        url, refusal = tls_postgres.url(sslmode="disable"), DBAPIError
    db = Database(url, pool_size=1)
    try:
        with pytest.raises(refusal):
            await db.ping()
    finally:
        await db.dispose()


async def test_verify_ca_checks_the_chain_but_not_the_name(tls_postgres):
    db = Database(tls_postgres.url(host="127.0.0.1", sslmode="verify-ca", sslrootcert=str(tls_postgres.ca_file)),
                  pool_size=1)
    try:
        assert await _uses_tls(db) is True
    finally:
        await db.dispose()


async def test_alembic_the_listener_and_the_migrate_command_use_tls(tls_postgres):
    admin = await asyncpg.connect(connect_options(tls_postgres.verified_url())[0].replace("+asyncpg", ""),
                                  **connect_options(tls_postgres.verified_url())[1])
    try:
        await admin.execute('DROP DATABASE IF EXISTS "tls_app"')
        await admin.execute('CREATE DATABASE "tls_app"')
    finally:
        await admin.close()
    url = tls_postgres.verified_url("tls_app")
    await asyncio.to_thread(upgrade, url)
    result = subprocess.run([sys.executable, "-m", "docgraph.cli", "migrate"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "DOCGRAPH_DATABASE_URL": url})
    assert result.returncode == 0 and "up to date" in result.stdout, result.stderr

    broker = Broker(url, ping_seconds=1)
    await broker.start(wait=10)
    try:
        assert broker.listening.is_set()
        heard = asyncio.Event()
        broker.on_channel("docgraph_jobs", lambda payload: heard.set())
        db = Database(url, pool_size=1)
        try:
            async with db.transaction() as session:
                await session.execute(text("SELECT pg_notify('docgraph_jobs', 'x')"))
            await asyncio.wait_for(heard.wait(), 10)
            async with db.reading() as session:
                assert (await session.execute(text("SELECT count(*) FROM document"))).scalar() == 0
        finally:
            await db.dispose()
    finally:
        await broker.stop()


def test_tls_parameters_become_asyncpg_arguments(tmp_path):
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    clean, args = connect_options(f"postgresql://u@h/db?sslmode=verify-full&sslrootcert={tmp_path / 'ca.pem'}"
                                  "&application_name=docgraph")
    assert clean == "postgresql://u@h/db?application_name=docgraph"
    assert args["ssl"].check_hostname and args["ssl"].verify_mode == ssl.CERT_REQUIRED
    assert connect_options("postgresql://u@h/db") == ("postgresql://u@h/db", {})
    assert connect_options("postgresql://u@h/db?sslmode=prefer")[1] == {"ssl": "prefer"}
    require = connect_options("postgresql://u@h/db?sslmode=require")[1]["ssl"]
    assert require.verify_mode == ssl.CERT_NONE  # libpq's require: encrypted, not verified
    for bad in ("sslmode=sometimes", f"sslrootcert={tmp_path / 'ca.pem'}"):
        with pytest.raises(ValueError):
            connect_options(f"postgresql://u@h/db?{bad}")
