"""Alembic environment: runs migrations over the async engine docgraph itself uses."""

from __future__ import annotations

import asyncio

from alembic import context

from docgraph.config import get_settings
from docgraph.db import create_engine, resolve_database_url
from docgraph.models import metadata

config = context.config


def _url() -> str:
    return config.attributes.get("url") or resolve_database_url(get_settings())


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())  # with the URL's sslmode & co.
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())
