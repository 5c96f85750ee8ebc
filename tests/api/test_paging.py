"""Paging both ways on every connection of the schema: `first`/`after` forward, `last`/`before`
backward, exact pageInfo flags and totalCount at every step.

The test is driven by the schema: every field whose type is a connection must take the four
arguments and have a case below (a connection added without one fails here). One world holds
at least five items for each connection; each is walked two at a time forward and backward, and
the walks must meet the list read in one page."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLInterfaceType, GraphQLObjectType, build_schema, get_named_type

from docgraph import models
from docgraph.auth.principal import Principal
from docgraph.events.publish import notify_users
from docgraph.permissions import DOCUMENT, FOLDER, Capability
from docgraph.services import folders as folder_service
from docgraph.services import sharing as sharing_service

from .tenancy_helpers import gid

ROOT = Path(__file__).resolve().parents[2]
PAGE_ARGUMENTS = {"first": "Int", "after": "String", "last": "Int", "before": "String"}
ARGS = "first: $first, after: $after, last: $last, before: $before"
VARS = "$first: Int, $after: String, $last: Int, $before: String"
PAGE = ("totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { ... on Node { id } } }")
ITEMS = 5


def _connections() -> dict[str, dict[str, str]]:
    """Type.field → its arguments, for every field of the exported schema whose type is a connection."""
    schema = build_schema((ROOT / "schema.graphql").read_text())
    return {f"{kind.name}.{name}": {argument: str(value.type) for argument, value in field.args.items()}
            for kind in schema.type_map.values() if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType)
            for name, field in kind.fields.items() if get_named_type(field.type).name.endswith("Connection")}


@dataclass
class Case:
    """How to reach one connection: the query (with the page variables), the path of the
    connection in its data, and whose token reads it."""

    query: str
    path: tuple[str, ...]
    reader: str = "admin"
    variables: dict | None = None


def _q(body: str) -> str:
    return f"query({VARS}{', $id: ID!' if '$id' in body else ''}) {{ {body} }}"


CASES: dict[str, Case] = {
    "Organization.members": Case(_q(f"organization {{ members({ARGS}) {{ {PAGE} }} }}"), ("organization", "members")),
    "Organization.departmentsConnection": Case(_q(f"organization {{ departmentsConnection({ARGS}) {{ {PAGE} }} }}"),
                                               ("organization", "departmentsConnection")),
    "Organization.groupsConnection": Case(
        _q(f"organization {{ groupsConnection({ARGS}) {{ {PAGE} }} }}"), ("organization", "groupsConnection")),
    "Organization.rolesConnection": Case(
        _q(f"organization {{ rolesConnection({ARGS}) {{ {PAGE} }} }}"), ("organization", "rolesConnection")),
    "Group.membersConnection": Case(
        _q(f"node(id: $id) {{ ... on Group {{ membersConnection({ARGS}) {{ {PAGE} }} }} }}"),
        ("node", "membersConnection"), variables={"id": "group"}),
    "Role.membersConnection": Case(
        _q(f"node(id: $id) {{ ... on Role {{ membersConnection({ARGS}) {{ {PAGE} }} }} }}"),
        ("node", "membersConnection"), variables={"id": "role"}),
    "Department.adminsConnection": Case(
        _q(f"node(id: $id) {{ ... on Department {{ adminsConnection({ARGS}) {{ {PAGE} }} }} }}"),
        ("node", "adminsConnection"), variables={"id": "department"}),
    "Viewer.organizationsConnection": Case(
        _q(f"me {{ organizationsConnection({ARGS}) {{ {PAGE} }} }}"), ("me", "organizationsConnection")),
    "Query.drivesConnection": Case(_q(f"drivesConnection({ARGS}) {{ {PAGE} }}"), ("drivesConnection",)),
    "Folder.children": Case(_q(f"folder(id: $id) {{ children({ARGS}) {{ {PAGE} }} }}"), ("folder", "children"),
                            variables={"id": "folder"}),
    "Folder.documents": Case(_q(f"folder(id: $id) {{ documents({ARGS}) {{ {PAGE} }} }}"), ("folder", "documents"),
                             variables={"id": "folder"}),
    "Folder.sharesConnection": Case(
        _q(f"folder(id: $id) {{ sharesConnection({ARGS}) {{ {PAGE} }} }}"), ("folder", "sharesConnection"),
        variables={"id": "folder"}),
    "Document.sharesConnection": Case(
        _q(f"document(id: $id) {{ sharesConnection({ARGS}) {{ {PAGE} }} }}"), ("document", "sharesConnection"),
        variables={"id": "document"}),
    "Document.versions": Case(_q(f"document(id: $id) {{ versions({ARGS}) {{ {PAGE} }} }}"),
                              ("document", "versions"), variables={"id": "document"}),
    "Document.approvals": Case(_q(f"document(id: $id) {{ approvals({ARGS}) {{ {PAGE} }} }}"),
                               ("document", "approvals"), variables={"id": "document"}),
    "Query.sharedWithMe": Case(_q(f"sharedWithMe({ARGS}) {{ {PAGE} }}"), ("sharedWithMe",), reader="reader"),
    "Query.search": Case(_q(f'search(filter: {{tags: ["paged"]}}, {ARGS}) {{ {PAGE} }}'), ("search",)),
    "Query.trash": Case(_q(f"trash({ARGS}) {{ {PAGE} }}"), ("trash",)),
    "Query.approvals": Case(_q(f"approvals({ARGS}) {{ {PAGE} }}"), ("approvals",)),
    "Query.notifications": Case(_q(f"notifications({ARGS}) {{ {PAGE} }}"), ("notifications",), reader="reader"),
    "Query.auditLog": Case(_q(f"auditLog({ARGS}) {{ {PAGE} }}"), ("auditLog",)),
}


def test_every_connection_pages_both_ways_and_has_a_case_here():
    connections = _connections()
    assert connections, "no connection found in schema.graphql"
    wrong = {name: args for name, args in connections.items()
             if {key: args.get(key) for key in PAGE_ARGUMENTS} != PAGE_ARGUMENTS}
    assert not wrong, f"connections without first/after/last/before: {wrong}"
    assert sorted(set(connections) - set(CASES)) == [], "connections without a paging case in test_paging.py"


# --- the world ------------------------------------------------------------------------------------

async def _documents(services, org, admin, folder_id, names: list[str], *, tags=("paged",),
                     versions: int = 1) -> list[models.Document]:
    sha = hashlib.sha256(" ".join(names).encode()).hexdigest()
    made = []
    async with services.db.transaction() as session:
        blob = models.Blob(organization_id=org.id, sha256=sha, size=5, storage_key=f"{org.id}/blobs/{sha}")
        session.add(blob)
        await session.flush()
        for name in names:
            document = models.Document(organization_id=org.id, folder_id=folder_id, name=name, tags=list(tags),
                                       content_type="application/pdf", file_size=5, created_by=admin.id,
                                       version_count=versions)
            session.add(document)
            await session.flush()
            for number in range(1, versions + 1):
                version = models.DocumentVersion(organization_id=org.id, document_id=document.id,
                                                 version_number=number, file_size=5, content_type="application/pdf",
                                                 content_hash=sha, blob_id=blob.id, created_by=admin.id)
                session.add(version)
                await session.flush()
            document.current_version_id = version.id
            made.append(document)
    return made


async def _world(factory, services) -> tuple[dict[str, str], dict[str, str]]:
    """(tokens by reader, global IDs by name) of an organization with ITEMS or more of everything."""
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    reader = await factory.user(org, "EDITOR")
    others = [await factory.user(org) for _ in range(ITEMS)]
    as_admin = Principal(admin.id, org.id, "ADMIN", False)
    for _ in range(ITEMS - 1):  # the admin's own My Drive makes the last
        await factory.join(admin, await factory.organization())
    departments = [await factory.department(org, by=admin, admins=tuple(others)) for _ in range(ITEMS)]
    group = await factory.group(org, *others)
    for _ in range(ITEMS - 1):
        await factory.group(org)
    role = await factory.role(org, *others)
    for _ in range(ITEMS - 3):  # the three system roles make the rest
        await factory.role(org)

    root = departments[0].root_folder_id
    folder = await folder_service.create_folder(services.db, as_admin, parent_id=root, name="Paged")
    for n in range(ITEMS):
        await folder_service.create_folder(services.db, as_admin, parent_id=folder.id, name=f"child {n}")
    names = [f"doc {n}.pdf" for n in range(ITEMS)]
    documents = await _documents(services, org, admin, folder.id, names, versions=ITEMS)
    for subject in others[:ITEMS - 1]:  # with the creator's own grant on the folder: ITEMS shares
        await sharing_service.share(services.db, as_admin, resource=(FOLDER, folder.id), subject_type="USER",
                                    subject_id=subject.id, capabilities=[Capability.VIEW])
    for subject in others:
        await sharing_service.share(services.db, as_admin, resource=(DOCUMENT, documents[0].id), subject_type="USER",
                                    subject_id=subject.id, capabilities=[Capability.VIEW])
    for document in documents:  # what the reader finds shared with it
        await sharing_service.share(services.db, as_admin, resource=(DOCUMENT, document.id), subject_type="USER",
                                    subject_id=reader.id, capabilities=[Capability.VIEW])
    trashed = await _documents(services, org, admin, root, [f"gone {n}.pdf" for n in range(ITEMS)], tags=())
    async with services.db.transaction() as session:
        for document in trashed:
            row = await session.get(models.Document, document.id)
            row.deleted_at, row.deleted_by, row.deletion_id = models.base.utcnow(), admin.id, uuid.uuid4()
        for _ in range(ITEMS):
            session.add(models.Approval(organization_id=org.id, action="DELETE", document_id=documents[0].id,
                                        requested_by=admin.id))
        for n in range(ITEMS):
            await notify_users(session, org.id, [reader.id], "SHARED_WITH_YOU", f"note {n}", "m", None, None)

    tokens = {"admin": factory.token(admin, org), "reader": factory.token(reader, org)}
    ids = {"group": gid("Group", group), "role": gid("Role", role), "department": gid("Department", departments[0]),
           "folder": gid("Folder", folder), "document": gid("Document", documents[0])}
    return tokens, ids


# --- the walk -------------------------------------------------------------------------------------

def _at(data: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        data = data[key]
    return data


def _ids(page: dict) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def _walk(api, name: str, case: Case, token: str, ids: dict[str, str]) -> None:
    variables = {key: ids[value] for key, value in (case.variables or {}).items()}

    async def page(**arguments) -> dict:
        data = await api.ok(case.query, {**variables, **arguments}, token=token)
        return _at(data, case.path)

    everything = await page(first=100)
    whole = _ids(everything)
    total = everything["totalCount"]
    assert total == len(whole) >= ITEMS, (name, total, len(whole))
    assert everything["pageInfo"]["hasNextPage"] is False and everything["pageInfo"]["hasPreviousPage"] is False, name

    seen, after = [], None
    while True:  # forward, two at a time
        current = await page(first=2, after=after)
        seen += _ids(current)
        info = current["pageInfo"]
        assert current["totalCount"] == total, name
        assert info["hasPreviousPage"] is (after is not None), (name, seen)
        assert info["hasNextPage"] is (len(seen) < total), (name, len(seen))
        assert [edge["cursor"] for edge in current["edges"]][-1:] == [info["endCursor"]], name
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == whole, f"{name}: forward pages differ from the whole list"

    seen, before = [], None
    while True:  # backward, two at a time
        current = await page(last=2, before=before)
        seen = _ids(current) + seen
        info = current["pageInfo"]
        assert info["hasNextPage"] is (before is not None), (name, seen)
        assert info["hasPreviousPage"] is (len(seen) < total), (name, len(seen))
        assert [edge["cursor"] for edge in current["edges"]][:1] == [info["startCursor"]], name
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert seen == whole, f"{name}: backward pages differ from the whole list"

    # Between two cursors, either way; a step back from a middle page is the page before it.
    edges = everything["edges"]
    inner = await page(first=100, after=edges[0]["cursor"], before=edges[-1]["cursor"])
    assert _ids(inner) == whole[1:-1], name
    assert inner["pageInfo"]["hasPreviousPage"] is True and inner["pageInfo"]["hasNextPage"] is True, name
    back = await page(last=2, before=edges[3]["cursor"])
    assert _ids(back) == whole[1:3] and back["pageInfo"]["hasPreviousPage"] is True, name
    assert (await page(first=0))["edges"] == [] and (await page(last=0))["edges"] == [], name


async def test_every_connection_pages_forward_and_backward_with_exact_page_info(api, factory, services):
    tokens, ids = await _world(factory, services)
    for name, case in sorted(CASES.items()):
        await _walk(api, name, case, tokens[case.reader], ids)


async def test_page_arguments_that_do_not_fit_are_bad_user_input(api, factory, services):
    tokens, _ = await _world(factory, services)
    members = CASES["Organization.members"]
    groups = CASES["Organization.groupsConnection"]
    token = tokens["admin"]
    cursor = (await api.ok(groups.query, {"first": 1}, token=token))["organization"]["groupsConnection"]["pageInfo"]
    for arguments in ({"first": 2, "last": 2}, {"last": 101}, {"last": -1}, {"before": "garbage"},
                      {"after": cursor["endCursor"]}, {"before": cursor["endCursor"]}):
        assert await api.code(members.query, arguments, token=token) == "BAD_USER_INPUT", arguments
