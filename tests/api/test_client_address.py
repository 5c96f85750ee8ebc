"""Client addresses (issue 18 #14): X-Forwarded-For counts only from configured proxies, and
what is stored is a whole, canonical IP address."""

from __future__ import annotations

import httpx
import pytest
from starlette.responses import PlainTextResponse

from docgraph.addresses import address_key, normalize_address
from docgraph.app import create_app
from tests.live import docgraph_serve

from .tenancy_helpers import LOGIN, audit_rows

PROXY = ("203.0.113.7", 4711)  # the address the test transport connects from


def _wrong_password(email: str = "ann@example.com") -> dict:
    return {"query": LOGIN, "variables": {"input": {"email": email, "password": "wrong-password"}}}


async def _failure_addresses(services) -> list[str | None]:
    return [row["ip_address"] for row in await audit_rows(services, "LOGIN")]


def test_addresses_are_stored_in_canonical_form_and_counted_by_ipv6_64():
    assert normalize_address("::ffff:198.51.100.9") == "198.51.100.9"
    assert normalize_address("2001:DB8:0:0::1%eth0") == "2001:db8::1"
    assert normalize_address("[2001:db8::1]:443") == "2001:db8::1"
    assert normalize_address("x" * 100) is None and normalize_address("") is None
    # Any address one subscriber may hold counts as one client.
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("198.51.100.9") == "198.51.100.9" and address_key("bogus") == "unknown"


async def test_a_served_app_ignores_x_forwarded_for_by_default(services, tmp_path, database_url):
    """Even from 127.0.0.1 (uvicorn's own default trusts it): a local client cannot pick its
    address, and a value longer than the column is no failure."""
    with docgraph_serve(database_url, tmp_path) as (_, port):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for forwarded in ("198.51.100.9", "x" * 100):
                response = await client.post("/graphql", json=_wrong_password(),
                                             headers={"x-forwarded-for": forwarded})
                assert response.status_code == 200, response.text
                assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await _failure_addresses(services) == ["127.0.0.1", "127.0.0.1"]


@pytest.fixture
async def behind_proxy(settings, services):
    """The app with the test transport's address configured as a trusted proxy."""
    settings.trusted_proxies = ["203.0.113.0/24"]
    transport = httpx.ASGITransport(app=create_app(settings, services=services), client=PROXY)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize(("forwarded", "stored"), [
    ("198.51.100.9", "198.51.100.9"),
    ("192.0.2.1, 198.51.100.9, 203.0.113.8", "198.51.100.9"),  # trusted hops skipped from the right
    ("::ffff:198.51.100.9", "198.51.100.9"),
    ("2001:db8::1%eth0", "2001:db8::1"),
    ("x" * 100, "203.0.113.7"),  # no address: the proxy's own
    ("198.51.100.9, garbage", "203.0.113.7"),
])
async def test_behind_a_trusted_proxy_the_forwarded_client_is_stored_whole(behind_proxy, services, forwarded,
                                                                          stored):
    response = await behind_proxy.post("/graphql", json=_wrong_password(), headers={"x-forwarded-for": forwarded})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await _failure_addresses(services) == [stored]


async def test_forwarded_proto_is_believed_from_a_trusted_proxy_only(settings, services):
    seen = []

    async def scheme(request):
        seen.append(request.url.scheme)
        return PlainTextResponse("")

    for trusted in ([], ["203.0.113.7"]):
        settings.trusted_proxies = trusted
        app = create_app(settings, services=services)
        app.router.add_route("/scheme-probe", scheme)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=PROXY),
                                     base_url="http://testserver") as client:
            await client.get("/scheme-probe", headers={"x-forwarded-proto": "https"})
    assert seen == ["http", "https"]
