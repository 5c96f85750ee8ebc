"""Demo data for `make run` / `docgraph seed-demo`, built through the same services the API
uses, so the demo organization obeys every rule a real one does."""

from __future__ import annotations

from sqlalchemy import func, select

from .auth.passwords import hash_password
from .auth.principal import Principal
from .config import Settings
from .db import Database
from .models import Organization, User
from .permissions import FOLDER, Capability
from .services import departments, folders, groups, members, organizations, sharing

SUPERADMIN = ("superadmin@docgraph.local", "superadmin-pass")
PEOPLE = [
    # email, password, first, last, system role
    ("alice@acme.example", "alice-password", "Alice", "Admin", "ADMIN"),
    ("bruno@acme.example", "bruno-password", "Bruno", "Finance", "EDITOR"),
    ("chen@acme.example", "chen-password", "Chen", "Legal", "EDITOR"),
    ("dana@acme.example", "dana-password", "Dana", "Viewer", "VIEWER"),
]


async def create_superadmin(settings: Settings, url: str, email: str, password: str) -> User:
    db = Database(url, pool_size=1)
    try:
        password_hash = await hash_password(password, settings.bcrypt_rounds)
        async with db.transaction() as session:
            user = (await session.execute(
                select(User).where(func.lower(User.email) == email.strip().lower()))).scalar_one_or_none()
            if user is None:
                user = User(email=email.strip(), password_hash=password_hash, first_name="Super",
                            last_name="Admin", is_super_admin=True)
                session.add(user)
            else:
                user.is_super_admin, user.password_hash = True, password_hash
        return user
    finally:
        await db.dispose()


async def seed_if_empty(settings: Settings, url: str) -> list[tuple[str, str, str]] | None:
    """Load the demo organization unless the database already has one; returns the logins."""
    db = Database(url, pool_size=2)
    try:
        async with db.reading() as session:
            if (await session.execute(select(func.count()).select_from(Organization))).scalar_one():
                return None
        await _seed(db, settings)
    finally:
        await db.dispose()
    return [(SUPERADMIN[0], SUPERADMIN[1], "super admin")] + [(p[0], p[1], p[4]) for p in PEOPLE]


async def _seed(db: Database, settings: Settings) -> None:
    root = await create_superadmin(settings, db.url, *SUPERADMIN)
    su = Principal(user_id=root.id, organization_id=None, system_role=None, is_super_admin=True)
    alice_email, alice_password, first, last, _ = PEOPLE[0]
    org = await organizations.create_organization(
        db, su, name="Acme Corp", description="A demo organization", admin_email=alice_email,
        admin_password=alice_password, admin_first_name=first, admin_last_name=last,
        bcrypt_rounds=settings.bcrypt_rounds)
    admin_user = await _user(db, alice_email)
    admin = Principal(user_id=admin_user.id, organization_id=org.id, system_role="ADMIN", is_super_admin=False)

    people = {}
    for email, password, first, last, role in PEOPLE[1:]:
        people[first] = await members.create_user(
            db, admin, email=email, password=password, first_name=first, last_name=last,
            system_role=role, bcrypt_rounds=settings.bcrypt_rounds)

    finance = await departments.create_department(db, admin, name="Finance")
    legal = await departments.create_department(db, admin, name="Legal")
    await departments.create_department(db, admin, name="Engineering")
    await departments.set_department_admin(db, admin, department_id=finance.id, user_id=people["Bruno"].id,
                                           is_admin=True)
    team = await groups.create_group(db, admin, name="Finance Team", department_id=finance.id)
    for person in (people["Bruno"], people["Dana"]):
        await groups.set_group_member(db, admin, group_id=team.id, user_id=person.id, member=True)

    reports = await folders.create_folder(db, admin, parent_id=finance.root_folder_id, name="Reports")
    await folders.create_folder(db, admin, parent_id=reports.id, name="2026")
    contracts = await folders.create_folder(db, admin, parent_id=legal.root_folder_id, name="Contracts")
    await folders.create_folder(db, admin, parent_id=legal.root_folder_id, name="Policies")
    # Legal's contracts are readable by the finance team; Chen may work in them.
    await sharing.share(db, admin, resource=(FOLDER, contracts.id), subject_type="GROUP", subject_id=team.id,
                        capabilities=[Capability.VIEW])
    await sharing.share(db, admin, resource=(FOLDER, contracts.id), subject_type="USER",
                        subject_id=people["Chen"].id,
                        capabilities=[Capability.VIEW, Capability.CREATE, Capability.UPDATE])


async def _user(db: Database, email: str) -> User:
    async with db.reading() as session:
        return (await session.execute(select(User).where(func.lower(User.email) == email))).scalar_one()
