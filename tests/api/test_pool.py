"""The connection pool has a fixed size: a burst of requests larger than the pool waits for its
connections and opens none (an overflow connection is closed again on return, and each new one
costs a backend, its type introspection and every statement prepared and planned again)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from docgraph import globalid

from .test_search_statements import FOLDER_PAGE, _shared_reports

POOL_SIZE = 3


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"db_pool_size": POOL_SIZE})


async def test_a_burst_larger_than_the_pool_is_served_without_opening_connections(api, factory, services):
    _, _, token, quarter = await _shared_reports(factory, services, subfolder="Q1")
    variables = {"id": globalid.encode("Folder", quarter.id), "first": 20}
    await services.db.engine.dispose()  # count from an empty pool
    opened: list[int] = []

    def count(dbapi_connection, record):
        opened.append(1)

    pool = services.db.engine.sync_engine.pool
    event.listen(pool, "connect", count)
    try:
        pages = await asyncio.gather(*(api.ok(FOLDER_PAGE, variables, token=token) for _ in range(30)))
    finally:
        event.remove(pool, "connect", count)
    assert all(len(page["folder"]["documents"]["edges"]) == 20 for page in pages)
    assert len(opened) == POOL_SIZE, f"{len(opened)} connections opened for a pool of {POOL_SIZE}"
    assert pool.checkedout() == 0
