"""A small HTTP/1.1 load generator, run as its own process so it never shares a core's event
loop with the server it measures.

    python -m bench.load URL --concurrency N (--duration S | --requests N) --body FILE \
        [--warmup S] [--header "Name: value"]...

N connections (keep-alive), each sending the POST body and reading the whole response before
the next request (closed loop). Only responses completing inside the measured window (after
the warmup, before the end) count. A response counts as an error unless it is 200 and its
JSON has no "errors" member. Prints one JSON object: requests, errors, seconds, rps, latency
percentiles in ms.

Written on asyncio streams (uvloop when present) rather than an HTTP client library: at 64
connections a client library's per-request overhead would take CPU from the server on a
2-core machine and blur the comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from urllib.parse import urlsplit


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def send(self) -> tuple[int, bytes]:
        if self.writer is None:
            await self._connect()
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            self.close()
            return status, body
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def build_request(url: str, body: bytes, headers: list[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json",
             "Accept: application/json", f"Content-Length: {len(body)}", *headers]
    return parts.hostname or "127.0.0.1", parts.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def is_ok(status: int, body: bytes) -> bool:
    return status == 200 and b'"errors"' not in body


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = math.ceil(q / 100 * len(sorted_values))  # nearest rank
    return sorted_values[min(len(sorted_values), max(1, rank)) - 1]


async def run(url: str, body: bytes, headers: list[str], concurrency: int, duration: float | None,
              requests: int | None, warmup: float) -> dict:
    """Counts the responses that COMPLETE inside the measured window (after the warmup, before
    the end), whenever their request started, as wrk does: under a long latency a window shorter
    than one request still sees completions. Requests in flight at the end finish unmeasured
    (so the server is idle again for whatever runs next)."""
    host, port, request = build_request(url, body, headers)
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    remaining = requests
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + duration if duration is not None else float("inf")
    finished = asyncio.Event()

    async def worker() -> None:
        nonlocal errors, first_error, remaining
        client = Client(host, port, request)
        try:
            while not finished.is_set() and time.perf_counter() < stop_at:
                begin = time.perf_counter()
                try:
                    status, response = await client.send()
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    client.close()
                    status, response = 0, repr(exc).encode()
                end = time.perf_counter()
                if not measure_from <= end <= stop_at or finished.is_set():
                    continue
                if is_ok(status, response):
                    latencies.append(end - begin)
                else:
                    errors += 1
                    if first_error is None:
                        first_error = f"{status}: {response[:500].decode(errors='replace')}"
                if remaining is not None:
                    remaining -= 1
                    if remaining <= 0:
                        finished.set()
        finally:
            client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    window_end = min(stop_at, time.perf_counter())
    seconds = window_end - measure_from
    latencies.sort()
    ms = [value * 1000 for value in latencies]

    def pct(q: float) -> float | None:
        return round(percentile(ms, q), 2) if ms else None

    return {
        "url": url, "concurrency": concurrency, "requests": len(latencies), "errors": errors,
        "first_error": first_error, "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 2) if seconds > 0 else 0.0,
        "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        "max_ms": round(ms[-1], 2) if ms else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="closed-loop HTTP POST load generator")
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, help="measured seconds (after the warmup)")
    parser.add_argument("--requests", type=int, help="measured requests (after the warmup)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not measured")
    parser.add_argument("--body", required=True, help="file with the JSON request body")
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    args = parser.parse_args(argv)
    if args.duration is None and args.requests is None:
        parser.error("give --duration or --requests")
    try:
        from uvloop import run as run_loop
    except ImportError:
        run_loop = asyncio.run
    with open(args.body, "rb") as fh:
        body = fh.read()
    result = run_loop(run(args.url, body, args.header, args.concurrency, args.duration, args.requests,
                             args.warmup))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
