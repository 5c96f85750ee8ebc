"""Signing in and out: login with throttling (services/throttle.py), refresh-token rotation with
reuse detection, switching organization, logout.

A session is a refresh-token family: login starts one (family_id = the access tokens' `sid`),
each refresh rotates its token, switchOrganization moves the same session to another
organization, and logout or a detected reuse revokes the whole family, which also kills the
session's access tokens (auth/principal.py refuses tokens of a revoked family).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import globalid
from ..auth.passwords import validate_password, verify_password
from ..auth.principal import ClientInfo, Principal
from ..auth.tokens import TokenSigner, hash_refresh_token, new_refresh_token
from ..config import Settings
from ..db import Database
from ..errors import Conflict, DocgraphError, Forbidden, NotFound, Unauthenticated
from ..models import Membership, Organization, RefreshToken, User
from ..models.base import utcnow
from . import audit, throttle
from .tenancy import user_by_email

INVALID_CREDENTIALS = "Invalid email or password"


@dataclass(frozen=True)
class SignedIn:
    """A new token pair and who it is for."""

    access_token: str
    refresh_token: str
    expires_in: int
    principal: Principal


# --- login --------------------------------------------------------------------------------------------

async def login(db: Database, signer: TokenSigner, settings: Settings, client: ClientInfo, *, email: str,
                password: str, organization_id: uuid.UUID | None) -> SignedIn:
    """Checks the credentials and opens a session in the chosen organization.

    Wrong password, unknown email and disabled account all answer the same UNAUTHENTICATED,
    after the same single bcrypt check. The organization: the one asked for (must be a live
    membership; super admins may enter any live organization), else the only or the default
    membership; several without a default is CONFLICT listing them; none is FORBIDDEN (super
    admins then get a session without organization).
    """
    validate_password(password)
    email_key = email.strip().lower()[:255]
    # Counted before the password is checked: refused (RATE_LIMITED) past the limits, unaudited.
    await throttle.count_attempt(db, settings, client, email_key)

    async with db.reading() as session:
        user = await user_by_email(session, email_key) if email_key else None
    usable = user is not None and user.is_active and user.deleted_at is None
    if not await verify_password(password, user.password_hash if usable else None, settings.bcrypt_rounds):
        await _audit_login_failure(db, client, email_key, user, Unauthenticated(INVALID_CREDENTIALS))
        raise Unauthenticated(INVALID_CREDENTIALS)

    try:
        async with db.transaction() as session:
            chosen_org, system_role = await _choose_organization(session, user, organization_id)
            signed_in = await _open_session(session, signer, settings, client, user, chosen_org, system_role)
            await session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow()))
            await throttle.forget_account(session, settings, email_key, client)
            await audit.record(session, action="LOGIN", resource_type="USER", organization_id=chosen_org,
                               user_id=user.id, client=client, resource_id=user.id, resource_name=user.email)
    except (Forbidden, NotFound, Conflict) as error:
        await _audit_login_failure(db, client, email_key, user, error)
        raise
    return signed_in


async def _audit_login_failure(db: Database, client: ClientInfo, email_key: str, user: User | None,
                               error: DocgraphError) -> None:
    """A LOGIN FAILURE row in its own transaction, in the user's home organization when there
    is one, else global."""
    async with db.transaction() as session:
        home = await audit.home_organization(session, user.id) if user is not None else None
        await audit.record(
            session, action="LOGIN", resource_type="USER", organization_id=home,
            user_id=user.id if user is not None else None, client=client,
            resource_id=user.id if user is not None else None, resource_name=email_key,
            status="FAILURE", error_message=error.message, details={"code": error.code},
        )


async def _choose_organization(session: AsyncSession, user: User,
                               requested: uuid.UUID | None) -> tuple[uuid.UUID | None, str | None]:
    """(organization id, system role) for the new session."""
    memberships = (await session.execute(
        select(Membership.organization_id, Membership.system_role, Membership.is_default, Organization.name)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id, Membership.left_at.is_(None),
               Organization.deleted_at.is_(None), Organization.status == "ACTIVE")
        .order_by(Organization.name)
    )).all()
    if requested is not None:
        return await _requested_organization(session, user, requested, memberships)
    if not memberships:
        if user.is_super_admin:
            return None, None
        raise Forbidden("Your account does not belong to any organization; ask an organization admin to add you")
    if len(memberships) == 1:
        return memberships[0].organization_id, memberships[0].system_role
    for membership in memberships:
        if membership.is_default:
            return membership.organization_id, membership.system_role
    raise Conflict(
        "You belong to several organizations: choose one with organizationId",
        organizations=[{"id": globalid.encode("Organization", m.organization_id), "name": m.name}
                       for m in memberships],
    )


async def _requested_organization(session: AsyncSession, user: User, requested: uuid.UUID,
                                  memberships) -> tuple[uuid.UUID, str | None]:
    for membership in memberships:
        if membership.organization_id == requested:
            return requested, membership.system_role
    if user.is_super_admin and await _organization_is_live(session, requested):
        return requested, None
    raise NotFound("Organization not found, or you are not a member of it")


async def _organization_is_live(session: AsyncSession, organization_id: uuid.UUID) -> bool:
    return bool((await session.execute(select(exists().where(
        Organization.id == organization_id, Organization.deleted_at.is_(None), Organization.status == "ACTIVE",
    )))).scalar())


async def _open_session(session: AsyncSession, signer: TokenSigner, settings: Settings, client: ClientInfo,
                        user: User, organization_id: uuid.UUID | None, system_role: str | None, *,
                        family_id: uuid.UUID | None = None) -> SignedIn:
    """A refresh token (in `family_id`, or a new family) and the access token that goes with it."""
    family_id = family_id or uuid.uuid4()
    refresh_token, token_hash = new_refresh_token()
    session.add(RefreshToken(
        user_id=user.id, organization_id=organization_id, family_id=family_id, token_hash=token_hash,
        expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl),
    ))
    await session.flush()
    return SignedIn(
        access_token=signer.issue(user.id, organization_id, family_id),
        refresh_token=refresh_token,
        expires_in=signer.ttl,
        principal=Principal(user_id=user.id, organization_id=organization_id, system_role=system_role,
                            is_super_admin=user.is_super_admin, session_id=family_id, client=client),
    )


# --- refresh --------------------------------------------------------------------------------------------

async def refresh(db: Database, signer: TokenSigner, settings: Settings, client: ClientInfo, *,
                  refresh_token: str) -> SignedIn:
    """Rotates a refresh token: marks it used and issues a new pair in the same session.

    A token presented again after it was rotated has leaked (or the client is confused): the
    whole session is revoked, and the caller gets UNAUTHENTICATED. Renewals are audited as
    LOGIN rows marked `refresh`; refusals as LOGIN FAILURE rows.
    """
    # Who the token was for, kept as plain values: a rollback expires the ORM row.
    holder: tuple[uuid.UUID, uuid.UUID | None, uuid.UUID] | None = None
    reused = False
    try:
        async with db.transaction() as session:
            row = (await session.execute(
                select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
                .with_for_update()
            )).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                raise Unauthenticated("Invalid refresh token")
            holder = (row.user_id, row.organization_id, row.family_id)
            if row.used_at is not None:
                await _revoke_family(session, row.family_id)
                reused = True
            else:
                if row.expires_at <= utcnow():
                    raise Unauthenticated("Refresh token expired; sign in again")
                user, system_role = await _session_holder(session, row)
                row.used_at = utcnow()
                signed_in = await _open_session(session, signer, settings, client, user, row.organization_id,
                                                system_role, family_id=row.family_id)
                await audit.record(session, action="LOGIN", resource_type="USER",
                                   organization_id=row.organization_id, user_id=user.id, client=client,
                                   resource_id=user.id, resource_name=user.email, details={"refresh": True})
        if reused:  # raised after the commit, so the revocation sticks
            raise Unauthenticated("Refresh token reuse detected; the session has been revoked")
    except Unauthenticated as error:
        # Counted for the address like a failed sign-in; past the limit, refused unaudited.
        await throttle.count_attempt(db, settings, client)
        user_id, organization_id, family_id = holder or (None, None, None)
        async with db.transaction() as session:
            await audit.record(
                session, action="LOGIN", resource_type="USER", client=client, status="FAILURE",
                organization_id=organization_id, user_id=user_id, resource_id=user_id,
                error_message=error.message,
                details={"refresh": True, "sessionId": str(family_id) if family_id else None},
            )
        raise
    return signed_in


async def _session_holder(session: AsyncSession, row: RefreshToken) -> tuple[User, str | None]:
    """The session's user, still active and still a member of the session's organization."""
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise Unauthenticated("The session is no longer valid")
    if row.organization_id is None:
        return user, None
    membership = (await session.execute(
        select(Membership.system_role)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id, Membership.organization_id == row.organization_id,
               Membership.left_at.is_(None), Organization.deleted_at.is_(None), Organization.status == "ACTIVE")
    )).first()
    if membership is not None:
        return user, membership.system_role
    if user.is_super_admin and await _organization_is_live(session, row.organization_id):
        return user, None
    raise Unauthenticated("The session is no longer valid")


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                                     RefreshToken.revoked_at.is_(None))
                          .values(revoked_at=utcnow()))


# --- switch organization and logout -----------------------------------------------------------------------

@audit.audited("LOGIN", "USER")
async def switch_organization(db: Database, actor: Principal, signer: TokenSigner, settings: Settings, *,
                              organization_id: uuid.UUID) -> SignedIn:
    """A new token pair for another organization of the same user, in the SAME session: the
    session's current refresh token is rotated away, and logout still ends everything."""
    session_id = actor.session_id or uuid.uuid4()
    async with db.transaction() as session:
        user = await session.get(User, actor.user_id)
        memberships = (await session.execute(
            select(Membership.organization_id, Membership.system_role)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id == user.id, Membership.organization_id == organization_id,
                   Membership.left_at.is_(None), Organization.deleted_at.is_(None),
                   Organization.status == "ACTIVE")
        )).all()
        _, system_role = await _requested_organization(session, user, organization_id, memberships)
        await session.execute(update(RefreshToken).where(
            RefreshToken.family_id == session_id, RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None)).values(used_at=utcnow()))
        signed_in = await _open_session(session, signer, settings, actor.client, user, organization_id,
                                        system_role, family_id=session_id)
        await audit.record(
            session, action="LOGIN", resource_type="USER", organization_id=organization_id, user_id=user.id,
            client=actor.client, resource_id=user.id, resource_name=user.email,
            details={"switchedFrom": str(actor.organization_id) if actor.organization_id else None},
        )
    return signed_in


async def logout(db: Database, actor: Principal) -> None:
    """Revokes the session: its refresh tokens and, through the family, its access tokens."""
    session_id = actor.session_id
    if session_id is None:
        return
    async with db.transaction() as session:
        await _revoke_family(session, session_id)
        has_rows = (await session.execute(select(exists().where(RefreshToken.family_id == session_id)))).scalar()
        if not has_rows:
            # A session whose refresh token was never stored still needs a revoked row: that
            # row is what makes the principal check refuse its access tokens.
            _, token_hash = new_refresh_token()
            now = utcnow()
            session.add(RefreshToken(user_id=actor.user_id, organization_id=actor.organization_id,
                                     family_id=session_id, token_hash=token_hash, expires_at=now,
                                     used_at=now, revoked_at=now))
        await audit.record_by(session, actor, "LOGOUT", "USER", resource_id=actor.user_id)
