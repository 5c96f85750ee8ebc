"""login: credentials, account state, choice of organization, throttling and audit."""

from __future__ import annotations

from .tenancy_helpers import ME, audit_rows, execute, gid, login, login_error


async def test_login_returns_tokens_that_sign_the_member_in(api, factory):
    org = await factory.organization("Acme")
    user = await factory.user(org, "EDITOR", email="ann@example.com")

    payload = await login(api, "ann@example.com")

    assert payload["expiresIn"] == 900
    assert payload["refreshToken"] and payload["accessToken"] != payload["refreshToken"]
    assert payload["viewer"]["organization"] == {"name": "Acme"}
    assert payload["viewer"]["systemRole"] == "EDITOR"
    assert payload["viewer"]["user"]["lastLoginAt"] is not None
    me = (await api.ok(ME, token=payload["accessToken"]))["me"]
    assert me["user"] == {"id": gid("User", user), "email": "ann@example.com"}
    assert me["organization"]["name"] == "Acme" and me["isSuperAdmin"] is False


async def test_login_email_is_case_insensitive(api, factory):
    org = await factory.organization()
    await factory.user(org, email="Bob.Smith@Example.com")
    payload = await login(api, "  bob.smith@EXAMPLE.COM ")
    assert payload["viewer"]["user"]["email"] == "Bob.Smith@Example.com"


async def test_wrong_password_and_unknown_email_get_the_same_error(api, factory):
    org = await factory.organization()
    await factory.user(org, email="carol@example.com")

    wrong_password = await login_error(api, "carol@example.com", "not-her-password")
    unknown_email = await login_error(api, "nobody@example.com", "not-her-password")

    for error in (wrong_password, unknown_email):
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["message"] == "Invalid email or password"


async def test_inactive_and_deleted_users_cannot_log_in_with_their_right_password(api, factory, services):
    org = await factory.organization()
    inactive = await factory.user(org, email="inactive@example.com")
    deleted = await factory.user(org, email="deleted@example.com")
    await execute(services, "UPDATE users SET is_active = false WHERE id = :id", id=inactive.id)
    await execute(services, "UPDATE users SET deleted_at = now() WHERE id = :id", id=deleted.id)

    for email in ("inactive@example.com", "deleted@example.com"):
        error = await login_error(api, email)
        assert (error["extensions"]["code"], error["message"]) == ("UNAUTHENTICATED", "Invalid email or password")


async def test_password_outside_8_to_72_bytes_is_bad_input(api, factory):
    org = await factory.organization()
    await factory.user(org, email="dave@example.com")
    for password in ("short", "x" * 73, "é" * 37):  # 74 bytes in UTF-8
        error = await login_error(api, "dave@example.com", password)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_user_without_membership_is_refused_with_forbidden(api, factory):
    await factory.user(None, email="loner@example.com")
    error = await login_error(api, "loner@example.com")
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "does not belong to any organization" in error["message"]


async def test_super_admin_without_membership_signs_in_without_organization(api, factory):
    await factory.user(None, email="root@example.com", super_admin=True)
    payload = await login(api, "root@example.com")
    me = (await api.ok(ME, token=payload["accessToken"]))["me"]
    assert me["isSuperAdmin"] is True
    assert me["organization"] is None and me["systemRole"] is None and me["myDrive"] is None


async def test_member_of_several_organizations_without_default_must_choose(api, factory):
    north, south = await factory.organization("North"), await factory.organization("South")
    user = await factory.user(north, "VIEWER", email="erin@example.com", is_default=False)
    await factory.join(user, south, "ADMIN", is_default=False)

    error = await login_error(api, "erin@example.com")

    assert error["extensions"]["code"] == "CONFLICT"
    choices = error["extensions"]["organizations"]
    assert sorted(choices, key=lambda c: c["name"]) == [
        {"id": gid("Organization", north), "name": "North"},
        {"id": gid("Organization", south), "name": "South"},
    ]
    chosen = await login(api, "erin@example.com", organization=south)
    assert chosen["viewer"]["organization"]["name"] == "South"
    assert chosen["viewer"]["systemRole"] == "ADMIN"


async def test_default_organization_is_used_when_none_is_chosen(api, factory):
    north, south = await factory.organization("North"), await factory.organization("South")
    user = await factory.user(north, email="finn@example.com", is_default=False)
    await factory.join(user, south, is_default=True)
    assert (await login(api, "finn@example.com"))["viewer"]["organization"]["name"] == "South"
    assert (await login(api, "finn@example.com", organization=north))["viewer"]["organization"]["name"] == "North"


async def test_choosing_an_organization_one_is_not_a_member_of_is_not_found(api, factory):
    mine, other = await factory.organization(), await factory.organization()
    await factory.user(mine, email="gina@example.com")
    error = await login_error(api, "gina@example.com", organization_id=gid("Organization", other))
    assert error["extensions"]["code"] == "NOT_FOUND"
    malformed = await login_error(api, "gina@example.com", organization_id="not-an-id")
    assert malformed["extensions"]["code"] == "BAD_USER_INPUT"


async def test_after_max_failures_the_account_is_rate_limited_even_with_the_right_password(
        api, factory, settings):
    settings.login_max_failures = 3
    org = await factory.organization()
    await factory.user(org, email="hank@example.com")
    await factory.user(org, email="other@example.com")

    for _ in range(3):
        assert (await login_error(api, "hank@example.com", "wrong-password"))["extensions"]["code"] == "UNAUTHENTICATED"
    error = await login_error(api, "HANK@example.com")
    assert error["extensions"]["code"] == "RATE_LIMITED"
    # Another account from the same address is still below the per-address limit.
    assert await login(api, "other@example.com")


async def test_failures_older_than_the_window_no_longer_count(api, factory, settings, services):
    settings.login_max_failures = 2
    org = await factory.organization()
    await factory.user(org, email="lou@example.com")
    for _ in range(2):
        await login_error(api, "lou@example.com", "wrong-password")
    error = await login_error(api, "lou@example.com")
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= settings.login_failure_window

    await execute(services, "UPDATE auth_throttle SET window_start = window_start - make_interval(secs => :s)",
                  s=settings.login_failure_window)

    assert await login(api, "lou@example.com")


async def test_too_many_failures_from_one_address_rate_limit_every_account(api, factory, settings):
    settings.login_max_failures = 2  # per address: 4 x 2 = 8
    org = await factory.organization()
    await factory.user(org, email="ivy@example.com")

    for attempt in range(8):
        await login_error(api, f"guess-{attempt}@example.com", "wrong-password")

    assert (await login_error(api, "ivy@example.com"))["extensions"]["code"] == "RATE_LIMITED"


async def test_success_forgets_the_accounts_failures_but_not_the_addresses(api, factory, settings):
    settings.login_max_failures = 2  # per account 2, per address 8
    org = await factory.organization()
    await factory.user(org, email="jo@example.com")

    # A user who mistypes once and then signs in starts afresh, again and again.
    for _ in range(3):
        await login_error(api, "jo@example.com", "typo-typo")
        assert await login(api, "jo@example.com")

    # Signing in to one's own account does not buy more guesses against others: the failures
    # against other accounts keep counting for the address.
    for attempt in range(7):
        await login_error(api, f"victim-{attempt}@example.com", "wrong-password")
    assert await login(api, "jo@example.com")
    await login_error(api, "victim-7@example.com", "wrong-password")
    assert (await login_error(api, "jo@example.com"))["extensions"]["code"] == "RATE_LIMITED"


async def test_login_success_and_failures_are_audited(api, factory, services):
    org = await factory.organization()
    user = await factory.user(org, email="kim@example.com")

    await login(api, "kim@example.com")
    await login_error(api, "kim@example.com", "wrong-password")
    await login_error(api, "ghost@example.com", "wrong-password")

    rows = await audit_rows(services, "LOGIN")
    assert [(r["status"], r["organization_id"], r["user_id"]) for r in rows] == [
        ("SUCCESS", org.id, user.id),
        ("FAILURE", org.id, user.id),
        ("FAILURE", None, None),
    ]
    assert rows[2]["resource_name"] == "ghost@example.com"
    assert rows[0]["ip_address"] == "203.0.113.7"
