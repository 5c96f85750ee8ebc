"""Shared rules of the tenancy use cases (organizations, members, departments, groups, roles).

The use cases themselves live in organizations.py, members.py, departments.py, groups.py and
roles.py; this module holds what they have in common: who may manage an organization, input
validation, lookups scoped to the caller's organization, joining an organization (membership +
My Drive) and the reads the tenancy modules share.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, Conflict, Forbidden, NotFound
from ..models import Folder, Membership, User
from ..models.tenancy import SYSTEM_ROLES
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page

K = TypeVar("K")
OrgUser = tuple[uuid.UUID, uuid.UUID]  # (organization id, user id)

MY_DRIVE_NAME = "My Drive"


# --- who may do what ---------------------------------------------------------------------------

def require_org_admin(actor: Principal) -> uuid.UUID:
    """The caller's organization, when the caller may manage it (org ADMIN or super admin)."""
    organization_id = actor.require_organization()
    if not (actor.is_org_admin or actor.is_super_admin):
        raise Forbidden("Only organization admins can manage the organization")
    return organization_id


def require_current_organization(actor: Principal, organization_id: uuid.UUID) -> None:
    """Members, departments, groups and roles are read in the token's organization only
    (super admins, who may enter any organization, read any)."""
    if not actor.is_super_admin and actor.organization_id != organization_id:
        raise Forbidden("Switch to this organization (switchOrganization) to see its details")


# --- input validation ---------------------------------------------------------------------------

# RFC 5322 "dot-atom" local part and a DNS host name with at least one dot.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)


def clean_email(email: str, *, field: str = "email") -> str:
    email = email.strip()
    local, _, _ = email.partition("@")
    if len(email) > 254 or len(local) > 64 or not _EMAIL.match(email):
        raise BadInput("Not a valid email address", field=field)
    return email


def clean_name(value: str | None, *, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not 1 <= len(value) <= max_length:
        raise BadInput(f"{field} must be 1 to {max_length} characters", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise BadInput(f"{field} cannot contain control characters", field=field)
    return value


def clean_description(value: str | None, *, field: str = "description", max_length: int = 500) -> str | None:
    value = (value or "").strip()
    if len(value) > max_length:
        raise BadInput(f"{field} must be at most {max_length} characters", field=field)
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise BadInput(f"{field} cannot contain NUL characters", field=field)
    return value or None


def clean_system_role(value: str) -> str:
    if value not in SYSTEM_ROLES:
        raise BadInput(f"systemRole must be one of {', '.join(SYSTEM_ROLES)}", field="systemRole")
    return value


async def flush_unique(session: AsyncSession, messages: dict[str, str]) -> None:
    """Flush, turning a violation of one of the named unique indexes into CONFLICT."""
    try:
        await session.flush()
    except IntegrityError as exc:
        for index, message in messages.items():
            if index in str(exc.orig):
                raise Conflict(message) from None
        raise


# --- lookups in the caller's organization -------------------------------------------------------

async def live_in_organization(session: AsyncSession, model, row_id: uuid.UUID, organization_id: uuid.UUID,
                               what: str):
    """A live row of a tenant table; another organization's or a deleted one is NOT_FOUND."""
    row = await session.get(model, row_id)
    if row is None or row.organization_id != organization_id or getattr(row, "deleted_at", None) is not None:
        raise NotFound(f"{what} not found")
    return row


async def live_membership(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID, *,
                          for_update: bool = False) -> Membership | None:
    query = select(Membership).where(
        Membership.organization_id == organization_id, Membership.user_id == user_id,
        Membership.left_at.is_(None),
    )
    if for_update:  # and refresh a copy this session may already hold
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def member_user(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """A user who is a live member of the organization, else NOT_FOUND."""
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None or await live_membership(session, organization_id, user_id) is None:
        raise NotFound("User not found in this organization")
    return user


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.execute(query)).scalar_one_or_none()


# --- joining an organization ----------------------------------------------------------------------

async def join_organization(session: AsyncSession, user: User, organization_id: uuid.UUID,
                            system_role: str) -> Membership:
    """A live membership with its system role, plus the member's My Drive root.

    The membership becomes the user's default when they have no default yet. A user who left
    and comes back gets their old My Drive back (one My Drive root per member and organization).
    """
    has_default = (await session.execute(
        select(Membership.id).where(Membership.user_id == user.id, Membership.is_default,
                                    Membership.left_at.is_(None))
    )).first() is not None
    membership = Membership(user_id=user.id, organization_id=organization_id, system_role=system_role,
                            is_default=not has_default)
    session.add(membership)
    await flush_unique(session, {
        "uq_membership_live": "This user is already a member of the organization",
        "uq_membership_default": "The user's memberships changed concurrently; try again",
    })
    await ensure_my_drive(session, organization_id, user.id)
    return membership


async def ensure_my_drive(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> Folder:
    existing = (await session.execute(
        select(Folder).where(Folder.organization_id == organization_id, Folder.owner_type == "USER",
                             Folder.owner_id == user_id, Folder.parent_id.is_(None))
    )).scalar_one_or_none()
    if existing is not None:
        return existing
    folder_id = uuid.uuid4()
    drive = Folder(id=folder_id, organization_id=organization_id, name=MY_DRIVE_NAME, owner_type="USER",
                   owner_id=user_id, department_id=None, parent_id=None, path=[folder_id], created_by=user_id)
    session.add(drive)
    await session.flush()
    return drive


async def set_link(session: AsyncSession, link_model, owner_column: str, owner_id: uuid.UUID,
                   user_id: uuid.UUID, organization_id: uuid.UUID, present: bool) -> None:
    """Adds (present) or removes the (owner, user) row of a membership table such as
    group_member or member_role; both directions are idempotent."""
    owner = getattr(link_model, owner_column)
    if present:
        await session.execute(insert(link_model).values(
            {owner_column: owner_id, "user_id": user_id, "organization_id": organization_id})
            .on_conflict_do_nothing())
    else:
        await session.execute(delete(link_model).where(owner == owner_id, link_model.user_id == user_id))


# --- reads shared by the tenancy modules ------------------------------------------------------------

async def read_grouped(db: Database, keys: Iterable[K], query: Select[Any]) -> dict[K, list[Any]]:
    """Runs a query of (key, row) pairs and groups the rows per key, keeping the query's order;
    every key of `keys` is in the answer (an empty list when nothing matched)."""
    async with db.reading() as session:
        pairs = (await session.execute(query)).all()
    grouped: dict[K, list[Any]] = {key: [] for key in keys}
    for key, row in pairs:
        grouped[key].append(row)
    return grouped


async def children_of_organizations(db: Database, model: Any, organization_ids: Sequence[uuid.UUID],
                                    *order: Any) -> dict[uuid.UUID, list[Any]]:
    """Live rows of a tenant table (departments, groups, roles) per organization, in `order`."""
    query = (select(model.organization_id, model)
             .where(model.organization_id.in_(organization_ids), model.deleted_at.is_(None))
             .order_by(*order, model.id))
    return await read_grouped(db, organization_ids, query)


async def users_through(db: Database, link: Any, key_column: Any,
                        keys: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    """Users linked to each key through a join table (admins, members), ordered by email."""
    query = (select(key_column, User).join(User, User.id == link.user_id)
             .where(key_column.in_(keys)).order_by(func.lower(User.email), User.id))
    return await read_grouped(db, keys, query)


# Users listed by email (case-insensitive), then id: members, group members, role holders,
# department admins.
USERS_BY_EMAIL = Keyset("email", (Key.text(func.lower(User.email), "sort_email"), Key.id(User.id)))


async def users_page(db: Database, query: Select[Any], page: PageRequest) -> tuple[Page[User], CountFn]:
    """A page of `query` (a select of User rows, filtered) by email, and its count."""
    email = USERS_BY_EMAIL.keys[0]
    result = await read_page(db, query.add_columns(email.labelled()), USERS_BY_EMAIL, page,
                             key_of=lambda row: (row.sort_email, row.User.id), row_of=lambda row: row.User)
    return result, counter(db, query.with_only_columns(User.id).subquery())


def by_name(model: Any) -> Keyset:
    """Departments and groups: by name (case-insensitive), then id."""
    return Keyset("name", (Key.text(func.lower(model.name), "sort_name"), Key.id(model.id)))


async def live_rows_page(db: Database, model: Any, organization_id: uuid.UUID, keyset: Keyset,
                         page: PageRequest) -> tuple[Page[Any], CountFn]:
    """A page of the live rows of a tenant table (departments, groups, roles) of one
    organization, in `keyset` order, and their count."""
    query = select(model, *(key.labelled() for key in keyset.keys[:-1])).where(
        model.organization_id == organization_id, model.deleted_at.is_(None))
    result = await read_page(db, query, keyset, page, key_of=lambda row: (*row[1:], row[0].id),
                             row_of=lambda row: row[0])
    return result, counter(db, query.with_only_columns(model.id).subquery())
