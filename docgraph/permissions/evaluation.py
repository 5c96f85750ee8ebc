"""DESIGN's access evaluation as ONE SQL statement for any number of resources.

`access_select(actor, resources)` takes a SELECT of candidate resources (kind, id, holder_id,
path, department_id, owner_type, owner_id, created_by, hidden) and yields, per resource, the six
decisions, the rule that decided and the deciding node / grants of step 5. Everything else in
the package builds on it: `evaluate` (a list of ids → `Access`), the per-request loader, and the
visibility filters used by listings. There is no other implementation of the rules.

How step 5 runs in SQL: a folder's `path` is its ancestors then itself, root first, so
`unnest(path)` lists the nodes to walk and path[i]'s distance from the folder is
`cardinality(path) - i`. The folders are walked once each, not once per resource: a
resource's `holder_id` is the folder itself, or a document's folder (the many documents of one
folder share one walk). The live grants for U's subjects (the user, its groups, its custom roles
and the system-role row matching its membership) are joined to those nodes; `rank()` over
(distance, "not a USER grant") keeps, per holder, the USER grant of the nearest node carrying
any grant, or else all GROUP/ROLE grants of that node; `bool_or` makes their union. A document
is its own nearest node: when it carries grants for U, the same ranking over them decides, and
its folders are not looked at. The system-role ceiling is then applied to that union only.

Steps 3 and 4a ask whose drive a resource is in: every folder carries its drive's columns
(department_id, owner_type, owner_id), which PostgreSQL keeps equal to its parent's (migration
0002), so they are read from the resource's own folder row.
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ClauseElement

from ..models import DepartmentAdmin, Document, Folder, Grant, Group, GroupMember, MemberRole, Membership, Role, User
from .model import (
    CAPABILITIES,
    CAPABILITY_COLUMNS,
    DOCUMENT,
    FOLDER,
    Access,
    Actor,
    Capability,
    ResourceKey,
    Rule,
    roles_allowing,
)

folder_t = Folder.__table__
document_t = Document.__table__
grant_t = Grant.__table__

_UUIDS = ARRAY(UUID(as_uuid=True))
_CAP_COLUMNS = CAPABILITY_COLUMNS
_GRANTED = tuple((c, f"granted_{c.column}") for c in CAPABILITIES)


def _const(value: str):
    """An inline string constant (not a bind), so the planner sees it."""
    return literal_column(f"'{value}'", String)


def _uuid(value):
    """A UUID value, or the bind parameter standing for one (see `ACTOR_PARAMETERS`)."""
    return value if isinstance(value, ClauseElement) else literal(value, UUID(as_uuid=True))


# --- candidate resources --------------------------------------------------------------------------

def _wanted(name: str, ids: list[uuid.UUID] | None):
    """FROM unnest((SELECT :ids)): explicit ids arrive as one array parameter and are joined by
    primary key (the planner then probes the index instead of scanning for `= ANY(array)`).
    The sub-select hides the array's length from the planner, so every batch gets the same
    plan and PostgreSQL keeps one generic plan for the prepared statement instead of planning
    it anew at each execution (~1-2 ms); that plan holds from one id to thousands."""
    ids_param = select(bindparam(name, ids, type_=_UUIDS)).scalar_subquery()
    return func.unnest(ids_param).table_valued("id").render_derived(name=name)


def _drive(f) -> tuple:
    """Whose drive a folder is in: a department's (ORG) or a member's My Drive (USER)."""
    return f.c.department_id, f.c.owner_type, f.c.owner_id


def folder_resources(actor: Actor, *where, ids: list[uuid.UUID] | bool = False) -> Select:
    """Folders of the actor's organization matching `where` (and among `ids` when given; True:
    among the `folder_ids` parameter supplied at execution), as evaluation candidates."""
    f = folder_t
    query = select(
        _const(FOLDER).label("kind"), f.c.id, f.c.id.label("holder_id"), f.c.path, *_drive(f), f.c.created_by,
        f.c.deleted_at.is_not(None).label("hidden"),
    ).where(f.c.organization_id == actor.organization_id, *where)
    if ids is not False:
        wanted = _wanted("folder_ids", None if ids is True else ids)
        query = query.select_from(wanted.join(f, f.c.id == wanted.c.id))
    return query


def document_resources(actor: Actor, *where, ids: list[uuid.UUID] | bool = False, carry=()) -> Select:
    """Documents of the actor's organization matching `where` (and among `ids` when given);
    their folder holds them: theirs are its path and its walk. `carry`: labelled columns read
    along (a listing's sort keys), for `access_select` to pass through."""
    d, f = document_t, folder_t
    documents = d.join(f, f.c.id == d.c.folder_id)
    if ids is not False:
        wanted = _wanted("document_ids", None if ids is True else ids)
        documents = wanted.join(d, d.c.id == wanted.c.id).join(f, f.c.id == d.c.folder_id)
    return (
        select(
            _const(DOCUMENT).label("kind"), d.c.id, f.c.id.label("holder_id"), f.c.path, *_drive(f), d.c.created_by,
            or_(d.c.deleted_at.is_not(None), f.c.deleted_at.is_not(None)).label("hidden"), *carry,
        )
        .select_from(documents)
        .where(d.c.organization_id == actor.organization_id, *where)
    )


# --- who U is in the organization -----------------------------------------------------------------

def member_system_role(actor: Actor):
    """U's system role in the organization; NULL when U is not a live member."""
    m = Membership.__table__
    return (
        select(m.c.system_role)
        .where(m.c.user_id == actor.user_id, m.c.organization_id == actor.organization_id, m.c.left_at.is_(None))
        .scalar_subquery()
    )


def subjects_of(actor: Actor, *, include_roles: bool = True) -> CompoundSelect[Any]:
    """(subject_type, subject_id) U acts as: itself, its live groups, its live custom roles and
    the organization's system-role row matching its membership."""
    gm, g = GroupMember.__table__, Group.__table__
    mr, r = MemberRole.__table__, Role.__table__
    parts = [
        select(_const("USER").label("subject_type"), _uuid(actor.user_id).label("subject_id")),
        select(_const("GROUP"), gm.c.group_id)
        .join(g, g.c.id == gm.c.group_id)
        .where(gm.c.user_id == actor.user_id, g.c.organization_id == actor.organization_id, g.c.deleted_at.is_(None)),
    ]
    if include_roles:
        parts += [
            select(_const("ROLE"), mr.c.role_id)
            .join(r, r.c.id == mr.c.role_id)
            .where(mr.c.user_id == actor.user_id, r.c.organization_id == actor.organization_id,
                   r.c.deleted_at.is_(None)),
            select(_const("ROLE"), r.c.id)
            .where(r.c.organization_id == actor.organization_id, r.c.is_system,
                   r.c.system_key == member_system_role(actor)),
        ]
    return union_all(*parts)


def live_grants_for(actor: Actor, *, include_roles: bool = True) -> Select:
    """Grants of the organization, unexpired, whose subject is one of U's subjects."""
    g = grant_t
    subjects = subjects_of(actor, include_roles=include_roles).subquery("subjects")
    # Joined from the (few) subjects, so each one probes ix_grants_subject.
    return (
        select(g)
        .select_from(subjects.join(g, and_(g.c.subject_type == subjects.c.subject_type,
                                           g.c.subject_id == subjects.c.subject_id)))
        .where(g.c.organization_id == actor.organization_id,
               or_(g.c.expires_at.is_(None), g.c.expires_at > func.now()))
    )


# --- the statement ----------------------------------------------------------------------------------

_NODE_COLUMNS = ("node_kind", "node_id", "by_user", "grant_ids")
_DECISIVE_COLUMNS = (*_NODE_COLUMNS, *_CAP_COLUMNS)


def _nearest(matches, key) -> Select:
    """Per `key`: the nearest node's deciding grants (see the module's docstring), unioned."""
    ranked = select(
        matches,
        func.rank().over(
            partition_by=matches.c[key],
            # Nearest node first; at that node a USER grant (there is at most one) before the rest.
            order_by=(matches.c.distance, matches.c.subject_type != _const("USER")),
        ).label("rank"),
    ).subquery("ranked")
    return (
        select(
            ranked.c[key],
            func.array_agg(ranked.c.node_kind, type_=ARRAY(String))[1].label("node_kind"),
            func.array_agg(ranked.c.node_id, type_=_UUIDS)[1].label("node_id"),
            func.bool_or(ranked.c.subject_type == _const("USER")).label("by_user"),
            func.array_agg(ranked.c.grant_id, type_=_UUIDS).label("grant_ids"),
            *(func.bool_or(ranked.c[c]).label(c) for c in _CAP_COLUMNS),
        )
        .where(ranked.c.rank == 1)
        .group_by(ranked.c[key])
    )


def _decisive_grants(resources, live):
    """Step 5's deciding node and grants: per holder folder (its path walked once), and per
    document carrying grants of its own. Two subqueries, keyed by holder_id and by id."""
    grant_columns = [live.c.id.label("grant_id"), live.c.subject_type, *(live.c[c] for c in _CAP_COLUMNS)]
    holders = (select(resources.c.holder_id, resources.c.path)
               .ext(distinct_on(resources.c.holder_id)).cte("holders").prefix_with("MATERIALIZED"))
    # The path's nodes as set-returning functions in the select list (a ProjectSet, zipped):
    # far cheaper per holder than `unnest() WITH ORDINALITY` in FROM, which materializes each call.
    nodes = select(
        holders.c.holder_id, func.unnest(holders.c.path).label("node_id"),
        # path[i]'s distance from the holder, n - i for i in 1..n, zipped with the nodes.
        func.generate_series(func.cardinality(holders.c.path) - 1, 0, -1).label("distance"),
    ).subquery("nodes")
    on_folders = (
        select(nodes.c.holder_id, nodes.c.distance, _const(FOLDER).label("node_kind"), nodes.c.node_id,
               *grant_columns)
        .select_from(nodes)
        .join(live, live.c.folder_id == nodes.c.node_id)
        .subquery("on_folders")
    )
    on_documents = (
        select(resources.c.id, literal_column("0", Integer).label("distance"), _const(DOCUMENT).label("node_kind"),
               resources.c.id.label("node_id"), *grant_columns)
        .select_from(resources)
        .join(live, live.c.document_id == resources.c.id)
        .where(resources.c.kind == _const(DOCUMENT))
        .subquery("on_documents")
    )
    return _nearest(on_folders, "holder_id").subquery("by_folder"), _nearest(on_documents, "id").subquery("by_document")


_STEP_COLUMNS = {
    Rule.SUPER_ADMIN: "super_admin",
    Rule.ORGANIZATION_ADMIN: "organization_admin",
    Rule.DEPARTMENT_ADMIN: "department_admin",
    Rule.MY_DRIVE_OWNER: "my_drive_owner",
    Rule.CREATOR: "creator",
    Rule.GRANT: "by_grant",
}


def _steps(actor: Actor, r, by_folder, by_document, carry: tuple[str, ...]) -> Select:
    """Per resource, which of steps 1-5 apply (each a boolean), plus step 5's details."""
    role = member_system_role(actor)
    users = User.__table__
    is_super = select(users.c.is_super_admin).where(users.c.id == actor.user_id).scalar_subquery()
    da = DepartmentAdmin.__table__
    administered = func.array(select(da.c.department_id).where(
        da.c.user_id == actor.user_id, da.c.organization_id == actor.organization_id).scalar_subquery())
    # U's facts, one row. Materialized: computed once, not re-planned into every expression.
    me = (select(func.coalesce(is_super, false()).label("super_admin"), role.label("system_role"),
                 administered.label("administered"))
          .cte().prefix_with("MATERIALIZED"))
    # A document's own grants decide before its folders'.
    own = by_document.c.id.is_not(None)
    decisive = {column: case((own, by_document.c[column]), else_=by_folder.c[column]) for column in _DECISIVE_COLUMNS}
    # Steps 2-5 are for live members only (a super admin needs no membership).
    member = me.c.system_role.is_not(None)
    applies = {
        Rule.SUPER_ADMIN: me.c.super_admin,
        Rule.ORGANIZATION_ADMIN: and_(member, me.c.system_role == _const("ADMIN")),
        Rule.DEPARTMENT_ADMIN: and_(member, r.c.department_id == any_(me.c.administered)),
        Rule.MY_DRIVE_OWNER: and_(member, r.c.owner_type == _const("USER"), r.c.owner_id == actor.user_id),
        Rule.CREATOR: and_(member, r.c.created_by == actor.user_id),
        Rule.GRANT: and_(member, or_(own, by_folder.c.holder_id.is_not(None))),
    }
    return (
        select(
            r.c.kind, r.c.id, r.c.hidden, me.c.system_role,
            *(func.coalesce(condition, false()).label(_STEP_COLUMNS[rule]) for rule, condition in applies.items()),
            *(decisive[c].label(c) for c in _NODE_COLUMNS),
            *(func.coalesce(decisive[c], false()).label(f"granted_{c}") for c in _CAP_COLUMNS),
            *(r.c[name] for name in carry),
        )
        .select_from(r)
        .join(me, true())
        .outerjoin(by_folder, by_folder.c.holder_id == r.c.holder_id)
        .outerjoin(by_document, and_(by_document.c.id == r.c.id, r.c.kind == _const(DOCUMENT)))
    )


def access_select(actor: Actor, resources: Select, carry: tuple[str, ...] = ()) -> Select:
    """One row per candidate resource: kind, id, hidden, rule, system_role, can_* (final),
    and step 5's node_kind, node_id, by_user, grant_ids, granted_can_* (before the ceiling),
    then the `carry` columns of `resources` as they were."""
    r = resources.cte()
    live = live_grants_for(actor).cte()
    by_folder, by_document = _decisive_grants(r, live)
    steps = _steps(actor, r, by_folder, by_document, carry).subquery("steps")
    flag = {rule: steps.c[column] for rule, column in _STEP_COLUMNS.items()}
    implicit = or_(*(flag[rule] for rule in flag if rule.is_implicit))

    def decision(capability: Capability):
        ceiling_allows = steps.c.system_role.in_([_const(role) for role in roles_allowing(capability)])
        by_grant = and_(flag[Rule.GRANT], steps.c[f"granted_{capability.column}"], ceiling_allows)
        return func.coalesce(or_(implicit, by_grant), false()).label(capability.column)

    rule = case(*((flag[rule], _const(rule.value)) for rule in _STEP_COLUMNS), else_=_const(Rule.NONE.value))
    return select(
        steps.c.kind, steps.c.id, steps.c.hidden, rule.label("rule"), steps.c.system_role,
        *(decision(c) for c in CAPABILITIES),
        steps.c.node_kind, steps.c.node_id, steps.c.by_user, steps.c.grant_ids,
        *(steps.c[f"granted_{c}"] for c in _CAP_COLUMNS),
        *(steps.c[name] for name in carry),
    )


# Statements built once (evaluate's, the folder listing's) take the actor as bind parameters:
# building the expression costs more than running it.
ACTOR_PARAMETERS = Actor(bindparam("actor_user_id", type_=UUID(as_uuid=True)),
                         bindparam("actor_organization_id", type_=UUID(as_uuid=True)))


def actor_values(actor: Actor) -> dict[str, uuid.UUID]:
    """Values of `ACTOR_PARAMETERS` for `actor`."""
    return {"actor_user_id": actor.user_id, "actor_organization_id": actor.organization_id}


@functools.cache
def _by_ids_statement() -> Select:
    actor = ACTOR_PARAMETERS
    return access_select(actor, union_all(folder_resources(actor, ids=True), document_resources(actor, ids=True)))


def by_ids(actor: Actor, keys: Iterable[ResourceKey]) -> tuple[Select, dict]:
    """`access_select` for explicit resources, and its parameters. The ids travel as two array
    parameters, so the statement is the same whatever the count."""
    keys = list(keys)
    return _by_ids_statement(), {
        **actor_values(actor),
        "folder_ids": [i for kind, i in keys if kind == FOLDER],
        "document_ids": [i for kind, i in keys if kind == DOCUMENT],
    }


# One C-level call reads an evaluation row's columns (batches of a thousand rows are common),
# by key from the row's mapping: a fifth of the cost of reading them as the row's attributes.
_ROW_KEYS = ("kind", "id", "hidden", "rule", "system_role", "node_kind", "node_id", "by_user", "grant_ids",
             *_CAP_COLUMNS, *(column for _, column in _GRANTED))
_ROW_VALUES = operator.itemgetter(*_ROW_KEYS)
_RULES = {rule.value: rule for rule in Rule}
_NOTHING: frozenset[Capability] = frozenset()


def to_access(row) -> Access:
    """The `Access` of one row of `access_select` (any row carrying its columns)."""
    kind, id_, hidden, rule, system_role, node_kind, node_id, by_user, grant_ids, *flags = _ROW_VALUES(row._mapping)
    decided, granted = flags[:len(_CAP_COLUMNS)], flags[len(_CAP_COLUMNS):]
    return Access(
        kind=kind, id=id_, found=True, hidden=bool(hidden),
        **{column: bool(flag) for column, flag in zip(_CAP_COLUMNS, decided, strict=False)},
        rule=_RULES[rule], system_role=system_role,
        grant_node_kind=node_kind, grant_node_id=node_id, decided_by_user_grant=bool(by_user),
        grant_ids=tuple(sorted(grant_ids)) if grant_ids else (),
        granted=(frozenset(c for (c, _), flag in zip(_GRANTED, granted, strict=True) if flag) if any(granted)
                 else _NOTHING),
    )


def _with_rows(access_query: Select, model) -> Select:
    access = access_query.subquery("access")
    shown = and_(model.id == access.c.id, access.c.can_view, access.c.hidden.is_(False))
    return select(access, model).outerjoin(model, shown)


@functools.cache
def _with_rows_statement(kind: str, lineage: bool = False) -> Select:
    if not lineage:
        return _with_rows(_by_ids_statement(), Folder if kind == FOLDER else Document)
    # The folders of `folder_ids` and every folder on their paths.
    requested, wanted = folder_t.alias("requested"), _wanted("folder_ids", None)
    on_paths = select(func.unnest(requested.c.path)).select_from(
        wanted.join(requested, requested.c.id == wanted.c.id)).scalar_subquery()
    actor = ACTOR_PARAMETERS
    return _with_rows(access_select(actor, folder_resources(actor, folder_t.c.id.in_(on_paths))), Folder)


async def evaluate_with_rows(session: AsyncSession, actor: Actor, kind: str, ids: Iterable[uuid.UUID], *,
                             lineage: bool = False) -> dict[uuid.UUID, tuple[Access, object | None]]:
    """`evaluate` for resources of one kind, each with its row when U may see it (live and
    viewable), else None: the check and the fetch in ONE statement. With `lineage` (folders
    only), every ancestor of the folders is evaluated and fetched too, and is in the answer."""
    ids = list(dict.fromkeys(ids))
    result: dict[uuid.UUID, tuple[Access, object | None]] = {i: (Access(kind=kind, id=i), None) for i in ids}
    if not ids:
        return result
    if lineage and kind != FOLDER:
        raise ValueError("only folders have a lineage")
    _, parameters = by_ids(actor, [(kind, i) for i in ids])
    model = Folder if kind == FOLDER else Document
    for row in await session.execute(_with_rows_statement(kind, lineage), parameters):
        result[row.id] = (to_access(row), row[-1] if isinstance(row[-1], model) else None)
    return result


async def evaluate(session: AsyncSession, actor: Actor, keys: Iterable[ResourceKey]) -> dict[ResourceKey, Access]:
    """Access for every key, in ONE statement. Unknown ids and other organizations' resources
    come back as `Access(found=False)` (nothing allowed)."""
    keys = list(dict.fromkeys(keys))
    for kind, _ in keys:
        if kind not in (FOLDER, DOCUMENT):
            raise ValueError(f"not a resource kind: {kind!r}")
    result: dict[ResourceKey, Access] = {}
    if keys:
        statement, parameters = by_ids(actor, keys)
        for row in await session.execute(statement, parameters):
            access = to_access(row)
            result[access.key] = access
    return {key: result.get(key) or Access(kind=key[0], id=key[1]) for key in keys}
