"""Sessions: refresh-token rotation and reuse detection, logout, switchOrganization, me."""

from __future__ import annotations

from .tenancy_helpers import ME, REFRESH, audit_rows, execute, gid, login

SWITCH = """
mutation($id: ID!) {
  switchOrganization(input: {organizationId: $id}) {
    accessToken refreshToken viewer { systemRole organization { name } }
  }
}"""
LOGOUT = "mutation { logout }"


async def _signed_in(api, factory, email="mia@example.com", role="EDITOR", org_name=None):
    org = await factory.organization(org_name)
    user = await factory.user(org, role, email=email)
    return org, user, await login(api, email)


async def test_refresh_rotates_the_pair(api, factory):
    _, _, first = await _signed_in(api, factory)

    second = (await api.ok(REFRESH, {"token": first["refreshToken"]}))["refreshToken"]

    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert (await api.ok(ME, token=second["accessToken"]))["me"]["user"]["email"] == "mia@example.com"
    third = (await api.ok(REFRESH, {"token": second["refreshToken"]}))["refreshToken"]
    assert third["viewer"]["organization"] is not None


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api, factory, services):
    _, _, first = await _signed_in(api, factory)
    second = (await api.ok(REFRESH, {"token": first["refreshToken"]}))["refreshToken"]

    error = await api.error(REFRESH, {"token": first["refreshToken"]})

    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "reuse" in error["message"]
    # Everything of that session is dead now: the newest refresh token and both access tokens.
    assert await api.code(REFRESH, {"token": second["refreshToken"]}) == "UNAUTHENTICATED"
    assert await api.code(ME, token=second["accessToken"]) == "UNAUTHENTICATED"
    assert await api.code(ME, token=first["accessToken"]) == "UNAUTHENTICATED"
    failures = [row for row in await audit_rows(services, "LOGIN") if row["status"] == "FAILURE"]
    assert any("reuse" in row["error_message"] for row in failures)
    renewals = [row for row in await audit_rows(services, "LOGIN") if (row["change_details"] or {}).get("refresh")]
    assert [row["status"] for row in renewals] == ["SUCCESS", "FAILURE", "FAILURE"]


async def test_another_session_of_the_same_user_survives_reuse_detection(api, factory):
    _, _, laptop = await _signed_in(api, factory)
    phone = await login(api, "mia@example.com")
    await api.ok(REFRESH, {"token": laptop["refreshToken"]})
    await api.error(REFRESH, {"token": laptop["refreshToken"]})
    assert await api.ok(ME, token=phone["accessToken"])


async def test_expired_or_unknown_refresh_token_is_unauthenticated(api, factory, services):
    _, _, payload = await _signed_in(api, factory)
    assert await api.code(REFRESH, {"token": "no-such-token"}) == "UNAUTHENTICATED"
    await execute(services, "UPDATE refresh_token SET expires_at = now() - interval '1 second'")
    error = await api.error(REFRESH, {"token": payload["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and "expired" in error["message"]


async def test_refresh_fails_once_the_member_is_removed(api, factory):
    org, _, payload = await _signed_in(api, factory)
    admin = await factory.user(org, "ADMIN")
    member_id = (await api.ok(ME, token=payload["accessToken"]))["me"]["user"]["id"]
    await api.ok("mutation($id: ID!) { removeMember(input: {userId: $id}) { user { id } } }",
                 {"id": member_id}, token=factory.token(admin, org))
    assert await api.code(REFRESH, {"token": payload["refreshToken"]}) == "UNAUTHENTICATED"


async def test_logout_ends_the_session(api, factory, services):
    _, user, payload = await _signed_in(api, factory)

    assert (await api.ok(LOGOUT, token=payload["accessToken"])) == {"logout": True}

    assert await api.code(ME, token=payload["accessToken"]) == "UNAUTHENTICATED"
    assert await api.code(REFRESH, {"token": payload["refreshToken"]}) == "UNAUTHENTICATED"
    assert [row["user_id"] for row in await audit_rows(services, "LOGOUT")] == [user.id]


async def test_logout_works_for_a_session_without_stored_refresh_token(api, factory):
    org = await factory.organization()
    user = await factory.user(org)
    token = factory.token(user, org)
    await api.ok(LOGOUT, token=token)
    assert await api.code(ME, token=token) == "UNAUTHENTICATED"


async def test_logout_needs_a_session(api):
    assert await api.code(LOGOUT) == "UNAUTHENTICATED"


async def test_switch_organization_issues_tokens_for_the_other_membership(api, factory):
    _, user, payload = await _signed_in(api, factory, org_name="Home", role="EDITOR")
    away = await factory.organization("Away")
    await factory.join(user, away, "VIEWER")

    switched = (await api.ok(SWITCH, {"id": gid("Organization", away)}, token=payload["accessToken"]))
    switched = switched["switchOrganization"]

    assert switched["viewer"] == {"systemRole": "VIEWER", "organization": {"name": "Away"}}
    me = (await api.ok(ME, token=switched["accessToken"]))["me"]
    assert me["organization"]["name"] == "Away" and me["systemRole"] == "VIEWER"
    assert sorted(o["name"] for o in me["organizations"]) == ["Away", "Home"]
    # The new refresh token stays in Away; the one it replaced is spent.
    refreshed = (await api.ok(REFRESH, {"token": switched["refreshToken"]}))["refreshToken"]
    assert refreshed["viewer"]["organization"]["name"] == "Away"
    # It is still one session: logging out ends the tokens of both organizations.
    await api.ok(LOGOUT, token=refreshed["accessToken"])
    assert await api.code(ME, token=payload["accessToken"]) == "UNAUTHENTICATED"
    assert await api.code(ME, token=switched["accessToken"]) == "UNAUTHENTICATED"


async def test_switching_to_an_organization_one_is_not_in_is_not_found(api, factory, services):
    _, _, payload = await _signed_in(api, factory)
    stranger = await factory.organization()
    assert await api.code(SWITCH, {"id": gid("Organization", stranger)}, token=payload["accessToken"]) == "NOT_FOUND"
    assert await api.code(SWITCH, {"id": gid("User", stranger)}, token=payload["accessToken"]) == "BAD_USER_INPUT"
    assert await api.code(SWITCH, {"id": gid("Organization", stranger)}) == "UNAUTHENTICATED"
    assert any(row["status"] == "FAILURE" for row in await audit_rows(services, "LOGIN"))


async def test_super_admin_may_enter_any_organization(api, factory):
    await factory.user(None, email="root@example.com", super_admin=True)
    org = await factory.organization("Client")
    payload = await login(api, "root@example.com")
    switched = await api.ok(SWITCH, {"id": gid("Organization", org)}, token=payload["accessToken"])
    me = (await api.ok(ME, token=switched["switchOrganization"]["accessToken"]))["me"]
    assert me["organization"]["name"] == "Client" and me["systemRole"] is None and me["isSuperAdmin"]


async def test_me_shows_the_members_my_drive(api, factory):
    org, other = await factory.organization("Acme"), await factory.organization("Other")
    user = await factory.user(None)
    drive = await factory.join(user, org, "VIEWER", is_default=True)
    await factory.join(user, other)

    me = (await api.ok(ME, token=factory.token(user, org)))["me"]

    assert me["myDrive"] == {"id": gid("Folder", drive), "name": "My Drive", "drive": "PERSONAL"}
    assert me["systemRole"] == "VIEWER"
    assert sorted(o["name"] for o in me["organizations"]) == ["Acme", "Other"]
