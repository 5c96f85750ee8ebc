"""`docgraph serve --workers N`: every worker takes a share of new connections, also after the
supervisor replaced a worker that died."""

import os
import socket
import subprocess
import sys

import psutil
import pytest

from .live import ROOT, docgraph_serve, free_port, wait_for

WORKERS = 2
CONNECTIONS = 16


def _listening(port: int) -> int:
    return sum(1 for c in psutil.net_connections("tcp")
               if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port)


def _workers(server: subprocess.Popen) -> list[psutil.Process]:
    children = psutil.Process(server.pid).children()
    return [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]


def _open_connections(port: int) -> list[socket.socket]:
    """CONNECTIONS keep-alive connections opened together, each having had one answer."""
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(CONNECTIONS)]
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
    for connection in connections:
        assert connection.recv(4096).startswith(b"HTTP/1.1 200"), "a connection was not served"
    return connections


def _connections_per_worker(server: subprocess.Popen, port: int) -> list[int]:
    return [sum(1 for c in worker.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
            for worker in _workers(server)]


@pytest.fixture
def server(tmp_path, database_url):
    # Each worker listens on its own socket once it serves.
    with docgraph_serve(database_url, tmp_path, "--workers", str(WORKERS),
                        ready=lambda port: _listening(port) == WORKERS) as served:
        yield served


def test_connections_opened_together_are_spread_over_the_workers(server):
    process, port = server
    connections = _open_connections(port)
    try:
        shares = _connections_per_worker(process, port)
        assert sum(shares) == CONNECTIONS and min(shares) >= 1, shares
    finally:
        for connection in connections:
            connection.close()


def test_a_replaced_worker_serves_and_the_dead_one_leaves_no_socket_behind(server):
    process, port = server
    victim = _workers(process)[0]
    victim.kill()
    victim.wait(timeout=10)
    # The supervisor starts a replacement; the dead worker's socket must be gone, else the
    # kernel would queue connections on it that nobody accepts.
    wait_for(lambda: victim.pid not in [w.pid for w in _workers(process)] and _listening(port) == WORKERS
              and len(_workers(process)) == WORKERS, "a replacement worker")
    connections = _open_connections(port)
    try:
        assert _listening(port) == WORKERS
        shares = _connections_per_worker(process, port)
        assert sum(shares) == CONNECTIONS and min(shares) >= 1, shares
    finally:
        for connection in connections:
            connection.close()


def test_an_address_in_use_is_refused_before_any_worker_starts(tmp_path, database_url):
    """Even by a socket that allows port sharing, as a worker of an earlier server left running
    would hold: the new server must not quietly split the traffic with it."""
    port = free_port()
    with socket.socket() as earlier:
        earlier.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        earlier.bind(("127.0.0.1", port))
        earlier.listen()
        env = {**os.environ, "DOCGRAPH_DATABASE_URL": database_url, "DOCGRAPH_DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "docgraph.cli", "serve", "--port", str(port), "--workers", str(WORKERS),
             "--no-worker"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Address already in use" in result.stderr, result.stderr[-2000:]
