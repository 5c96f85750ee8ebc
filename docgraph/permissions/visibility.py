"""SQL visibility filters for listings: "the live folders / documents U may VIEW".

Each returns a SELECT built on the one evaluation (`access_select`), so a listing can join it,
page it with a keyset and count it exactly, all inside PostgreSQL. `visible_documents_access`
also hands the listing each row's whole evaluation and the count, so one statement serves a
page, its `totalCount` and its `myPermissions`.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select, union_all

from .evaluation import access_select, document_resources, document_t, folder_resources, folder_t
from .model import Actor


def visible_ids(actor: Actor, resources: Select) -> Select:
    """(kind, id) of the candidate `resources` that are live and that U may VIEW."""
    access = access_select(actor, resources).subquery("access")
    return select(access.c.kind, access.c.id).where(access.c.can_view, access.c.hidden.is_(False))


def visible_folder_ids(actor: Actor, *where) -> Select:
    """Ids of live folders of U's organization matching `where` that U may VIEW."""
    access = access_select(actor, folder_resources(actor, folder_t.c.deleted_at.is_(None), *where)).subquery()
    return select(access.c.id).where(access.c.can_view)


def _live_documents(actor: Actor, *where, carry=()) -> Select:
    """Candidate documents that are live and in a live folder."""
    return document_resources(actor, document_t.c.deleted_at.is_(None), folder_t.c.deleted_at.is_(None), *where,
                              carry=carry)


def visible_document_ids(actor: Actor, *where) -> Select:
    """Ids of live documents (in live folders) of U's organization matching `where` that U may VIEW."""
    access = access_select(actor, _live_documents(actor, *where)).subquery()
    return select(access.c.id).where(access.c.can_view)


def visible_documents_access(actor: Actor, *where, carry: dict | None = None) -> Select:
    """The evaluation rows (`access_select`'s columns) of the live documents matching `where`
    that U may VIEW, each with `total`: how many there are in all. `total` is a window over the
    whole set, so it stays exact when the caller then filters past a cursor and limits.
    `carry` (name → expression over the document) adds columns read with the candidates, such
    as a listing's sort keys, so that paging needs no second read of the documents."""
    carry = carry or {}
    resources = _live_documents(actor, *where, carry=[expression.label(name) for name, expression in carry.items()])
    access = access_select(actor, resources, tuple(carry)).subquery("access")
    return select(access, func.count().over().label("total")).where(access.c.can_view)


def visible_resource_ids(actor: Actor, *, folder_where=(), document_where=()) -> Select:
    """(kind, id) of live folders and documents matching their conditions that U may VIEW, in
    one evaluation (used when a listing mixes both kinds, e.g. sharedWithMe)."""
    return visible_ids(actor, union_all(
        folder_resources(actor, folder_t.c.deleted_at.is_(None), *folder_where),
        _live_documents(actor, *document_where),
    ))
