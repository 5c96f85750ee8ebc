"""Throttling of unauthenticated attempts: sign-ins and refresh tokens.

Attempts are counted in fixed windows (`login_failure_window` seconds, aligned to the epoch)
under two scopes:
- per (account, client address): `login_max_failures` sign-in attempts. An account's owner on
  another address is never refused for failures elsewhere.
- per client address (an IPv6 client by its /64): IP_FACTOR times more, across accounts and
  bad refresh tokens, since offices share an address.

A sign-in attempt is counted BEFORE its password is checked, in one statement for both scopes;
when either is over its limit the attempt is handed back and counted as refused instead, in the
same transaction. So N concurrent guesses get at most the limit of password checks, and a
success hands its account's attempts back (`forget_account`). A bad refresh token is counted
once it failed (a token cannot be guessed, so nothing needs counting before).

Refused attempts write nothing to the append-only audit log: each window's row keeps their
count, and once the window has ended `flush_ended_windows` (a housekeeping job) appends ONE
audit row per throttled key saying how many were refused, then deletes the window's rows. The
audit log thus holds at most the limit of failure rows per key and window, plus one summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..addresses import address_key
from ..auth.principal import ClientInfo
from ..config import Settings
from ..db import Database
from ..errors import RateLimited
from ..models.base import utcnow
from . import audit
from .tenancy import user_by_email

ACCOUNT_ADDRESS = "account_address"
ADDRESS = "address"
# Per client address, more attempts are tolerated than per account: offices share addresses.
IP_FACTOR = 4

_COUNT_SQL = text("""
    INSERT INTO auth_throttle AS t (scope, key, window_start, attempts, refused, email, ip_address, last_at)
    SELECT k.scope, k.key, :window_start, 1, 0, k.email, :ip, :now
    FROM unnest(CAST(:scopes AS text[]), CAST(:keys AS text[]), CAST(:emails AS text[]))
         WITH ORDINALITY AS k(scope, key, email, n)
    ORDER BY k.n
    ON CONFLICT (scope, key, window_start) DO UPDATE
        SET attempts = t.attempts + 1, ip_address = EXCLUDED.ip_address, last_at = EXCLUDED.last_at
    RETURNING t.scope, t.attempts
""")
_HAND_BACK_SQL = text("""
    UPDATE auth_throttle SET attempts = attempts - 1,
                             refused = refused + CASE WHEN scope = ANY(CAST(:over AS text[])) THEN 1 ELSE 0 END
    WHERE window_start = :window_start AND (scope, key) IN (SELECT * FROM unnest(CAST(:scopes AS text[]),
                                                                                 CAST(:keys AS text[])))
""")


@dataclass(frozen=True)
class Window:
    start: datetime
    seconds: int

    @classmethod
    def current(cls, settings: Settings, now: datetime | None = None) -> Window:
        seconds = settings.login_failure_window
        epoch = (now or utcnow()).timestamp()
        return cls(datetime.fromtimestamp(epoch - epoch % seconds, UTC), seconds)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def retry_after(self) -> int:
        return max(1, math.ceil((self.end - utcnow()).total_seconds()))


def _keys(email_key: str | None, client: ClientInfo) -> list[tuple[str, str, str | None]]:
    """(scope, key, email) to count an attempt under: the account's row first, always in this
    order, so concurrent statements lock shared rows in the same order."""
    address = address_key(client.ip_address)
    keys: list[tuple[str, str, str | None]] = [(ADDRESS, address, None)]
    if email_key is not None:
        keys.insert(0, (ACCOUNT_ADDRESS, f"{email_key}|{address}", email_key))
    return keys


def _limits(settings: Settings) -> dict[str, int]:
    return {ACCOUNT_ADDRESS: settings.login_max_failures, ADDRESS: IP_FACTOR * settings.login_max_failures}


async def count_attempt(db: Database, settings: Settings, client: ClientInfo, email_key: str | None = None) -> None:
    """Count one attempt (of a sign-in to `email_key`, or a failed refresh when None), or
    refuse it with RATE_LIMITED when a scope is already at its limit. Nothing else is written."""
    window = Window.current(settings)
    keys = _keys(email_key, client)
    scopes, names, emails = ([key[i] for key in keys] for i in range(3))
    limits = _limits(settings)
    async with db.transaction() as session:
        counted = (await session.execute(_COUNT_SQL, {
            "window_start": window.start, "ip": client.ip_address, "now": utcnow(),
            "scopes": scopes, "keys": names, "emails": emails})).all()
        over = [row.scope for row in counted if row.attempts > limits[row.scope]]
        if over:
            await session.execute(_HAND_BACK_SQL, {"window_start": window.start, "over": over,
                                                   "scopes": scopes, "keys": names})
    if over:
        raise RateLimited("Too many failed attempts from here; try again later", retryAfter=window.retry_after())


async def forget_account(session: AsyncSession, settings: Settings, email_key: str, client: ClientInfo) -> None:
    """After a successful sign-in, in its transaction: this account's attempts from this address
    (the successful one included) stop counting, for the account and for the address. Attempts
    against other accounts keep counting, so a success never buys guesses elsewhere."""
    window = Window.current(settings)
    (account_scope, account_key, _), (address_scope, address, _) = _keys(email_key, client)
    await session.execute(text("""
        WITH mine AS (
            DELETE FROM auth_throttle WHERE scope = :account_scope AND key = :account_key
                                        AND window_start = :window_start
            RETURNING attempts)
        UPDATE auth_throttle SET attempts = greatest(attempts - (SELECT coalesce(sum(attempts), 0) FROM mine), 0)
        WHERE scope = :address_scope AND key = :address AND window_start = :window_start
    """), {"account_scope": account_scope, "account_key": account_key, "address_scope": address_scope,
           "address": address, "window_start": window.start})


async def flush_ended_windows(session: AsyncSession, settings: Settings, now: datetime | None = None) -> int:
    """Delete the rows of windows that have ended; for each that refused attempts, append one
    LOGIN FAILURE audit row with their count (in the caller's transaction). Returns the rows
    appended."""
    window = Window.current(settings, now)
    ended = (await session.execute(text("""
        DELETE FROM auth_throttle WHERE window_start < :window_start
        RETURNING scope, key, window_start, refused, email, ip_address
    """), {"window_start": window.start})).all()
    summaries = sorted((row for row in ended if row.refused), key=lambda row: (row.window_start, row.scope, row.key))
    for row in summaries:
        user = await user_by_email(session, row.email) if row.email else None
        await audit.record(
            session, action="LOGIN", resource_type="USER",
            organization_id=await audit.home_organization(session, user.id) if user else None,
            user_id=user.id if user else None, resource_id=user.id if user else None,
            resource_name=row.email, client=ClientInfo(ip_address=row.ip_address), status="FAILURE",
            error_message=f"{row.refused} attempts refused while throttled",
            details={"code": RateLimited.code, "refused": row.refused, "scope": row.scope,
                     "windowStart": row.window_start.isoformat(),
                     "windowEnd": (row.window_start + timedelta(seconds=window.seconds)).isoformat()},
        )
    return len(summaries)
