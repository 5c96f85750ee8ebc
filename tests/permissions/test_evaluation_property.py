"""Property: the SQL evaluation equals a straightforward Python reading of DESIGN's algorithm.

Hypothesis draws small worlds (users with system roles, a super admin, groups, custom roles,
department admins, department drives and My Drives with random subtrees, documents, deleted
items, grants incl. restrictions and expired ones), inserts them directly, and compares, for
every user and every resource, the six decisions, the rule and `is_reviewer` of
`permissions.evaluate` with `reference()` below, and the visibility filters with "live and
VIEW". One database serves the whole run; each example gets its own organization.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from docgraph import models, permissions
from docgraph.models.base import utcnow
from docgraph.permissions import CAPABILITIES, DOCUMENT, FOLDER, Actor, Rule

ROLES = ("ADMIN", "EDITOR", "VIEWER")
CEILING = {"VIEWER": {"VIEW"}, "EDITOR": {"VIEW", "CREATE", "UPDATE", "DELETE", "SHARE"},
           "ADMIN": {c.value for c in CAPABILITIES}}
EVERYTHING = frozenset(c.value for c in CAPABILITIES)


# --- the world, as indices (drawn by hypothesis) -----------------------------------------------------

@dataclass
class World:
    roles: list[str]                    # system role per user (index = user)
    super_admin: int | None             # a user who is also super admin
    outsider: bool                      # one more user who is no member at all
    groups: list[set[int]]              # members per group
    custom_roles: list[set[int]]        # holders per custom role
    departments: list[set[int]]         # admins per department
    folders: list[tuple[int, int]]      # (parent index in `all folders`, creator) for non-roots
    deleted: set[int]                   # indices of non-root folders deleted (with their subtree)
    documents: list[tuple[int, int, bool]]  # (folder index, creator, deleted)
    grants: list[tuple]                 # (kind, resource index, subject, caps, expiry)


@st.composite
def worlds(draw) -> World:
    n_users = draw(st.integers(1, 5))
    users = st.integers(0, n_users - 1)
    # Mostly EDITORs and VIEWERs, so that step 5 decides often.
    roles = draw(st.lists(st.sampled_from(("ADMIN", "EDITOR", "EDITOR", "VIEWER", "VIEWER")),
                          min_size=n_users, max_size=n_users))
    groups = draw(st.lists(st.sets(users), max_size=3))
    custom_roles = draw(st.lists(st.sets(users), max_size=2))
    departments = draw(st.lists(st.sets(users, max_size=1), min_size=1, max_size=2))
    n_roots = len(departments) + n_users  # department drives, then one My Drive per user
    folders = []
    # Deep chains are more interesting than wide trees: often the parent is the previous folder.
    # Mostly user 0 builds the tree, so the others rarely hold the creator's implicit access.
    builders = st.sampled_from((0, 0, 0)) | users
    for i in range(draw(st.integers(1, 12))):
        last = n_roots + i - 1
        folders.append((draw(st.just(last) | st.integers(0, last)), draw(builders)))
    n_folders = n_roots + len(folders)
    deleted = draw(st.sets(st.integers(n_roots, n_folders - 1), max_size=2)) if folders else set()
    documents = draw(st.lists(st.tuples(st.integers(0, n_folders - 1), users, st.booleans()), max_size=4))
    subjects = st.one_of(
        st.tuples(st.just("USER"), users),
        st.tuples(st.just("USER"), st.integers(min(1, n_users - 1), n_users - 1)),
        st.tuples(st.just("GROUP"), st.integers(0, len(groups) - 1)) if groups else st.nothing(),
        st.tuples(st.just("ROLE"), st.integers(0, len(custom_roles) - 1)) if custom_roles else st.nothing(),
        st.tuples(st.just("SYSTEM_ROLE"), st.sampled_from(ROLES)),
    )
    caps = st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(sorted(EVERYTHING))))
    resources = st.tuples(st.just(FOLDER), st.integers(0, n_folders - 1))
    if documents:
        resources = st.one_of(resources, st.tuples(st.just(DOCUMENT), st.integers(0, len(documents) - 1)))
    grants = draw(st.lists(st.tuples(resources, subjects, caps, st.sampled_from((None, "past", "future"))),
                           min_size=2, max_size=20, unique_by=lambda g: (g[0], g[1])))
    return World(
        roles=roles, super_admin=draw(users) if draw(st.integers(0, 5)) == 0 else None, outsider=draw(st.booleans()), groups=groups,
        custom_roles=custom_roles, departments=departments, folders=folders, deleted=deleted,
        documents=documents, grants=[(kind, index, subject, c, expiry) for (kind, index), subject, c, expiry in grants],
    )


# --- the world, in the database ------------------------------------------------------------------

@dataclass
class Built:
    org: uuid.UUID
    users: list[uuid.UUID]
    system_roles: dict[str, uuid.UUID]
    groups: list[uuid.UUID]
    custom_roles: list[uuid.UUID]
    departments: list[uuid.UUID]
    folders: list[dict] = field(default_factory=list)     # rows as dicts, index = folder index
    documents: list[dict] = field(default_factory=list)
    grants: list[dict] = field(default_factory=list)


async def build(db, world: World) -> Built:
    org = uuid.uuid4()
    n_users = len(world.roles) + (1 if world.outsider else 0)
    b = Built(org=org, users=[uuid.uuid4() for _ in range(n_users)],
              system_roles={r: uuid.uuid4() for r in ROLES}, groups=[uuid.uuid4() for _ in world.groups],
              custom_roles=[uuid.uuid4() for _ in world.custom_roles],
              departments=[uuid.uuid4() for _ in world.departments])
    now = utcnow()

    def folder(parent: dict | None, **values) -> dict:
        folder_id = uuid.uuid4()
        row = {"id": folder_id, "organization_id": org, "parent_id": parent["id"] if parent else None,
               "name": f"f{len(b.folders)}", "path": [*(parent["path"] if parent else []), folder_id], **values}
        b.folders.append(row)
        return row

    for _d, department_id in enumerate(b.departments):
        folder(None, owner_type="ORG", owner_id=org, department_id=department_id, created_by=b.users[0])
    for u in range(len(world.roles)):
        folder(None, owner_type="USER", owner_id=b.users[u], department_id=None, created_by=b.users[u])
    for parent_index, creator in world.folders:
        parent = b.folders[parent_index]
        folder(parent, owner_type=parent["owner_type"], owner_id=parent["owner_id"],
               department_id=parent["department_id"], created_by=b.users[creator])
    deletion = {"deleted_at": now, "deletion_id": uuid.uuid4()}
    for row in b.folders:
        hidden = any(b.folders[i]["id"] in row["path"] for i in world.deleted)
        row.update(deletion if hidden else {"deleted_at": None, "deletion_id": None})
    for folder_index, creator, deleted in world.documents:
        b.documents.append({
            "id": uuid.uuid4(), "organization_id": org, "folder_id": b.folders[folder_index]["id"],
            "name": f"d{len(b.documents)}", "content_type": "application/pdf", "file_size": 1,
            "created_by": b.users[creator], "deleted_at": now if deleted else None,
        })
    for (kind, index, (subject_type, subject), caps, expiry) in world.grants:
        subject_id = {"USER": b.users, "GROUP": b.groups, "ROLE": b.custom_roles,
                      "SYSTEM_ROLE": b.system_roles}[subject_type][subject]
        b.grants.append({
            "id": uuid.uuid4(), "organization_id": org,
            "folder_id": b.folders[index]["id"] if kind == FOLDER else None,
            "document_id": b.documents[index]["id"] if kind == DOCUMENT else None,
            "subject_type": "ROLE" if subject_type == "SYSTEM_ROLE" else subject_type, "subject_id": subject_id,
            **{c.column: c.value in caps for c in CAPABILITIES},
            "expires_at": {None: None, "past": now - timedelta(hours=1), "future": now + timedelta(hours=1)}[expiry],
        })

    async with db.transaction() as s:
        await s.execute(insert(models.Organization).values(id=org, name=f"P {org}"))
        await s.execute(insert(models.User).values([
            {"id": u, "email": f"{u}@example.com", "password_hash": "x", "first_name": "P", "last_name": "Q",
             "is_super_admin": i == world.super_admin} for i, u in enumerate(b.users)]))
        await s.execute(insert(models.Membership).values([
            {"user_id": b.users[i], "organization_id": org, "system_role": role} for i, role in enumerate(world.roles)]))
        await s.execute(insert(models.Role).values(
            [{"id": rid, "organization_id": org, "name": key, "is_system": True, "system_key": key}
             for key, rid in b.system_roles.items()]
            + [{"id": rid, "organization_id": org, "name": f"custom {i}", "is_system": False, "system_key": None}
               for i, rid in enumerate(b.custom_roles)]))
        rows = [{"role_id": b.custom_roles[r], "user_id": b.users[u], "organization_id": org}
                for r, holders in enumerate(world.custom_roles) for u in holders]
        if rows:
            await s.execute(insert(models.MemberRole).values(rows))
        if b.groups:
            await s.execute(insert(models.Group).values(
                [{"id": gid, "organization_id": org, "name": f"g{i}"} for i, gid in enumerate(b.groups)]))
        rows = [{"group_id": b.groups[g], "user_id": b.users[u], "organization_id": org}
                for g, members in enumerate(world.groups) for u in members]
        if rows:
            await s.execute(insert(models.GroupMember).values(rows))
        await s.execute(insert(models.Department).values(
            [{"id": did, "organization_id": org, "name": f"dept {i}"} for i, did in enumerate(b.departments)]))
        await s.execute(insert(models.Folder).values(b.folders))
        rows = [{"department_id": b.departments[d], "user_id": b.users[u], "organization_id": org}
                for d, admins in enumerate(world.departments) for u in admins]
        if rows:
            await s.execute(insert(models.DepartmentAdmin).values(rows))
        if b.documents:
            await s.execute(insert(models.Document).values(b.documents))
        if b.grants:
            await s.execute(insert(models.Grant).values(b.grants))
    return b


# --- DESIGN's algorithm, read literally ------------------------------------------------------------

def reference(world: World, b: Built, user: int, kind: str, index: int) -> tuple[frozenset[str], Rule]:
    user_id = b.users[user]
    if world.super_admin == user:
        return EVERYTHING, Rule.SUPER_ADMIN
    if user >= len(world.roles):  # not a member
        return frozenset(), Rule.NONE
    role = world.roles[user]
    if role == "ADMIN":
        return EVERYTHING, Rule.ORGANIZATION_ADMIN
    resource = b.folders[index] if kind == FOLDER else b.documents[index]
    folder = resource if kind == FOLDER else next(f for f in b.folders if f["id"] == resource["folder_id"])
    root = next(f for f in b.folders if f["id"] == folder["path"][0])
    administered = {b.departments[d] for d, admins in enumerate(world.departments) if user in admins}
    if root["department_id"] in administered:
        return EVERYTHING, Rule.DEPARTMENT_ADMIN
    if root["owner_type"] == "USER" and root["owner_id"] == user_id:
        return EVERYTHING, Rule.MY_DRIVE_OWNER
    if resource["created_by"] == user_id:
        return EVERYTHING, Rule.CREATOR
    subjects = {("USER", user_id), ("ROLE", b.system_roles[role])}
    subjects |= {("GROUP", b.groups[g]) for g, members in enumerate(world.groups) if user in members}
    subjects |= {("ROLE", b.custom_roles[r]) for r, holders in enumerate(world.custom_roles) if user in holders}
    walk = [("document_id", resource["id"])] if kind == DOCUMENT else []
    walk += [("folder_id", node) for node in reversed(folder["path"])]
    now = utcnow()
    carrying = [node for column, node in walk if any(
        g[column] == node and (g["subject_type"], g["subject_id"]) in subjects for g in b.grants)]
    if len(carrying) >= 2:
        event("several nodes carry grants for the user")
    for column, node in walk:
        here = [g for g in b.grants if g[column] == node and (g["subject_type"], g["subject_id"]) in subjects
                and (g["expires_at"] is None or g["expires_at"] > now)]
        if here:
            deciding = [g for g in here if g["subject_type"] == "USER"] or here
            granted = {c.value for c in CAPABILITIES if any(g[c.column] for g in deciding)}
            return frozenset(granted & CEILING[role]), Rule.GRANT
    return frozenset(), Rule.NONE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(world=worlds())
async def test_sql_evaluation_matches_the_reference(services, world):
    db = services.db
    b = await build(db, world)
    keys = [(FOLDER, f["id"]) for f in b.folders] + [(DOCUMENT, d["id"]) for d in b.documents]
    index_of = {key: i for i, key in enumerate(keys)}
    n_folders = len(b.folders)
    for user in range(len(b.users)):
        actor = Actor(b.users[user], b.org)
        async with db.reading() as session:
            found = await permissions.evaluate(session, actor, keys)
            visible_folders = set((await session.execute(permissions.visible_folder_ids(actor))).scalars())
            visible_documents = set((await session.execute(permissions.visible_document_ids(actor))).scalars())
        expected_visible = set()
        for key, access in found.items():
            i = index_of[key]
            kind, index = (FOLDER, i) if i < n_folders else (DOCUMENT, i - n_folders)
            want_caps, want_rule = reference(world, b, user, kind, index)
            got_caps = frozenset(c.value for c in access.capabilities)
            event(f"rule {access.rule.value}")
            assert (got_caps, access.rule) == (want_caps, want_rule), (
                f"user {user} ({world.roles[user] if user < len(world.roles) else 'outsider'}) on {kind} {index}: "
                f"SQL {sorted(got_caps)} by {access.rule}, reference {sorted(want_caps)} by {want_rule}\n{world}")
            assert access.is_reviewer == (want_rule in (Rule.SUPER_ADMIN, Rule.ORGANIZATION_ADMIN,
                                                        Rule.DEPARTMENT_ADMIN, Rule.MY_DRIVE_OWNER))
            row = b.folders[index] if kind == FOLDER else b.documents[index]
            hidden = row["deleted_at"] is not None or (
                kind == DOCUMENT and next(f for f in b.folders if f["id"] == row["folder_id"])["deleted_at"] is not None)
            assert access.hidden == hidden
            if "VIEW" in want_caps and not hidden:
                expected_visible.add(key)
        event(f"{len(keys)} resources, {len(b.grants)} grants")
        assert {(FOLDER, i) for i in visible_folders} | {(DOCUMENT, i) for i in visible_documents} == expected_visible


async def test_unknown_and_foreign_resources_allow_nothing(services, factory):
    org, other = await factory.organization(), await factory.organization()
    admin = await factory.user(org, "ADMIN")
    foreign_drive = await factory.join(await factory.user(), other, "ADMIN")
    async with services.db.reading() as session:
        found = await permissions.evaluate(session, Actor(admin.id, org.id),
                                           [(FOLDER, foreign_drive.id), (DOCUMENT, uuid.uuid4())])
    for access in found.values():
        assert not access.found and not access.capabilities and access.rule is Rule.NONE
