"""A small GraphQL-over-HTTP client for tests, with assertions on errors and codes."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLError(AssertionError):
    pass


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(self, query: str, variables: dict | None = None, *, token: str | None = None,
                  headers: dict | None = None) -> dict[str, Any]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}},
                                        headers=all_headers)
        return response.json()

    async def ok(self, query: str, variables: dict | None = None, *, token: str | None = None) -> dict:
        """The data of a response that must have no errors."""
        body = await self.raw(query, variables, token=token)
        if body.get("errors"):
            raise GraphQLError(f"unexpected errors: {body['errors']}")
        return body["data"]

    async def error(self, query: str, variables: dict | None = None, *, token: str | None = None) -> dict:
        """The first error of a response that must fail; has 'message' and 'extensions'."""
        body = await self.raw(query, variables, token=token)
        if not body.get("errors"):
            raise GraphQLError(f"expected an error, got data: {body.get('data')}")
        return body["errors"][0]

    async def code(self, query: str, variables: dict | None = None, *, token: str | None = None) -> str:
        """The extensions.code of a response that must fail."""
        return (await self.error(query, variables, token=token))["extensions"]["code"]
