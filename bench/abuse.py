"""Abusive clients beside a normal reader (issue 18): does the reader keep its latency, does the
server keep its memory?

    python -m bench.abuse [--quick] [--duration S] [--only NAME ...] [--workers N]

One `docgraph serve` (1 worker by default, as the issue measured) on the bench dataset. First
the reader alone (a hot folder's first 20 documents, 4 keep-alive connections, bench/load.py in
its own process) for --duration seconds (30); then, for each abusive client of ABUSERS, the
same reader while that client runs for the same time. Reported per client: the reader's p95 and
its ratio to the quiet p95 (goal: at most 2), the reader's errors, the server's RSS growth
(largest sample, every 0.5 s, against its RSS before) and what the client saw (answers by
status, refusals). Every client is a bounded loop on loopback that stops at the deadline.

More clients (e.g. the query-cost ones) are added to ABUSERS: `async def name(target, until)`.
Writes <results>/abuse.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from . import Context, console, docgraph_server, mint_token, run_load

MiB = 1024 * 1024
READER_QUERY = """query($id: ID!) { node(id: $id) { ... on Folder { name
  documents(first: 20) { totalCount edges { node { name fileSize createdBy { email } } } } } } }"""


@dataclass
class Target:
    """The server under abuse and what the clients need to talk to it."""

    host: str
    port: int
    reader_token: str
    admin_token: str
    folder_id: str
    seen: Counter = field(default_factory=Counter)  # what the abusive client got back

    def note(self, what: Any) -> None:
        self.seen[str(what)] += 1


# The abusive clients connect from another loopback address than the reader (127.0.0.1), as they
# would from another machine: per-address limits tell them apart.
ABUSER_ADDRESS = "127.0.0.2"

Abuser = Callable[[Target, float], Awaitable[None]]
ABUSERS: dict[str, Abuser] = {}


def abuser(function: Abuser) -> Abuser:
    ABUSERS[function.__name__] = function
    return function


async def _connect(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(target.host, target.port, local_addr=(ABUSER_ADDRESS, 0))


async def _status(reader: asyncio.StreamReader, timeout: float = 30) -> str:
    """The status code the server answered, or how the connection ended."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (TimeoutError, ConnectionError) as exc:
        return type(exc).__name__
    return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"


async def _post(target: Target, body: bytes, *, content_type: str = "application/json",
                token: str | None = None, extra: str = "") -> str:
    reader, writer = await _connect(target)
    try:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        writer.write((f"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n{auth}{extra}"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
        await writer.drain()
        status = await _status(reader)
        answer = await asyncio.wait_for(reader.read(), 30)
        try:
            code = json.loads(answer.partition(b"\r\n\r\n")[2])["errors"][0]["extensions"]["code"]
        except (ValueError, KeyError, IndexError, TypeError):
            code = ""
        return f"{status} {code}".strip()
    except (ConnectionError, TimeoutError) as exc:
        return type(exc).__name__
    finally:
        writer.close()


async def _repeat(target: Target, until: float, concurrency: int, attempt: Callable[[], Awaitable[str]]) -> None:
    async def loop() -> None:
        while time.monotonic() < until:
            target.note(await attempt())

    await asyncio.gather(*(loop() for _ in range(concurrency)))


async def _hold(target: Target, until: float, connections: int, open_one: Callable[[], Awaitable[str]],
                start_gap: float = 0.002) -> None:
    """Keep `connections` abusive connections going until the deadline, reopening closed ones."""
    async def keep() -> None:
        while time.monotonic() < until:
            try:
                target.note(await open_one())
            except OSError as exc:
                target.note(type(exc).__name__)
                await asyncio.sleep(0.5)

    tasks = []
    for _ in range(connections):
        tasks.append(asyncio.create_task(keep()))
        await asyncio.sleep(start_gap)
    await asyncio.gather(*tasks)


# --- the abusive clients of issue 18 ------------------------------------------------------------

@abuser
async def huge_headers(target: Target, until: float) -> None:
    """#2: 4 connections each sending a 100 MB header line."""
    async def one() -> str:
        reader, writer = await _connect(target)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Big: ")
            chunk = b"a" * (64 * 1024)
            for _ in range(100 * MiB // len(chunk)):
                if time.monotonic() > until:
                    break
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            status = await _status(reader, 5)
            writer.close()
        return status

    await _hold(target, until, 4, one)


async def _trickle(target: Target, until: float, head: bytes, pace: float) -> str:
    reader, writer = await _connect(target)
    try:
        writer.write(head)
        while time.monotonic() < until:
            writer.write(b"x")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                data = await asyncio.wait_for(reader.read(1024), pace)
                if data or reader.at_eof():
                    return data.split()[1].decode() if data.startswith(b"HTTP/") else "closed"
        return "held to the end"
    except ConnectionError as exc:
        return type(exc).__name__
    finally:
        writer.close()


@abuser
async def slow_headers(target: Target, until: float) -> None:
    """#2: 200 connections sending their headers at 1 byte / 2 s."""
    await _hold(target, until, 200, lambda: _trickle(target, until, b"GET /healthz HTTP/1.1\r\n", 2.0))


@abuser
async def slow_bodies(target: Target, until: float) -> None:
    """#2: 200 connections sending a body at 1 byte / s."""
    head = (b"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n")
    await _hold(target, until, 200, lambda: _trickle(target, until, head, 1.0))


@abuser
async def idle_sockets(target: Target, until: float) -> None:
    """#2: as many idle connections as it can hold (at most 3,000 here)."""
    async def one() -> str:
        reader, writer = await _connect(target)
        try:
            return await _status(reader, max(until - time.monotonic(), 0.1))
        finally:
            writer.close()

    await _hold(target, until, 3_000, one, start_gap=0.001)


@abuser
async def hostile_tags(target: Target, until: float) -> None:
    """#4: searches with 40,000 tags (0.3 MB)."""
    body = json.dumps({"query": "query($t: [String!]) { search(filter: {tags: $t}) { totalCount } }",
                       "variables": {"t": [f"tag-{n}" for n in range(40_000)]}}).encode()
    await _repeat(target, until, 4, lambda: _post(target, body, token=target.reader_token))


@abuser
async def upload_sessions(target: Target, until: float) -> None:
    """#5: upload sessions of 19 MB each, as fast as they are accepted."""
    async def start() -> str:
        body = json.dumps({"query": """mutation($i: StartUploadInput!) { startUpload(input: $i) { id } }""",
                           "variables": {"i": {"folderId": target.folder_id, "fileName": f"{time.time_ns()}.pdf",
                                               "contentType": "application/pdf", "size": 19 * MiB}}}).encode()
        return await _post(target, body, token=target.admin_token)

    await _repeat(target, until, 4, start)


@abuser
async def garbage_refresh_tokens(target: Target, until: float) -> None:
    """#6: refreshToken with garbage, and wrong passwords, without a token."""
    refresh = json.dumps({"query": 'mutation { refreshToken(input: {refreshToken: "garbage"}) { accessToken } }'})
    login = json.dumps({"query": 'mutation { login(input: {email: "admin@bench.example", password: "wrong-guess"})'
                                 ' { accessToken } }'})
    await asyncio.gather(_repeat(target, until, 8, lambda: _post(target, refresh.encode())),
                         _repeat(target, until, 8, lambda: _post(target, login.encode())))


@abuser
async def deep_json(target: Target, until: float) -> None:
    """#8: JSON nested 1,000 levels deep, without a token."""
    body = b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 1000 + b"]" * 1000 + b"}}"
    await _repeat(target, until, 8, lambda: _post(target, body))


@abuser
async def websockets_without_init(target: Target, until: float) -> None:
    """#10: websockets that never send connection_init (at most 2,000 here)."""
    upgrade = (b"GET /graphql HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n")

    async def one() -> str:
        reader, writer = await _connect(target)
        try:
            writer.write(upgrade)
            status = await _status(reader, 5)
            if status == "101":
                with contextlib.suppress(TimeoutError, ConnectionError):
                    await asyncio.wait_for(reader.read(), max(until - time.monotonic(), 0.1))
            return status
        finally:
            writer.close()

    await _hold(target, until, 2_000, one, start_gap=0.001)


@abuser
async def multipart_parts(target: Target, until: float) -> None:
    """#12: one multipart request with 5,000 file parts."""
    boundary = "bench-boundary"
    operations = json.dumps({"query": "mutation($i: UploadDocumentInput!) { uploadDocument(input: $i) { document"
                                      " { id } } }", "variables": {"i": {"folderId": target.folder_id, "file": None},
                                                                   "more": [None] * 4999}})
    files_map = json.dumps({"0": ["variables.i.file"], **{str(n): [f"variables.more.{n - 1}"] for n in range(1, 5000)}})

    def field(name: str, content: str, file_name: str | None = None) -> str:
        disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
        return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{content}\r\n"

    body = (field("operations", operations) + field("map", files_map)
            + "".join(field(str(n), "%PDF-1.4 tiny", f"{n}.pdf") for n in range(5000)) + f"--{boundary}--\r\n").encode()
    await _repeat(target, until, 2, lambda: _post(
        target, body, token=target.admin_token, content_type=f"multipart/form-data; boundary={boundary}",
        extra="x-graphql-preflight: 1\r\n"))


# --- the run ----------------------------------------------------------------------------------

def _rss(server) -> int:
    total = 0
    for process in server.processes():
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


async def _phase(server, target: Target, ctx: Context, body: dict, duration: float,
                 client: Abuser | None) -> dict[str, Any]:
    before = _rss(server)
    peak = before
    until = time.monotonic() + duration + 4  # the reader's warmup (2 s) and some slack
    target.seen = Counter()
    load = asyncio.create_task(run_load(server.url + "/graphql", body, concurrency=4, duration=duration,
                                        warmup=2.0, headers={"Authorization": f"Bearer {ctx.reader_token()}"}))
    abuse = asyncio.create_task(client(target, until)) if client else None
    while not load.done():
        peak = max(peak, _rss(server))
        await asyncio.sleep(0.5)
    reader = load.result()
    if abuse is not None:
        abuse.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await abuse
    await asyncio.sleep(1)  # let the server close what the client left open
    return {"reader": reader, "rss_before_mib": round(before / MiB, 1),
            "rss_growth_mib": round((peak - before) / MiB, 1), "client_saw": dict(target.seen.most_common(6))}


async def main_async(args) -> int:
    from docgraph import globalid

    ctx = await Context.from_arguments(args)
    names = args.only or list(ABUSERS)
    results: dict[str, Any] = {"duration_s": args.duration, "workers": args.workers, "clients": {}}
    async with ctx:
        server = ctx.start(lambda: docgraph_server(ctx.info.database_url, workers=args.workers))
        folder = globalid.encode("Folder", ctx.info.hot_folder_ids[0])
        target = Target("127.0.0.1", server.port, ctx.reader_token(),
                        mint_token(ctx.info.admin_id, ctx.info.organization_id), folder)
        body = {"query": READER_QUERY, "variables": {"id": folder}}
        console.print(f"quiet reader, {args.duration:.0f} s")
        quiet = await _phase(server, target, ctx, body, args.duration, None)
        results["quiet"] = quiet
        quiet_p95 = quiet["reader"]["p95_ms"]
        for name in names:
            console.print(f"{name}: {ABUSERS[name].__doc__}")
            phase = await _phase(server, target, ctx, body, args.duration, ABUSERS[name])
            p95 = phase["reader"]["p95_ms"]
            phase["p95_ratio"] = round(p95 / quiet_p95, 2) if p95 and quiet_p95 else None
            results["clients"][name] = phase
            console.print(f"  reader p95 {p95} ms (x{phase['p95_ratio']}), errors {phase['reader']['errors']}, "
                          f"RSS +{phase['rss_growth_mib']} MiB, client saw {phase['client_saw']}")
    path = ctx.write("abuse", results)
    console.print(f"wrote {path}")
    print(json.dumps(results, indent=1))
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    Context.add_arguments(parser)
    parser.add_argument("--only", nargs="*", choices=sorted(ABUSERS), help="these clients only")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.set_defaults(duration=30.0)
    args = parser.parse_args()
    args.duration = args.duration or 30.0
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
