"""Item 4: a `search` page of 100 with tag + metadata filters over the dataset's documents.

    python -m bench.search [--quick] [--duration S]

Through the API of the 2-worker server, one request at a time (closed loop, concurrency 1) for
the run's duration: latency p50/p95/p99. Two viewers: reader@bench.example (an EDITOR whose
visible set comes from grants: one department through a group, plus scattered shares) and the
organization ADMIN (sees every document). Each with and without `totalCount` (an exact count
of every visible match, which the page alone does not need).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx

from . import Context, console, run_load

PAGE_SIZE = 100
PAGE = "edges { node { id name tags metadata } }"
QUERY = "query Search($filter: DocumentFilter!, $first: Int!) { search(filter: $filter, first: $first) { %s } }"


def body(ctx: Context, *, count: bool) -> dict[str, Any]:
    selection = PAGE + (" totalCount" if count else "")
    return {
        "query": QUERY % selection, "operationName": "Search",
        "variables": {"filter": {"tags": ctx.info.search_tags, "metadata": ctx.info.search_metadata},
                      "first": PAGE_SIZE},
    }


def has_search(url: str, token: str) -> bool:
    data = httpx.post(url + "/graphql", json={"query": '{ __type(name: "Query") { fields { name } } }'},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["data"]
    return any(field["name"] == "search" for field in data["__type"]["fields"])


def page_problem(ctx: Context, response: dict[str, Any]) -> str | None:
    if response.get("errors"):
        return json.dumps(response["errors"])[:500]
    edges = response["data"]["search"]["edges"]
    if len(edges) != PAGE_SIZE:
        return f"{len(edges)} results, expected a full page of {PAGE_SIZE}"
    for edge in edges:
        node = edge["node"]
        if not set(ctx.info.search_tags) <= set(node["tags"]):
            return f"{node['name']} lacks the tags {ctx.info.search_tags}"
        if any(node["metadata"].get(k) != v for k, v in ctx.info.search_metadata.items()):
            return f"{node['name']} does not match the metadata filter"
    return None


async def run(ctx: Context) -> dict[str, Any]:
    server = ctx.docgraph()
    viewers = {"reader": ctx.reader_token(), "admin": ctx.admin_token()}
    if not has_search(server.url, viewers["reader"]):
        return {"status": "not available yet", "missing_fields": ["Query.search"]}
    url = server.url + "/graphql"
    runs: dict[str, Any] = {}
    for viewer, token in viewers.items():
        headers = {"Authorization": f"Bearer {token}"}
        for count in (False, True):
            request = body(ctx, count=count)
            response = httpx.post(url, json=request, headers=headers, timeout=120).json()
            problem = page_problem(ctx, response)
            if problem:
                raise RuntimeError(f"search as {viewer}: {problem}")
            stats = await run_load(url, request, concurrency=1, duration=ctx.duration, warmup=ctx.warmup,
                                   headers=headers)
            if count:
                stats["total_count"] = response["data"]["search"]["totalCount"]
            name = f"{viewer}{'+totalCount' if count else ''}"
            runs[name] = stats
            console.print(f"  search {name:18} {stats['requests']:5} requests  p50 / p95 / p99 {stats['p50_ms']} / "
                          f"{stats['p95_ms']} / {stats['p99_ms']} ms  errors {stats['errors']}")
    return {
        "status": "ok", "page_size": PAGE_SIZE, "documents": ctx.info.counts["document"],
        "filter": {"tags": ctx.info.search_tags, "metadata": ctx.info.search_metadata},
        "concurrency": 1, "duration_s": ctx.duration, "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="search page of 100 with tag + metadata filters")
    Context.add_arguments(parser)
    args = parser.parse_args()

    async def go():
        async with await Context.from_arguments(args) as ctx:
            result = await run(ctx)
            ctx.write("search", result)
            print(json.dumps(result, indent=1))

    asyncio.run(go())


if __name__ == "__main__":
    main()
