"""Signing in and out: login, refreshToken, switchOrganization, logout."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...globalid import decode_as
from ...services import auth as auth_service
from ...services.auth import SignedIn
from ..context import Info
from .types import AuthPayload, LoginInput, RefreshTokenInput, SwitchOrganizationInput


def _signed_in(info: Info, signed_in: SignedIn) -> SignedIn:
    # The rest of this request acts as the new session, so the payload's viewer fields that
    # need a principal (organization details, My Drive) answer for it.
    info.context.principal_or_none = signed_in.principal
    return signed_in


@strawberry.type
class Mutation:
    @strawberry.mutation(graphql_type=AuthPayload,
                         description="Sign in with email and password: the tokens for one organization.")
    async def login(
            self, info: Info,
            input: Annotated[LoginInput, strawberry.argument(
                description="The credentials, and the organization for a user of several without a default.")],
    ) -> SignedIn:
        context = info.context
        organization_id = decode_as(input.organization_id, "Organization") if input.organization_id else None
        signed_in = await auth_service.login(
            context.db, context.services.signer, context.settings, context.client,
            email=input.email, password=input.password, organization_id=organization_id,
        )
        return _signed_in(info, signed_in)

    @strawberry.mutation(graphql_type=AuthPayload,
                         description="Trade a refresh token for new tokens (the old refresh token stops working).")
    async def refresh_token(
            self, info: Info,
            input: Annotated[RefreshTokenInput, strawberry.argument(description="The refresh token to trade.")],
    ) -> SignedIn:
        context = info.context
        signed_in = await auth_service.refresh(context.db, context.services.signer, context.settings,
                                               context.client, refresh_token=input.refresh_token)
        return _signed_in(info, signed_in)

    @strawberry.mutation(graphql_type=AuthPayload,
                         description="New tokens for another organization of the viewer (the current session is kept).")
    async def switch_organization(
            self, info: Info,
            input: Annotated[SwitchOrganizationInput, strawberry.argument(
                description="The organization to switch to.")],
    ) -> SignedIn:
        context = info.context
        organization_id = decode_as(input.organization_id, "Organization")
        signed_in = await auth_service.switch_organization(
            context.db, context.principal, context.services.signer, context.settings,
            organization_id=organization_id,
        )
        return _signed_in(info, signed_in)

    @strawberry.mutation(description="Ends the current session: its refresh and access tokens stop working.")
    async def logout(self, info: Info) -> bool:
        await auth_service.logout(info.context.db, info.context.principal)
        return True
