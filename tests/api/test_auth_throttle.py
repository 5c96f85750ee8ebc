"""Throttling of unauthenticated attempts and what they leave in the append-only audit log
(issue 18 #6, issue 11 #8): per (account, address) and per address, counted before the
password is checked; refused attempts are summed into one audit row per window."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from docgraph.models.base import utcnow
from docgraph.services import throttle
from docgraph.services.audit_log import verify_chains
from tests.graphql import GraphQLClient

from .tenancy_helpers import REFRESH, audit_rows, login, login_error


@pytest.fixture
async def from_address(app):
    """GraphQL clients connecting from other addresses than the default test client's."""
    clients = []

    async def client(address: str) -> GraphQLClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4711)),
                                 base_url="http://testserver")
        clients.append(http)
        return GraphQLClient(http)

    yield client
    for http in clients:
        await http.aclose()


async def _codes(calls) -> list[str]:
    return [error["extensions"]["code"] for error in await asyncio.gather(*calls)]


async def _failures(services) -> list:
    return [row for row in await audit_rows(services, "LOGIN") if row["status"] == "FAILURE"]


async def _flush_after_the_window(services, settings) -> int:
    async with services.db.transaction() as session:
        return await throttle.flush_ended_windows(
            session, settings, now=utcnow() + timedelta(seconds=settings.login_failure_window))


async def test_an_owner_on_a_clean_address_signs_in_whatever_failed_elsewhere(api, factory, settings, from_address):
    settings.login_max_failures = 3
    org = await factory.organization()
    await factory.user(org, email="owner@example.com")
    for _ in range(3):
        assert (await login_error(api, "owner@example.com", "a-wrong-guess"))["extensions"]["code"] == "UNAUTHENTICATED"
    # The guessing address is refused, even with the right password...
    assert (await login_error(api, "owner@example.com"))["extensions"]["code"] == "RATE_LIMITED"
    # ...the owner at home is not.
    assert (await login(await from_address("198.51.100.20"), "owner@example.com"))["accessToken"]
    # Nor is an owner on another IPv6 /64; one on the same /64 counts as the same client.
    settings.login_max_failures = 1
    same_64, other_64 = await from_address("2001:db8:1:2::1"), await from_address("2001:db8:1:2::99")
    await login_error(same_64, "owner@example.com", "a-wrong-guess")
    assert (await login_error(other_64, "owner@example.com"))["extensions"]["code"] == "RATE_LIMITED"
    assert await login(await from_address("2001:db8:1:3::1"), "owner@example.com")


async def test_concurrent_guesses_get_no_more_password_checks_than_the_limit(api, factory, settings, services):
    settings.login_max_failures = 5
    org = await factory.organization()
    await factory.user(org, email="target@example.com")
    codes = await _codes([login_error(api, "target@example.com", f"guess-{n:04}") for n in range(30)])
    assert codes.count("UNAUTHENTICATED") == 5 and codes.count("RATE_LIMITED") == 25
    assert len(await _failures(services)) == 5


async def test_refused_sign_ins_leave_one_audit_row_per_window_with_their_count(api, factory, settings, services):
    settings.login_max_failures = 5
    org = await factory.organization()
    user = await factory.user(org, email="hammered@example.com")
    for n in range(100):
        await login_error(api, "hammered@example.com", f"guess-{n:04}")
    assert len(await _failures(services)) == 5  # was one row per attempt: 100

    assert await _flush_after_the_window(services, settings) == 1
    failures = await _failures(services)
    assert len(failures) == 6
    summary = failures[-1]
    assert (summary["user_id"], summary["organization_id"], summary["resource_name"]) == \
        (user.id, org.id, "hammered@example.com")
    assert summary["change_details"]["refused"] == 95 and summary["change_details"]["code"] == "RATE_LIMITED"
    assert summary["ip_address"] == "203.0.113.7"
    assert all(report.ok for report in await verify_chains(services.db))
    assert await _flush_after_the_window(services, settings) == 0  # the window's rows are gone


async def test_garbage_refresh_tokens_are_throttled_like_sign_ins(api, factory, settings, services, from_address):
    settings.login_max_failures = 5  # per address: 20
    org = await factory.organization()
    await factory.user(org, email="fresh@example.com")
    codes = [(await api.error(REFRESH, {"token": f"garbage-{n}"}))["extensions"]["code"] for n in range(100)]
    assert codes == ["UNAUTHENTICATED"] * 20 + ["RATE_LIMITED"] * 80
    assert len(await _failures(services)) == 20  # was 100
    # The address is throttled for sign-ins too, whatever the account; other addresses are not.
    assert (await login_error(api, "fresh@example.com"))["extensions"]["code"] == "RATE_LIMITED"
    assert await login(await from_address("198.51.100.30"), "fresh@example.com")

    assert await _flush_after_the_window(services, settings) == 1
    summary = (await _failures(services))[-1]
    assert (summary["resource_name"], summary["change_details"]["refused"]) == (None, 81)
    assert await login(api, "fresh@example.com")  # a new window
