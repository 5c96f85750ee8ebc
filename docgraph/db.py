"""Engine, session factory and the embedded PostgreSQL (pgserver) used when no URL is set.

TLS to PostgreSQL is asked for the libpq way, in the URL: `sslmode` (disable, allow, prefer,
require, verify-ca, verify-full), `sslrootcert` (the CA file, or `system` for the system's
trust store), `sslcert`/`sslkey`/`sslpassword` (a client certificate). SQLAlchemy hands URL
parameters to asyncpg as keyword arguments, which asyncpg does not take under those names, so
`connect_options` turns them into the one `ssl` argument asyncpg takes, with libpq's meaning;
the engine, the LISTEN connection (events/broker.py) and Alembic (migrations/env.py) all
connect through it.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "docgraph"


def async_url(url: str) -> str:
    """Any PostgreSQL URL, rewritten for the asyncpg driver."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


TLS_PARAMETERS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword")
_UNVERIFIED_MODES = {"allow", "prefer"}


def connect_options(url: str) -> tuple[str, dict[str, Any]]:
    """(the URL without libpq's TLS parameters, the keyword arguments asyncpg.connect needs
    for them). With no `sslmode`, asyncpg's default applies (like libpq's: prefer)."""
    parsed = make_url(url)
    given = {name: parsed.query[name] for name in TLS_PARAMETERS if name in parsed.query}
    clean = parsed.difference_update_query(TLS_PARAMETERS).render_as_string(hide_password=False)
    mode = given.get("sslmode")
    if mode is None:
        if given:
            raise ValueError(f"{', '.join(given)} given without sslmode")
        return clean, {}
    if mode == "disable":
        return clean, {"ssl": False}
    if mode in _UNVERIFIED_MODES:
        return clean, {"ssl": mode}
    if mode not in ("require", "verify-ca", "verify-full"):
        raise ValueError(f"unknown sslmode {mode!r}")
    return clean, {"ssl": _tls_context(mode, given)}


def _tls_context(mode: str, given: dict[str, Any]) -> ssl.SSLContext:
    root = given.get("sslrootcert")
    if root is None and mode != "require":
        default = Path.home() / ".postgresql" / "root.crt"  # libpq's default
        if not default.exists():
            raise ValueError(f"sslmode={mode} needs sslrootcert (the CA that signed the server's certificate)")
        root = str(default)
    if root is None:  # require with no CA: encrypted, server not verified (libpq's meaning)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:  # a CA makes require verify the chain, like libpq's verify-ca
        context = ssl.create_default_context(cafile=None if root == "system" else root)
        context.check_hostname = mode == "verify-full"
    if "sslcert" in given:
        context.load_cert_chain(given["sslcert"], given.get("sslkey"), given.get("sslpassword"))
    return context


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An asyncpg engine honouring the URL's libpq TLS parameters."""
    clean, connect_args = connect_options(url)
    return create_async_engine(clean, connect_args=connect_args, **kwargs)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join, when another docgraph process already runs it) the private PostgreSQL.

    Returns a URL for the `docgraph` database on it, creating that database on first use.
    """
    import pgserver  # imported late: only the embedded default needs it

    pgdata = (data_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    # "stop": the server stops when the last docgraph process using it exits.
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")  # noqa: S608 - a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return make_url(server.get_uri()).set(database=EMBEDDED_DATABASE).render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return async_url(settings.database_url)
    return async_url(start_embedded_postgres(settings.data_dir))


M = TypeVar("M")


class Database:
    """One engine per process. Use cases open one transaction each; loaders short reads."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        # A fixed number of connections, no overflow: past the pool's size a unit of work waits
        # for a connection instead of opening one that is closed again on return. Under load
        # that churn (a new backend, its type introspection, every statement prepared and
        # planned again) cost a fifth of the throughput at 64 concurrent requests. No unit of
        # work holds a connection while it waits for another (the suite passes on a pool of one).
        # Pooled connections rest in autocommit: the liveness ping at each checkout is then one
        # round trip (";") instead of BEGIN, ";", ROLLBACK, and reads (loader batches,
        # listings) need no BEGIN/ROLLBACK around their statement. Use cases ask for their
        # READ COMMITTED transaction explicitly.
        self.engine: AsyncEngine = create_engine(
            url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True, isolation_level="AUTOCOMMIT",
            echo=echo,
        )
        self.sessions = async_sessionmaker(self.engine.execution_options(isolation_level="READ COMMITTED"),
                                           expire_on_commit=False, autoflush=False)
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The one transaction of a use case: commits on success, rolls back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A short read-only unit of work (a loader batch, a listing); each statement sees the
        latest committed data."""
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction with one consistent view, for long streamed reads (audit
        verification and export) that must not see rows committed while they run."""
        async with self.sessions() as session, session.begin():
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            yield session

    async def rows_by_ids(self, model: type[M], ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, M]:
        """Rows of `model` by primary key, in one read (missing ids are absent)."""
        async with self.reading() as session:
            rows = (await session.execute(select(model).where(model.id.in_(list(ids))))).scalars()  # type: ignore[attr-defined]
            return {row.id: row for row in rows}  # type: ignore[attr-defined]

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
