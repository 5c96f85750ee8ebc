"""GraphQL documents and small helpers shared by the auth and tenancy API tests."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from docgraph import globalid
from tests.factories import DEFAULT_PASSWORD

LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) {
    accessToken refreshToken expiresIn
    viewer { isSuperAdmin systemRole user { email lastLoginAt } organization { name } }
  }
}"""

REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) { accessToken refreshToken viewer { organization { name } } }
}"""

ME = """
{ me { isSuperAdmin systemRole user { id email } organization { id name }
       organizations { name } myDrive { id name drive } } }"""


def gid(type_name: str, row) -> str:
    return globalid.encode(type_name, row if isinstance(row, uuid.UUID) else row.id)


async def login(api, email: str, password: str = DEFAULT_PASSWORD, organization=None) -> dict:
    variables = {"input": {"email": email, "password": password}}
    if organization is not None:
        variables["input"]["organizationId"] = gid("Organization", organization)
    return (await api.ok(LOGIN, variables))["login"]


async def login_error(api, email: str, password: str = DEFAULT_PASSWORD, organization_id: str | None = None) -> dict:
    variables = {"input": {"email": email, "password": password, "organizationId": organization_id}}
    return await api.error(LOGIN, variables)


async def audit_rows(services, action: str | None = None) -> list:
    """Audit rows, oldest first (optionally of one action)."""
    query = "SELECT * FROM audit_log" + (" WHERE action = :action" if action else "") + " ORDER BY seq"
    async with services.db.reading() as session:
        return list((await session.execute(text(query), {"action": action})).mappings())


async def execute(services, sql: str, **params) -> None:
    async with services.db.transaction() as session:
        await session.execute(text(sql), params)
