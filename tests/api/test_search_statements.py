"""A search page costs the same number of SQL statements for 1, 10 or 100 documents, each with
its current version, creator, folder and permissions."""

from __future__ import annotations

import hashlib
import uuid

from docgraph import globalid, models
from docgraph.auth.principal import Principal
from docgraph.permissions import FOLDER, Capability
from docgraph.services import folders as folder_service
from docgraph.services import sharing as sharing_service

from .documents_helpers import CREATE_FOLDER
from .test_access_statements import counting, messages_to_postgres

SEARCH = """query($first: Int) { search(filter: {tags: ["quarterly"]}, first: $first) {
  totalCount edges { node { name folder { name } createdBy { email }
    currentVersion { versionNumber contentHash } myPermissions { canView canUpdate } } } } }"""


async def _documents(services, org, admin, folder_id, count: int) -> None:
    sha = hashlib.sha256(b"same bytes").hexdigest()
    async with services.db.transaction() as session:
        blob = models.Blob(organization_id=org.id, sha256=sha, size=10, storage_key=f"{org.id}/blobs/{sha}")
        session.add(blob)
        await session.flush()
        for n in range(count):
            document = models.Document(id=uuid.uuid4(), organization_id=org.id, folder_id=folder_id,
                                       name=f"report {n:03}.pdf", content_type="application/pdf", file_size=10,
                                       tags=["quarterly"], created_by=admin.id)
            session.add(document)
            await session.flush()
            version = models.DocumentVersion(organization_id=org.id, document_id=document.id, version_number=1,
                                             file_size=10, content_type="application/pdf", content_hash=sha,
                                             blob_id=blob.id, created_by=admin.id)
            session.add(version)
            await session.flush()
            document.current_version_id = version.id


async def _shared_reports(factory, services, *, subfolder: str | None = None):
    """An organization whose VIEWER sees the department folder "Reports" through a share, with
    100 documents in it (or in its subfolder, when named): (org, admin, the reader's token, their folder)."""
    org = await factory.organization()
    admin, reader = await factory.user(org, "ADMIN"), await factory.user(org, "VIEWER")
    department = await factory.department(org, by=admin)
    as_admin = Principal(admin.id, org.id, "ADMIN", False)
    reports = await folder_service.create_folder(services.db, as_admin, parent_id=department.root_folder_id,
                                                 name="Reports")
    await sharing_service.share(services.db, as_admin, resource=(FOLDER, reports.id), subject_type="USER",
                                subject_id=reader.id, capabilities=[Capability.VIEW])
    home = reports
    if subfolder:
        home = await folder_service.create_folder(services.db, as_admin, parent_id=reports.id, name=subfolder)
    await _documents(services, org, admin, home.id, 100)
    return org, admin, factory.token(reader, org), home


async def test_search_pages_of_1_10_and_100_use_the_same_number_of_statements(api, factory, services):
    _, _, token, _ = await _shared_reports(factory, services)

    counts = {}
    for size in (1, 10, 100):
        with counting(services) as statements:
            data = await api.ok(SEARCH, {"first": size}, token=token)
        assert len(data["search"]["edges"]) == size and data["search"]["totalCount"] == 100
        assert data["search"]["edges"][0]["node"]["myPermissions"] == {"canView": True, "canUpdate": False}
        counts[size] = len(statements)
    print(f"statements per search page (1, 10, 100): {counts}")
    # The principal, the page (with its count, every node's permissions, current version and
    # creator), then one batch for the folders.
    assert counts[1] == counts[10] == counts[100] == 3, counts


FOLDER_PAGE = """query($id: ID!, $first: Int, $after: String) { folder(id: $id) { name ancestors { name }
  documents(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { name currentVersion { versionNumber } createdBy { email }
      myPermissions { canView canUpdate } } } } } }"""


async def test_a_folder_page_is_three_statements_whatever_its_size(api, factory, services):
    """The bench's nested page: the principal, the folder with its ancestors (checks and rows in
    one statement), and the documents: page, totalCount, every node's permissions, current
    version and creator in one statement."""
    _, admin, token, quarter = await _shared_reports(factory, services, subfolder="Q1")
    folder_id = globalid.encode("Folder", quarter.id)

    for size in (1, 10, 100):
        with counting(services) as statements:
            data = await api.ok(FOLDER_PAGE, {"id": folder_id, "first": size}, token=token)
        page = data["folder"]["documents"]
        assert page["totalCount"] == 100 and len(page["edges"]) == size
        assert page["edges"][0]["node"] == {"name": "report 000.pdf", "currentVersion": {"versionNumber": 1},
                                            "createdBy": {"email": admin.email},
                                            "myPermissions": {"canView": True, "canUpdate": False}}
        # The department's root is not shared with the reader: only Reports is a breadcrumb.
        assert data["folder"]["ancestors"] == [{"name": "Reports"}]
        assert len(statements) == 3, statements

    # Past the end, the page is empty and the count, which no row carries, is still exact.
    last = (await api.ok(FOLDER_PAGE, {"id": folder_id, "first": 100}, token=token))["folder"]["documents"]
    assert last["pageInfo"]["hasNextPage"] is False
    beyond = await api.ok(FOLDER_PAGE, {"id": folder_id, "first": 10, "after": last["pageInfo"]["endCursor"]},
                          token=token)
    assert beyond["folder"]["documents"]["edges"] == [] and beyond["folder"]["documents"]["totalCount"] == 100


async def test_a_folder_page_sends_postgresql_its_three_statements_and_a_ping_each(api, factory, services):
    """Reads run on connections resting in autocommit: no BEGIN / ROLLBACK around them, and the
    pool's liveness check at each checkout is one ";"."""
    _, _, token, quarter = await _shared_reports(factory, services, subfolder="Q1")
    variables = {"id": globalid.encode("Folder", quarter.id), "first": 50}
    async with messages_to_postgres(services) as sent:
        await api.ok(FOLDER_PAGE, variables, token=token)  # connections opened, statements prepared
        sent.clear()
        data = await api.ok(FOLDER_PAGE, variables, token=token)
    assert len(data["folder"]["documents"]["edges"]) == 50
    pings = [query for query in sent if query.strip() == ";"]
    assert len(sent) == 6 and len(pings) == 3, sent


async def test_a_use_case_still_runs_in_one_transaction(api, factory, services):
    """Connections rest in autocommit, so a use case must open its transaction itself: the
    mutation's writes sit between one BEGIN and one COMMIT."""
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    department = await factory.department(org, by=admin)
    async with messages_to_postgres(services) as sent:
        await api.ok(CREATE_FOLDER, {"input": {"parentId": globalid.encode("Folder", department.root_folder_id),
                                               "name": "Contracts"}}, token=factory.token(admin, org))
    begins = [n for n, query in enumerate(sent) if query.upper().startswith("BEGIN")]
    commits = [n for n, query in enumerate(sent) if query.upper().startswith("COMMIT")]
    assert len(begins) == 1 and len(commits) == 1, sent
    writes = [n for n, query in enumerate(sent) if query.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes and begins[0] < min(writes) and max(writes) < commits[0], sent


async def test_a_folder_outside_the_viewers_sight_is_not_found_with_or_without_its_ancestors(api, factory,
                                                                                             services):
    org, admin, token, reports = await _shared_reports(factory, services)
    department_root = globalid.encode("Folder", reports.parent_id)  # not shared with the reader
    for query in ("query($id: ID!) { folder(id: $id) { name } }",
                  "query($id: ID!) { folder(id: $id) { name ancestors { name } } }"):
        assert await api.code(query, {"id": department_root}, token=token) == "NOT_FOUND"
        data = await api.ok(query, {"id": department_root}, token=factory.token(admin, org))
        assert data["folder"]["name"]
