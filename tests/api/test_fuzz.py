"""Schemathesis in GraphQL mode over a real server: generated queries and mutations, signed in as
an organization admin, must never produce an unmasked or internal server error.

The suite runs a bounded, seeded budget; `make fuzz` raises it (DOCGRAPH_FUZZ_EXAMPLES).
"""

import asyncio
import os

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from ..live import live_server

EXAMPLES = int(os.environ.get("DOCGRAPH_FUZZ_EXAMPLES", "120"))

# A file cannot travel in a JSON request: whatever stands in its place must be refused cleanly.
schemathesis.graphql.scalar("Upload", st.sampled_from(["", "0", "file"]).map(nodes.String))


def _fuzz(url: str, token: str) -> tuple[int, list[str]]:
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.graphql.from_url(url, headers=headers)
    failures: list[str] = []
    calls = 0

    @seed(20261121)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy(headers=headers))
    def run(case) -> None:
        nonlocal calls
        calls += 1
        response = case.call(headers=headers, timeout=30)
        problem = None
        if response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
        else:
            for error in (response.json() or {}).get("errors") or []:
                code = (error.get("extensions") or {}).get("code")
                if code in (None, "INTERNAL_SERVER_ERROR"):
                    problem = f"{code}: {error.get('message')}"
        if problem:
            failures.append(f"{problem}\n  query: {case.body}")

    run()
    return calls, failures


async def test_generated_operations_never_cause_server_errors(app, factory):
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")
    await factory.department(org, "Finance", by=admin)
    async with live_server(app) as address:
        calls, failures = await asyncio.to_thread(_fuzz, f"http://{address}/graphql", factory.token(admin, org))
    assert calls >= EXAMPLES // 2, f"the fuzzer sent only {calls} requests"
    assert not failures, "\n".join(failures[:10])
