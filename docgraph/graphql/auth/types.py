"""Sign-in inputs and the token payload (objects: `services.auth.SignedIn`)."""

from __future__ import annotations

import strawberry

from ...auth.principal import Principal
from ...services.auth import SignedIn
from ..tenancy.types import Viewer


@strawberry.input
class LoginInput:
    email: str
    password: str
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="Needed when the user belongs to several organizations and has no default.")


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class SwitchOrganizationInput:
    organization_id: strawberry.ID


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Lifetime of the access token, in seconds.")

    @strawberry.field(graphql_type=Viewer)
    @staticmethod
    def viewer(root: SignedIn) -> Principal:
        return root.principal
