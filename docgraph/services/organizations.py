"""Creating organizations (super admins only), with their system roles and first admin."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select

from ..auth.passwords import hash_password
from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, Forbidden
from ..models import Membership, Organization, Role, User
from ..models.tenancy import SYSTEM_ROLES
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page
from . import audit
from .tenancy import (
    clean_description,
    clean_email,
    clean_name,
    flush_unique,
    join_organization,
    user_by_email,
)

SYSTEM_ROLE_DESCRIPTIONS = {
    "ADMIN": "Full access to all documents and permissions in the organization",
    "EDITOR": "Creates, reads and updates documents; manages their own documents",
    "VIEWER": "Read-only access to documents shared with them",
}


@audit.audited("CREATE", "ORGANIZATION")
async def create_organization(
    db: Database, actor: Principal, *, name: str, description: str | None, admin_email: str,
    admin_password: str | None, admin_first_name: str | None, admin_last_name: str | None,
    bcrypt_rounds: int,
) -> Organization:
    """The organization, its ADMIN/EDITOR/VIEWER roles and its first admin (an existing user
    found by email, or a new one, which then needs a password and names)."""
    if not actor.is_super_admin:
        raise Forbidden("Only super admins can create organizations")
    name = clean_name(name, field="name", max_length=255)
    description = clean_description(description)
    admin_email = clean_email(admin_email, field="adminEmail")
    # Hashed before the transaction opens: bcrypt is slow and must not hold a connection.
    password_hash = await hash_password(admin_password, bcrypt_rounds) if admin_password else None

    async with db.transaction() as session:
        organization = Organization(name=name, description=description)
        session.add(organization)
        await flush_unique(session, {"uq_organization_live_name": "An organization with this name already exists"})
        for key in SYSTEM_ROLES:
            session.add(Role(organization_id=organization.id, name=key, description=SYSTEM_ROLE_DESCRIPTIONS[key],
                             is_system=True, system_key=key))

        admin = await user_by_email(session, admin_email)
        created_admin = admin is None
        if admin is None:
            admin = await _new_admin_user(session, admin_email, password_hash, admin_first_name, admin_last_name)
        elif admin.deleted_at is not None or not admin.is_active:
            raise BadInput("The admin user's account is disabled", field="adminEmail")
        await join_organization(session, admin, organization.id, "ADMIN")

        await audit.record(
            session, action="CREATE", resource_type="ORGANIZATION", organization_id=organization.id,
            user_id=actor.user_id, client=actor.client, resource_id=organization.id, resource_name=name,
            details={"adminUserId": str(admin.id), "adminCreated": created_admin},
        )
        if created_admin:
            await audit.record(
                session, action="CREATE", resource_type="USER", organization_id=organization.id,
                user_id=actor.user_id, client=actor.client, resource_id=admin.id, resource_name=admin.email,
                details={"systemRole": "ADMIN"},
            )
    return organization


async def _new_admin_user(session, email: str, password_hash: str | None, first_name: str | None,
                          last_name: str | None) -> User:
    if password_hash is None:
        raise BadInput("adminPassword is required when the admin user does not exist yet", field="adminPassword")
    user = User(
        email=email, password_hash=password_hash,
        first_name=clean_name(first_name, field="adminFirstName", max_length=100),
        last_name=clean_name(last_name, field="adminLastName", max_length=100),
    )
    session.add(user)
    await flush_unique(session, {"uq_users_email": "A user with this email already exists"})
    return user


# --- reads ------------------------------------------------------------------------------------------

_BY_NAME = Keyset("name", (Key.text(Organization.name, "sort_name"), Key.id(Organization.id)))


def _organizations_of(user_id: uuid.UUID, everything: bool) -> Select[Any]:
    query = select(Organization).where(Organization.deleted_at.is_(None), Organization.status == "ACTIVE")
    if not everything:
        query = query.join(Membership, Membership.organization_id == Organization.id).where(
            Membership.user_id == user_id, Membership.left_at.is_(None))
    return query


async def organizations_of(db: Database, user_id: uuid.UUID, *, everything: bool = False) -> list[Organization]:
    """Live, active organizations the user belongs to (all of them for `everything`: super admins), by name."""
    async with db.reading() as session:
        query = _organizations_of(user_id, everything).order_by(*_BY_NAME.list_order())
        return list((await session.execute(query)).scalars())


async def organizations_page(db: Database, user_id: uuid.UUID, page: PageRequest, *,
                             everything: bool = False) -> tuple[Page[Organization], CountFn]:
    """A page of `organizations_of`, and their count."""
    query = _organizations_of(user_id, everything)
    result = await read_page(db, query, _BY_NAME, page, key_of=lambda row: (row.Organization.name, row.Organization.id),
                             row_of=lambda row: row.Organization)
    return result, counter(db, query.with_only_columns(Organization.id).subquery())


async def organizations_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    return await db.rows_by_ids(Organization, ids)
