"""Sign-in inputs and the token payload."""

from __future__ import annotations

import strawberry

from ..services.auth import SignedIn
from .tenancy import Viewer


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
    viewer: Viewer

    @classmethod
    def from_signed_in(cls, signed_in: SignedIn) -> AuthPayload:
        return cls(access_token=signed_in.access_token, refresh_token=signed_in.refresh_token,
                   expires_in=signed_in.expires_in, viewer=Viewer.from_principal(signed_in.principal))
