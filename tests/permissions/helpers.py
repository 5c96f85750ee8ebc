"""GraphQL helpers for the folder, sharing and access tests (a small vocabulary over the API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from docgraph import globalid, models
from tests.graphql import GraphQLClient

ALL = {"VIEW", "CREATE", "UPDATE", "DELETE", "SHARE", "MANAGE"}
EDITOR_MAX = ALL - {"MANAGE"}
NOTHING: set[str] = set()

PERMISSIONS = "myPermissions { canView canCreate canUpdate canDelete canShare canManage }"
_FLAGS = {"canView": "VIEW", "canCreate": "CREATE", "canUpdate": "UPDATE", "canDelete": "DELETE",
          "canShare": "SHARE", "canManage": "MANAGE"}

CREATE_FOLDER = """mutation($input: CreateFolderInput!) { createFolder(input: $input) { folder { id name } } }"""
UPDATE_FOLDER = """mutation($input: UpdateFolderInput!) { updateFolder(input: $input) { folder { id name description } } }"""
MOVE_FOLDER = """mutation($input: MoveFolderInput!) { moveFolder(input: $input) { folder { id ancestors { id } } } }"""
DELETE_FOLDER = """mutation($input: DeleteFolderInput!) { deleteFolder(input: $input) { folder { id deletedAt } } }"""
RESTORE_FOLDER = """mutation($input: RestoreInput!) { restoreFolder(input: $input) { folder { id deletedAt } } }"""
FOLDER = f"""query($id: ID!) {{ folder(id: $id) {{ id name {PERMISSIONS} }} }}"""
CHILDREN = """query($id: ID!, $first: Int, $after: String) { folder(id: $id) {
  children(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } }
} }"""
SHARE = """mutation($input: ShareInput!) { share(input: $input) { share { id permissions { canView canCreate canUpdate
  canDelete canShare canManage } expiresAt } } }"""
UPDATE_SHARE = """mutation($input: UpdateShareInput!) { updateShare(input: $input) { share { id expiresAt
  permissions { canView canCreate canUpdate canDelete canShare canManage } } } }"""
REVOKE_SHARE = """mutation($input: RevokeShareInput!) { revokeShare(input: $input) { share { id } } }"""
EXPLAIN = """query($r: ID!, $u: ID) { explainAccess(resourceId: $r, userId: $u) {
  isReviewer decisions { capability allowed reason step message grantId nodeId subjectId } } }"""


def gid(type_name: str, value: uuid.UUID) -> str:
    return globalid.encode(type_name, value)


def fid(folder: models.Folder | uuid.UUID) -> str:
    return gid("Folder", folder if isinstance(folder, uuid.UUID) else folder.id)


def uid(user: models.User) -> str:
    return gid("User", user.id)


def capabilities(flags: dict) -> set[str]:
    return {name for key, name in _FLAGS.items() if flags[key]}


@dataclass
class Person:
    """A member with a token, for readable tests."""

    user: models.User
    token: str
    name: str

    @property
    def id(self) -> str:
        return uid(self.user)


class Drive:
    """Folder and share operations through the public API."""

    def __init__(self, api: GraphQLClient) -> None:
        self.api = api

    async def create(self, who: Person, parent: str, name: str) -> str:
        data = await self.api.ok(CREATE_FOLDER, {"input": {"parentId": parent, "name": name}}, token=who.token)
        return data["createFolder"]["folder"]["id"]

    async def tree(self, who: Person, parent: str, *names: str) -> list[str]:
        """A chain parent/names[0]/names[1]/...; returns the new folder ids, outermost first."""
        ids = []
        for name in names:
            parent = await self.create(who, parent, name)
            ids.append(parent)
        return ids

    async def share(self, who: Person, resource: str, subject: str, caps, expires_at: str | None = None) -> str:
        variables = {"input": {"resourceId": resource, "subjectId": subject, "capabilities": sorted(caps),
                               "expiresAt": expires_at}}
        return (await self.api.ok(SHARE, variables, token=who.token))["share"]["share"]["id"]

    async def explain(self, who: Person, resource: str, about: Person | None = None) -> str:
        body = await self.api.raw(EXPLAIN, {"r": resource, "u": about.id if about else None}, token=who.token)
        if body.get("errors"):
            return f"(explainAccess failed: {body['errors'][0]['message']})"
        data = body["data"]["explainAccess"]
        lines = [f"isReviewer={data['isReviewer']}"]
        lines += [f"  {d['capability']}: {'allow' if d['allowed'] else 'deny'} step {d['step']} {d['reason']} "
                  f"- {d['message']}" for d in data["decisions"]]
        return "\n".join(lines)

    async def permissions(self, who: Person, folder: str) -> set[str] | None:
        """What `who` may do with the folder; None when it does not exist for them (NOT_FOUND)."""
        body = await self.api.raw(FOLDER, {"id": folder}, token=who.token)
        if body.get("errors"):
            code = body["errors"][0]["extensions"]["code"]
            assert code == "NOT_FOUND", body["errors"]
            return None
        return capabilities(body["data"]["folder"]["myPermissions"])

    async def expect(self, who: Person, folder: str, expected: set[str] | None, why: str = "") -> None:
        """Assert `who`'s permissions on `folder` (None: cannot see it), explaining on failure."""
        got = await self.permissions(who, folder)
        if got != expected:
            admin_view = await self.explain(who, folder) if got is not None else "(not visible to them)"
            raise AssertionError(f"{who.name} on {folder} ({why}): expected {expected}, got {got}\n{admin_view}")


async def person(factory, org: models.Organization, role: str, name: str, **kwargs) -> Person:
    user = await factory.user(org, role, first_name=name, **kwargs)
    return Person(user, factory.token(user, org), name)


async def my_drive(services, user: models.User, org: models.Organization) -> str:
    from sqlalchemy import select

    async with services.db.reading() as session:
        drive = (await session.execute(select(models.Folder.id).where(
            models.Folder.organization_id == org.id, models.Folder.owner_type == "USER",
            models.Folder.owner_id == user.id, models.Folder.parent_id.is_(None)))).scalar_one()
    return fid(drive)


def department_root(department: models.Department) -> str:
    return fid(department.root_folder_id)


async def audit_rows(services, org: models.Organization, action: str | None = None) -> list[models.AuditLog]:
    from sqlalchemy import select

    query = select(models.AuditLog).where(models.AuditLog.organization_id == org.id)
    if action:
        query = query.where(models.AuditLog.action == action)
    async with services.db.reading() as session:
        return list((await session.execute(query.order_by(models.AuditLog.chain_seq))).scalars())
