"""Item 6: live notification latency with 1,000 websocket subscribers on ONE server process.

    python -m bench.notifications [--quick] [--subscribers N] [--events N] [--rate R]

Builds a scratch database (one organization, N members), starts one docgraph process (real
uvicorn over loopback, `--no-worker`), opens N graphql-transport-ws connections each
subscribed to `notificationAdded` with its own member's token, checks on /metrics that the
process holds all N subscriptions, then publishes notifications the way services do
(`publish.notify_users` in a transaction, one event per transaction, recipient i -> member i),
after an unmeasured warm-up of 100 events:

- paced:  `--rate` events per second (default 200), the steady state;
- burst:  the same number of events committed back to back, as fast as one connection can.

Latency is from just before COMMIT (measured in this process) to the websocket frame arriving
in this process (same clock), so it includes the commit, PostgreSQL's NOTIFY, the server's
per-delivery checks (token, principal, the notification row) and this client's own event loop.
Writes <results>/notifications.json and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC
from pathlib import Path

import asyncpg
import httpx
import websockets
from sqlalchemy import make_url

from . import PYTHON, RESULTS_DIR, ROOT, Process, console, docgraph_env, free_port, mint_token, write_result

SUBSCRIPTION = json.dumps({"id": "1", "type": "subscribe", "payload": {
    "query": "subscription { notificationAdded { id title } }"}})
GOAL_P99_MS = 100.0


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * q // 100) - 1))], 2)

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": round(ordered[-1], 2),
            "mean": round(statistics.fmean(ordered), 2)}


# --- the scratch database -----------------------------------------------------------------------

async def build(url: str, members: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """One organization and `members` live members (no folders: only notifications are needed)."""
    conn = await asyncpg.connect(url)
    try:
        org = uuid.uuid4()
        users = [uuid.uuid4() for _ in range(members)]
        await conn.execute("INSERT INTO organization (id, name, status, settings, created_at, updated_at) "
                           "VALUES ($1, 'Bench', 'ACTIVE', '{}', now(), now())", org)
        await conn.copy_records_to_table("users", columns=["id", "email", "password_hash", "first_name", "last_name",
                                                           "is_active", "is_super_admin", "created_at", "updated_at"],
                                         records=[(u, f"member{n}@bench.example", "x", "Member", str(n), True, False,
                                                   _now(), _now()) for n, u in enumerate(users)])
        await conn.copy_records_to_table("membership", columns=["id", "user_id", "organization_id", "system_role",
                                                                "is_default", "joined_at"],
                                         records=[(uuid.uuid4(), u, org, "EDITOR", True, _now()) for u in users])
    finally:
        await conn.close()
    return org, users


def _now():
    from datetime import datetime

    return datetime.now(UTC)


# --- subscribers --------------------------------------------------------------------------------

class Subscribers:
    """N websocket connections; every frame's arrival time is recorded by its title."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.arrivals: dict[str, float] = {}
        self.errors: list[str] = []
        self.connections: list = []
        self.tasks: list[asyncio.Task] = []

    async def open(self, tokens: list[str], parallel: int = 50) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one(token: str) -> None:
            async with gate:
                ws = await websockets.connect(f"ws://{self.address}/graphql", subprotocols=["graphql-transport-ws"],
                                              open_timeout=30, ping_interval=None)
                await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
                ack = json.loads(await ws.recv())
                if ack["type"] != "connection_ack":
                    raise RuntimeError(f"not acknowledged: {ack}")
                await ws.send(SUBSCRIPTION)
                self.connections.append(ws)
                self.tasks.append(asyncio.create_task(self._read(ws)))

        await asyncio.gather(*(one(token) for token in tokens))

    async def _read(self, ws) -> None:
        try:
            async for raw in ws:
                arrived = time.perf_counter()
                message = json.loads(raw)
                if message.get("type") == "next" and not message["payload"].get("errors"):
                    self.arrivals[message["payload"]["data"]["notificationAdded"]["title"]] = arrived
                elif message.get("type") in ("next", "error"):
                    self.errors.append(raw[:300])
        except websockets.ConnectionClosed:
            pass

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.connections), return_exceptions=True)


# --- publishing ---------------------------------------------------------------------------------

async def publish(db, organization_id: uuid.UUID, users: list[uuid.UUID], phase: str, events: int,
                  rate: float | None) -> dict[str, float]:
    """Commit `events` notifications (member i gets event i); returns title -> pre-COMMIT time."""
    from docgraph.events.publish import notify_users

    committed: dict[str, float] = {}
    started = time.perf_counter()
    for n in range(events):
        if rate:
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        title = f"{phase}-{n}"
        async with db.sessions() as session:
            await session.begin()
            await notify_users(session, organization_id, [users[n % len(users)]], "SHARED_WITH_YOU", title, "bench")
            committed[title] = time.perf_counter()
            await session.commit()
    return committed


async def wait_for_arrivals(subscribers: Subscribers, titles, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while any(t not in subscribers.arrivals for t in titles) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def phase_figures(subscribers: Subscribers, committed: dict[str, float], seconds: float) -> dict:
    latencies = [(subscribers.arrivals[t] - c) * 1000 for t, c in committed.items() if t in subscribers.arrivals]
    return {"events": len(committed), "delivered": len(latencies),
            "publish_rate_per_s": round(len(committed) / seconds, 1),
            "latency_ms": _percentiles(latencies)}


async def metric(address: str, name: str) -> float:
    async with httpx.AsyncClient() as client:
        for line in (await client.get(f"http://{address}/metrics")).text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return 0.0


# --- the run --------------------------------------------------------------------------------------

async def run(args) -> dict:
    import psutil

    from bench.dataset import server_url
    from docgraph.db import Database, async_url
    from docgraph.migrate import upgrade

    admin_url = server_url()
    name = f"docgraph_bench_notifications_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    server = db = subscribers = None
    try:
        await asyncio.to_thread(upgrade, async_url(url))
        organization_id, users = await build(url, args.subscribers)
        tokens = [mint_token(user, organization_id) for user in users]

        port = free_port()
        env = docgraph_env(url) | {"DOCGRAPH_RUN_WORKER": "false"}
        server = Process("notifications-server", [PYTHON, "-m", "uvicorn", "docgraph.app:create_app", "--factory",
                                                  "--host", "127.0.0.1", "--port", str(port),
                                                  "--ws", "websockets-sansio", "--log-level", "warning"],
                         env=env, port=port)
        server.start()
        server.wait_ready("/healthz")
        address = f"127.0.0.1:{port}"
        process = psutil.Process(server.proc.pid)
        rss_idle = process.memory_info().rss

        subscribers = Subscribers(address)
        opened = time.perf_counter()
        await subscribers.open(tokens)
        deadline = time.monotonic() + 60
        while await metric(address, "docgraph_live_subscribers") < args.subscribers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        held = int(await metric(address, "docgraph_live_subscribers"))
        connect_seconds = time.perf_counter() - opened
        rss_held = process.memory_info().rss
        console.print(f"{held} subscriptions held by one process (connected in {connect_seconds:.1f} s)")

        db = Database(async_url(url), pool_size=2)
        # Warm-up, not measured: the server's pool connections, prepared statements, code paths.
        warmup = await publish(db, organization_id, users, "warmup", min(100, args.events), args.rate)
        await wait_for_arrivals(subscribers, warmup)
        phases = {}
        for phase, rate in (("paced", args.rate), ("burst", None)):
            cpu_before = process.cpu_times()
            started = time.perf_counter()
            committed = await publish(db, organization_id, users, phase, args.events, rate)
            seconds = time.perf_counter() - started
            await wait_for_arrivals(subscribers, committed)
            cpu_after = process.cpu_times()
            phases[phase] = phase_figures(subscribers, committed, seconds)
            phases[phase]["server_cpu_s"] = round((cpu_after.user + cpu_after.system)
                                                  - (cpu_before.user + cpu_before.system), 2)
            console.print(f"{phase}: {phases[phase]}")

        p99s = [p["latency_ms"].get("p99", float("inf")) for p in phases.values()]
        return {
            "subscribers": args.subscribers, "held_by_one_process": held,
            "connect_seconds": round(connect_seconds, 1),
            "server_rss_mb": {"idle": round(rss_idle / 2**20, 1), "holding": round(rss_held / 2**20, 1),
                              "per_subscriber_kb": round((rss_held - rss_idle) / max(held, 1) / 1024, 1)},
            "paced_rate_per_s": args.rate,
            "phases": phases,
            "errors": subscribers.errors[:5],
            "goal": f"all subscribers held, every event delivered, p99 < {GOAL_P99_MS:.0f} ms",
            "goal_met": bool(held == args.subscribers and not subscribers.errors
                             and all(p["delivered"] == p["events"] for p in phases.values())
                             and max(p99s) < GOAL_P99_MS),
        }
    finally:
        if subscribers is not None:
            await subscribers.close()
        if db is not None:
            await db.dispose()
        if server is not None:
            server.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 subscribers, 200 events")
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second in the paced phase")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("DOCGRAPH_BENCH_QUICK") == "1"
    args.subscribers = args.subscribers or (200 if quick else 1000)
    args.events = args.events or (200 if quick else 1000)
    result = asyncio.run(run(args))
    results_dir = Path(os.environ.get("DOCGRAPH_BENCH_RESULTS_DIR", RESULTS_DIR))
    write_result(results_dir, "notifications", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
