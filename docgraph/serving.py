"""Running the ASGI app under uvicorn, with one or several worker processes.

With several workers, uvicorn's supervisor hands every worker the same listening socket, and
each worker's event loop accepts every connection waiting when it wakes. Clients keep their
connections open (keep-alive, websockets), so a burst of new connections often lands on one
worker for good while the other idles: in the benchmark, with both workers serving, 16 clients
arriving together all went to one of the two in one run of six, at 60 % of the throughput of a
spread run (none did in six runs on sockets of their own).

So on systems with SO_REUSEPORT each worker listens on its own socket bound to the same
address, and the kernel spreads new connections over the workers' sockets (by a hash of the
connection's addresses). uvicorn's supervisor still starts, pings, restarts and stops the
workers; only the socket each one gets differs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from .config import get_settings
from .http import edge

logger = logging.getLogger("docgraph.serving")

APP = "docgraph.app:create_app"


def serve(*, host: str, port: int, workers: int, log_level: str, ssl_certfile: str | None = None,
          ssl_keyfile: str | None = None) -> None:
    """Serve the app on host:port until interrupted; over TLS (HTTPS and WSS) when given a
    certificate chain and its key (each worker loads them into its own SSL context)."""
    options: dict[str, Any] = {
        "factory": True, "host": host, "port": port, "workers": workers, "log_level": log_level,
        "ws": "websockets-sansio", "log_config": None, "ssl_certfile": ssl_certfile, "ssl_keyfile": ssl_keyfile,
        # The edge's protocol, timeouts and proxy handling: docgraph/http/edge.py.
        **edge.uvicorn_options(get_settings()),
    }
    if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        _run_workers_on_own_sockets(uvicorn.Config(APP, **options))
    else:
        uvicorn.run(APP, **options)


def _tcp_socket(host: str) -> socket.socket:
    return socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT, not yet listening (the worker's event
    loop listens on it)."""
    sock = _tcp_socket(host)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _WorkerWithOwnSocket(multiprocess.Process):
    """A uvicorn worker given a socket of its own. The supervisor's copy is closed once the
    worker has started: a socket left open here would keep listening after its worker died,
    and the kernel would go on queueing connections on it that nobody accepts."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self._socket = reuse_port_socket(config.host, config.port)
        super().__init__(config, [self._socket])

    def start(self) -> None:
        try:
            super().start()
        finally:
            self._socket.close()


def _claim_address(host: str, port: int) -> None:
    """Fail at once, before any worker starts, when something already listens on the address.
    The check binds without SO_REUSEPORT: workers of an earlier docgraph left running would
    otherwise share the port with the new ones, and quietly take part of the traffic."""
    with _tcp_socket(host) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _run_workers_on_own_sockets(config: uvicorn.Config) -> None:
    try:
        _claim_address(config.host, config.port)
    except OSError as error:
        logger.error("cannot serve on %s:%d: %s", config.host, config.port, error.strerror or error)
        sys.exit(STARTUP_FAILURE)
    # The supervisor creates every worker (at start, on a crash, on SIGHUP) through this name.
    multiprocess.Process = _WorkerWithOwnSocket  # type: ignore[misc]
    logger.info("serving on %s://%s:%d with %d workers, one socket each", "https" if config.is_ssl else "http",
                config.host, config.port, config.workers)
    with contextlib.suppress(KeyboardInterrupt):
        multiprocess.Multiprocess(config, sockets=[]).run()
