"""Tenancy services under concurrency and their failure audit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from docgraph.auth.principal import Principal
from docgraph.errors import Conflict
from docgraph.services import groups, members


def _admin(user, org) -> Principal:
    return Principal(user_id=user.id, organization_id=org.id, system_role="ADMIN", is_super_admin=False)


async def _scalar(services, sql: str, **params):
    async with services.db.reading() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(services, factory, monkeypatch):
    org = await factory.organization()
    ann, bob = await factory.user(org, "ADMIN"), await factory.user(org, "ADMIN")
    # Both transactions are under way before either takes the admin lock: a real race.
    both_started = asyncio.Barrier(2)
    lock_admins = members._lock_admins

    async def wait_then_lock_admins(*args, **kwargs):
        await asyncio.wait_for(both_started.wait(), timeout=5)
        return await lock_admins(*args, **kwargs)

    monkeypatch.setattr(members, "_lock_admins", wait_then_lock_admins)

    results = await asyncio.gather(
        members.set_system_role(services.db, _admin(ann, org), user_id=bob.id, system_role="EDITOR"),
        members.set_system_role(services.db, _admin(bob, org), user_id=ann.id, system_role="EDITOR"),
        return_exceptions=True,
    )

    assert sorted(type(result).__name__ for result in results) == ["Conflict", "User"]
    admins = await _scalar(services, "SELECT count(*) FROM membership WHERE organization_id = :o "
                                     "AND system_role = 'ADMIN' AND left_at IS NULL", o=org.id)
    assert admins == 1


async def test_concurrent_create_user_with_one_email_makes_one_user(services, factory):
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")

    async def create(email):
        return await members.create_user(services.db, _admin(admin, org), email=email, password="password-123",
                                         first_name="Twin", last_name="Twin", system_role="VIEWER",
                                         bcrypt_rounds=4)

    results = await asyncio.gather(create("twin@example.com"), create("TWIN@example.com"), return_exceptions=True)

    assert sorted(type(result).__name__ for result in results) == ["Conflict", "User"]
    assert await _scalar(services, "SELECT count(*) FROM users WHERE lower(email) = 'twin@example.com'") == 1


async def test_a_refused_use_case_leaves_only_its_failure_row(services, factory):
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    await factory.group(org, name="Ops")

    with pytest.raises(Conflict):
        await groups.create_group(services.db, _admin(admin, org), name="OPS", department_id=None)

    assert await _scalar(services, "SELECT count(*) FROM groups WHERE organization_id = :o", o=org.id) == 1
    async with services.db.reading() as session:
        row = (await session.execute(text("SELECT * FROM audit_log"))).mappings().one()
    assert (row["action"], row["resource_type"], row["status"], row["organization_id"]) == (
        "CREATE", "GROUP", "FAILURE", org.id)
    assert row["change_details"] == {"code": "CONFLICT", "operation": "create_group"}


async def test_rejoining_reuses_the_my_drive_root(services, factory):
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    member = await factory.user(org, "EDITOR", email="back@example.com")
    actor = _admin(admin, org)
    drive = await _scalar(services, "SELECT id FROM folder WHERE owner_id = :u", u=member.id)

    await members.remove_member(services.db, actor, user_id=member.id)
    await members.add_member(services.db, actor, email="back@example.com", system_role="VIEWER")

    assert await _scalar(services, "SELECT array_agg(id) FROM folder WHERE owner_id = :u", u=member.id) == [drive]
    assert await _scalar(services, "SELECT count(*) FROM membership WHERE user_id = :u", u=member.id) == 2
