"""Sign-in inputs and the token payload (objects: `services.auth.SignedIn`)."""

from __future__ import annotations

import strawberry

from ...auth.principal import Principal
from ...services.auth import SignedIn
from ..tenancy.types import Viewer


@strawberry.input(description="Credentials to sign in with.")
class LoginInput:
    email: str = strawberry.field(description="The account's email (case does not matter).")
    password: str = strawberry.field(description="The account's password.")
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="Needed when the user belongs to several organizations and has no default.")


@strawberry.input(description="A refresh token to trade for new tokens.")
class RefreshTokenInput:
    refresh_token: str = strawberry.field(
        description="The refresh token of the last AuthPayload; it works once (each refresh returns a new one).")


@strawberry.input(description="Another organization of the viewer to work in.")
class SwitchOrganizationInput:
    organization_id: strawberry.ID = strawberry.field(
        description="An organization the viewer belongs to (any, for super admins).")


@strawberry.type(description="A signed-in session: the tokens to call the API with, and who is signed in.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="Send it as `Authorization: Bearer <token>` (over websockets: in connection_init's payload).")
    refresh_token: str = strawberry.field(
        description="Trade it with refreshToken for new tokens before the access token expires; usable once.")
    expires_in: int = strawberry.field(description="Lifetime of the access token, in seconds.")

    @strawberry.field(graphql_type=Viewer, description="The signed-in user, organization and role.")
    @staticmethod
    def viewer(root: SignedIn) -> Principal:
        return root.principal
