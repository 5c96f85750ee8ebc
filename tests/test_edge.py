"""The HTTP edge of a real `docgraph serve` (issue 18 #2): header size, header and body read
timeouts, caps on connections in all and per client address, measured in answers, closed
sockets and the server's memory, with small limits so the clients stay bounded."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import psutil
import pytest

from .live import docgraph_serve

MiB = 1024 * 1024


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _answer(sock: socket.socket) -> tuple[int | None, dict | None]:
    """(status, JSON body) of what the server sent before closing; (None, None) for nothing."""
    data = b""
    sock.settimeout(5)
    with contextlib.suppress(ConnectionResetError, socket.timeout):
        while chunk := sock.recv(65536):
            data += chunk
    if not data:
        return None, None
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body.startswith(b"{") else None


def _rss(process) -> int:
    return sum(p.memory_info().rss for p in [psutil.Process(process.pid), *psutil.Process(process.pid).children()])


def _established(process, port: int) -> int:
    workers = [psutil.Process(process.pid), *psutil.Process(process.pid).children()]
    return sum(1 for w in workers for c in w.net_connections("tcp")
               if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)


@pytest.fixture
def serve(tmp_path, database_url):
    def start(**settings):
        env = {f"DOCGRAPH_{name.upper()}": str(value) for name, value in settings.items()}
        return docgraph_serve(database_url, tmp_path, env=env)

    return start


def test_huge_headers_get_431_and_hold_no_memory(serve):
    """Four clients each sending a 20 MB header line (100 MB lines grew RSS by 386 MB)."""
    with serve(max_header_bytes=16 * 1024) as (process, port):
        before = _rss(process)
        clients = [_connect(port) for _ in range(4)]
        sent = []
        for sock in clients:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            total = 0
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(20 * MiB // (64 * 1024)):
                    sock.sendall(b"a" * 64 * 1024)
                    total += 64 * 1024
            sent.append(total)
        answers = [_answer(sock) for sock in clients]
        grown = _rss(process) - before
        for sock in clients:
            sock.close()
    assert [(status, body["errors"][0]["extensions"]["code"]) for status, body in answers] == \
        [(431, "BAD_USER_INPUT")] * 4
    assert max(sent) < 20 * MiB, "the server read a whole 20 MB header"
    assert grown < 16 * MiB, f"RSS grew {grown / MiB:.1f} MiB"


def test_headers_that_trickle_get_408_and_silent_sockets_are_closed(serve):
    with serve(header_timeout=1) as (_, port):
        trickling, silent = _connect(port), _connect(port)
        trickling.sendall(b"GET /healthz HTTP/1.1\r\n")
        bytes_sent, started = 0, time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < 6:  # one byte every 0.2 s, as slowloris does
                trickling.sendall(b"x")
                bytes_sent += 1
                time.sleep(0.2)
        status, body = _answer(trickling)
        assert (status, body["errors"][0]["extensions"]["code"]) == (408, "BAD_USER_INPUT")
        assert bytes_sent < 15
        assert _answer(silent) == (None, None)  # closed, nothing owed
        assert time.monotonic() - started < 8


def test_a_body_that_trickles_gets_408(serve):
    with serve(body_timeout=1, body_min_rate=100) as (_, port):
        sock = _connect(port)
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n")
        bytes_sent, started = 0, time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < 6:  # one byte a second: far under 100 bytes/s
                sock.sendall(b" ")
                bytes_sent += 1
                time.sleep(0.5)
        status, _ = _answer(sock)
        assert status == 408 and bytes_sent < 8


def test_a_body_at_pace_is_taken_whole(serve):
    with serve(body_timeout=1, body_min_rate=1000) as (_, port):
        sock = _connect(port)
        body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 6000}}).encode()
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        for start in range(0, len(body), 2000):  # 2,000 bytes a second, over 3 s
            sock.sendall(body[start:start + 2000])
            time.sleep(1)
        status, answer = _answer(sock)
        assert (status, answer["data"]) == (200, {"__typename": "Query"})


def test_connections_are_capped_per_address_and_in_all(serve):
    with serve(max_connections_per_address=10, header_timeout=30) as (process, port):
        held = [_connect(port) for _ in range(25)]
        time.sleep(0.5)
        assert _established(process, port) == 10
        refused = [_answer(sock)[0] for sock in held[10:]]
        assert refused == [429] * 15
        for sock in held:
            sock.close()
    with serve(max_connections=12, trusted_proxies="127.0.0.1", header_timeout=30) as (_, port):
        held = [_connect(port) for _ in range(20)]  # a trusted proxy has no per-address cap
        time.sleep(0.5)
        assert [_answer(sock)[0] for sock in held[12:]] == [503] * 8
        for sock in held:
            sock.close()


def test_closed_connections_and_websockets_give_their_place_back(serve):
    with serve(max_connections_per_address=3) as (_, port):
        for _ in range(3):  # more connections than the cap, one after the other
            socks = [_connect(port) for _ in range(3)]
            for sock in socks:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert _answer(sock)[0] == 200
                sock.close()
        upgrade = (b"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n")
        for _ in range(2):
            sockets = [_connect(port) for _ in range(3)]
            for sock in sockets:
                sock.sendall(upgrade)
                assert sock.recv(4096).startswith(b"HTTP/1.1 101")
            for sock in sockets:
                sock.close()
            time.sleep(0.5)
        last = _connect(port)
        last.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _answer(last)[0] == 200


def test_idle_keep_alive_connections_are_closed(serve):
    with serve(keep_alive_timeout=1) as (_, port):
        sock = _connect(port)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert sock.recv(4096) == b""
        assert time.monotonic() - started < 3
