"""Access tokens that must not sign anyone in."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from docgraph.auth.tokens import TokenSigner

from .tenancy_helpers import ME, execute, gid, login


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _craft(settings, user_id: uuid.UUID, org_id: uuid.UUID, **overrides) -> str:
    """A token signed with the real key, with some claims changed."""
    secret = settings.secret_key
    now = int(time.time())
    claims = {"iss": "docgraph", "aud": "docgraph-api", "sub": str(user_id), "org": str(org_id),
              "sid": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600, **overrides}
    signer = TokenSigner(secret, 600)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": signer.keys.current.id}
    return jwt.encode(header, claims, OctKey.import_key(secret.encode()), algorithms=["HS256"])


async def _me_code(api, token: str) -> str:
    return await api.code(ME, token=token)


async def test_the_crafting_helper_makes_valid_tokens(api, factory, settings):
    """Guards the tests below: with nothing changed, a crafted token is accepted."""
    org = await factory.organization()
    user = await factory.user(org)
    assert (await api.ok(ME, token=_craft(settings, user.id, org.id)))["me"]["user"]["id"] == gid("User", user)


async def test_no_token_is_unauthenticated(api):
    assert await api.code(ME) == "UNAUTHENTICATED"


@pytest.mark.parametrize("claims", [{"aud": "another-api"}, {"iss": "someone-else"}], ids=["audience", "issuer"])
async def test_wrong_audience_or_issuer_is_unauthenticated(api, factory, settings, claims):
    org = await factory.organization()
    user = await factory.user(org)
    assert await _me_code(api, _craft(settings, user.id, org.id, **claims)) == "UNAUTHENTICATED"


async def test_tampered_signature_is_unauthenticated(api, factory):
    org = await factory.organization()
    user = await factory.user(org)
    header, claims, signature = factory.token(user, org).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert await _me_code(api, f"{header}.{claims}.{flipped}") == "UNAUTHENTICATED"


async def test_changed_claims_under_the_old_signature_are_unauthenticated(api, factory):
    org, other = await factory.organization(), await factory.organization()
    user = await factory.user(org)
    header, claims, signature = factory.token(user, org).split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=="))
    payload["org"] = str(other.id)
    assert await _me_code(api, f"{header}.{_b64(payload)}.{signature}") == "UNAUTHENTICATED"


async def test_expired_token_is_unauthenticated(api, factory, settings):
    org = await factory.organization()
    user = await factory.user(org)
    expired = TokenSigner(settings.secret_key, -60).issue(user.id, org.id, uuid.uuid4())
    assert await _me_code(api, expired) == "UNAUTHENTICATED"


async def test_alg_none_is_unauthenticated(api, factory):
    org = await factory.organization()
    user = await factory.user(org)
    now = int(time.time())
    claims = {"iss": "docgraph", "aud": "docgraph-api", "sub": str(user.id), "org": str(org.id),
              "sid": str(uuid.uuid4()), "iat": now, "exp": now + 600}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
    assert await _me_code(api, unsigned) == "UNAUTHENTICATED"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "", "Bearer"])
async def test_garbage_is_unauthenticated(api, token):
    body = await api.raw(ME, headers={"Authorization": f"Bearer {token}"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refresh_token_is_not_an_access_token(api, factory):
    org = await factory.organization()
    await factory.user(org, email="lee@example.com")
    payload = await login(api, "lee@example.com")
    assert await _me_code(api, payload["refreshToken"]) == "UNAUTHENTICATED"


async def test_deactivated_users_token_stops_working(api, factory, services):
    org = await factory.organization()
    user = await factory.user(org)
    token = factory.token(user, org)
    assert await api.ok(ME, token=token)
    await execute(services, "UPDATE users SET is_active = false WHERE id = :id", id=user.id)
    assert await _me_code(api, token) == "UNAUTHENTICATED"


async def test_removed_members_token_stops_working(api, factory):
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    member = await factory.user(org, "EDITOR")
    token = factory.token(member, org)
    assert await api.ok(ME, token=token)

    await api.ok("mutation($id: ID!) { removeMember(input: {userId: $id}) { user { id } } }",
                 {"id": gid("User", member)}, token=factory.token(admin, org))

    assert await _me_code(api, token) == "UNAUTHENTICATED"


async def test_not_before_in_the_future_is_unauthenticated(api, factory, settings):
    org = await factory.organization()
    user = await factory.user(org)
    token = _craft(settings, user.id, org.id, nbf=int(time.time()) + 3600)
    assert await _me_code(api, token) == "UNAUTHENTICATED"


def _signed(settings, user, org, *, header: dict, key, algorithm: str) -> str:
    now = int(time.time())
    claims = {"iss": "docgraph", "aud": "docgraph-api", "sub": str(user.id), "org": str(org.id),
              "sid": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600}
    return jwt.encode({"typ": "at+jwt", **header, "alg": algorithm}, claims, key, algorithms=[algorithm])


async def test_unknown_kid_is_unauthenticated(api, factory, settings):
    org = await factory.organization()
    user = await factory.user(org)
    key = OctKey.import_key(settings.secret_key.encode())
    token = _signed(settings, user, org, header={"kid": "someone-elses"}, key=key, algorithm="HS256")
    assert await _me_code(api, token) == "UNAUTHENTICATED"


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_another_hmac_algorithm_with_the_right_key_is_unauthenticated(api, factory, settings, algorithm):
    org = await factory.organization()
    user = await factory.user(org)
    secret = settings.secret_key
    key = OctKey.import_key(secret.encode())
    kid = TokenSigner(secret, 600).keys.current.id
    token = _signed(settings, user, org, header={"kid": kid}, key=key, algorithm=algorithm)
    assert await _me_code(api, token) == "UNAUTHENTICATED"


async def test_rsa_signed_token_is_unauthenticated(api, factory, settings):
    """Algorithm confusion: an asymmetric token must never be checked as if HMAC were expected."""
    from joserfc.jwk import RSAKey

    org = await factory.organization()
    user = await factory.user(org)
    kid = TokenSigner(settings.secret_key, 600).keys.current.id
    token = _signed(settings, user, org, header={"kid": kid}, key=RSAKey.generate_key(2048), algorithm="RS256")
    assert await _me_code(api, token) == "UNAUTHENTICATED"
