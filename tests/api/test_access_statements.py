"""Access checks are batched: listing 1, 10 or 100 folders with their permissions and
ancestors costs the same number of SQL statements."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from docgraph import globalid
from docgraph.services import folders as folder_service
from tests.permissions.helpers import Drive, department_root, person

LISTING = """query($id: ID!) { folder(id: $id) { id myPermissions { canView canUpdate }
  children(first: 100) { totalCount edges { node { id name
    myPermissions { canView canCreate canUpdate canDelete canShare canManage }
    ancestors { id name myPermissions { canView } }
    parent { id }
  } } }
} }"""


@contextlib.contextmanager
def counting(services):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextlib.asynccontextmanager
async def messages_to_postgres(services):
    """Every query the app's connections send while inside, in order: the statements (once
    run, as SQLAlchemy sees them) and what asyncpg sends around them (the pool's liveness pings
    ";", BEGIN / COMMIT / ROLLBACK). The pool starts empty, so each connection is logged from
    its first use."""
    sent: list[str] = []

    def log(record):
        sent.append(record.query)

    def on_connect(dbapi_connection, record):
        dbapi_connection.driver_connection.add_query_logger(log)

    def statement(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    await services.db.engine.dispose()
    engine = services.db.engine.sync_engine
    event.listen(engine.pool, "connect", on_connect)
    event.listen(engine, "after_cursor_execute", statement)
    try:
        yield sent
    finally:
        event.remove(engine.pool, "connect", on_connect)
        event.remove(engine, "after_cursor_execute", statement)
        await services.db.engine.dispose()


async def test_listing_1_10_and_100_folders_uses_the_same_number_of_statements(api, factory, services):
    org = await factory.organization()
    ada = await person(factory, org, "ADMIN", "Ada (admin)")
    ed = await person(factory, org, "EDITOR", "Ed (editor)")
    finance = await factory.department(org, "Finance", by=ada.user)
    drive = Drive(api)
    counts = {}
    for size in (1, 10, 100):
        # Ed sees the listing through a grant two levels up, so every check walks to a grant.
        top, parent = await drive.tree(ada, department_root(finance), f"Top {size}", "Parent")
        await drive.share(ada, top, ed.id, {"VIEW", "CREATE"})
        ada_principal = _principal(ada, org)
        for i in range(size):
            await folder_service.create_folder(services.db, ada_principal, parent_id=globalid.decode(parent)[1],
                                               name=f"child {i:03}")
        with counting(services) as statements:
            data = await api.ok(LISTING, {"id": parent}, token=ed.token)
        children = data["folder"]["children"]
        assert children["totalCount"] == size and len(children["edges"]) == size
        assert all(e["node"]["myPermissions"]["canCreate"] for e in children["edges"])
        assert [a["name"] for a in children["edges"][0]["node"]["ancestors"]] == [f"Top {size}", "Parent"]
        counts[size] = len(statements)
    print(f"statements per listing: {counts}")
    assert counts[1] == counts[10] == counts[100], counts


def _principal(who, org):
    from docgraph.auth.principal import Principal

    return Principal(user_id=who.user.id, organization_id=org.id, system_role="ADMIN", is_super_admin=False)


async def test_one_evaluation_statement_for_many_resources_at_depth(services, factory):
    """The evaluation itself: 200 resources at depth 12, one statement."""
    from docgraph import permissions

    org = await factory.organization()
    ada = await factory.user(org, "ADMIN")
    ed = await factory.user(org, "EDITOR")
    department = await factory.department(org, by=ada)
    principal = _principal(type("P", (), {"user": ada}), org)
    parent = department.root_folder_id
    for depth in range(12):
        parent = (await folder_service.create_folder(services.db, principal, parent_id=parent, name=f"d{depth}")).id
    leaves = [(await folder_service.create_folder(services.db, principal, parent_id=parent, name=f"leaf {i}")).id
              for i in range(200)]
    with counting(services) as statements:
        async with services.db.reading() as session:
            found = await permissions.evaluate(session, permissions.Actor(ed.id, org.id),
                                               [(permissions.FOLDER, i) for i in leaves])
    assert len(statements) == 1 and len(found) == 200 and not any(a.can_view for a in found.values())
