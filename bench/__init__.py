"""docgraph benchmarks (`make bench` = `python -m bench`); see bench/README.md.

This module is the small harness every benchmark shares: where data and results live, a
docgraph server run as a real subprocess (`docgraph serve --workers N --no-worker`), access
tokens minted with the server's key, and the load generator run as a separate process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = Path(os.environ.get("DOCGRAPH_BENCH_DATA_DIR", BENCH_DIR / ".data"))
RESULTS_DIR = BENCH_DIR / "results"
SECRET_KEY = "docgraph-bench-secret-key-" + "k" * 32
TOKEN_TTL = 7 * 24 * 3600
PYTHON = sys.executable

# pgserver asks platformdirs for a runtime dir, which warns when XDG_RUNTIME_DIR is unset.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

console = Console(stderr=True, highlight=False)


def write_result(results_dir: Path, name: str, data: dict[str, Any]) -> Path:
    from datetime import datetime

    data.setdefault("measured_at", datetime.now(UTC).isoformat(timespec="seconds"))
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    return path


def postgres_processes() -> list:
    """Every PostgreSQL process on this machine (the bench's server and its backends)."""
    import psutil

    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]


class CpuUse:
    """How many cores groups of processes kept busy, on average, while inside the block. Each
    group is a function listing its processes, called at both ends: a process started in
    between counts whole, one that ended in between is lost (servers keep theirs)."""

    def __init__(self, **groups) -> None:
        self.groups = groups
        self.cores: dict[str, float] = {}

    @staticmethod
    def _seconds(processes) -> dict[int, float]:
        import psutil

        spent = {}
        for process in processes:
            try:
                times = process.cpu_times()
                spent[process.pid] = times.user + times.system
            except psutil.Error:
                pass
        return spent

    def __enter__(self) -> CpuUse:
        self._started = time.monotonic()
        self._before = {name: self._seconds(listing()) for name, listing in self.groups.items()}
        return self

    def __exit__(self, *exc) -> None:
        elapsed = time.monotonic() - self._started
        for name, listing in self.groups.items():
            before = self._before[name]
            spent = sum(seconds - before.get(pid, 0.0) for pid, seconds in self._seconds(listing()).items())
            self.cores[name] = round(spent / elapsed, 3)

    def per_request_ms(self, requests_per_second: float) -> dict[str, float | None]:
        return {name: round(1000 * cores / requests_per_second, 2) if requests_per_second else None
                for name, cores in self.cores.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mint_token(user_id: str | uuid.UUID, organization_id: str | uuid.UUID) -> str:
    """An access token the bench server accepts (same key, a long TTL, a fresh session id)."""
    from docgraph.auth.tokens import TokenSigner

    signer = TokenSigner(SECRET_KEY, TOKEN_TTL)
    return signer.issue(uuid.UUID(str(user_id)), uuid.UUID(str(organization_id)), uuid.uuid4())


def docgraph_env(database_url: str) -> dict[str, str]:
    """The environment of a bench docgraph process: the dataset's database, a fixed key, files
    under bench/.data, quiet logs (no per-request access log, as PostGraphile has none)."""
    from docgraph.db import async_url

    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update({
        "DOCGRAPH_DATABASE_URL": async_url(database_url),
        "DOCGRAPH_SECRET_KEY": SECRET_KEY,
        "DOCGRAPH_ACCESS_TOKEN_TTL": str(TOKEN_TTL),
        "DOCGRAPH_DATA_DIR": str(DATA_DIR / "serve"),
        "DOCGRAPH_LOG_LEVEL": "WARNING",
        "DOCGRAPH_GRAPHIQL": "false",
    })
    return env


@dataclass
class Process:
    """A server subprocess in its own process group (so stopping it stops its workers)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    cwd: Path = ROOT
    log_path: Path | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path = self.log_path or DATA_DIR / f"{self.name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + self.log_tail())
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s; see {self.log_path}:\n" + self.log_tail())

    def wait_listening(self, sockets: int, timeout: float = 60.0) -> None:
        """Wait until `sockets` sockets listen on the port: docgraph's workers each listen on
        their own once started, and a load run that begins while one is still starting puts
        every keep-alive connection on the others for the whole run."""
        import psutil

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listening = [c for c in psutil.net_connections("tcp")
                         if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.port]
            if len(listening) >= sockets:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: fewer than {sockets} sockets listen after {timeout} s")

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def processes(self) -> list:
        """The server process and all its descendants."""
        import psutil

        if self.proc is None or self.proc.poll() is not None:
            return []
        parent = psutil.Process(self.proc.pid)
        return [parent, *parent.children(recursive=True)]

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the children of the server (or itself alone)."""
        import psutil

        if self.proc is None:
            return []
        parent = psutil.Process(self.proc.pid)
        children = [c.pid for c in parent.children(recursive=True)
                    if "multiprocessing.resource_tracker" not in " ".join(c.cmdline())]
        return children or [self.proc.pid]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def docgraph_server(database_url: str, *, workers: int = 2) -> Process:
    """`docgraph serve --workers N --no-worker` on a free port, started and ready."""
    port = free_port()
    server = Process(
        "docgraph", [str(Path(PYTHON).parent / "docgraph"), "serve", "--host", "127.0.0.1", "--port", str(port),
                     "--workers", str(workers), "--no-worker"],
        env=docgraph_env(database_url), port=port)
    server.start()
    server.wait_ready("/healthz")
    server.wait_listening(workers)
    return server


async def run_load(url: str, body: dict[str, Any], *, concurrency: int, duration: float | None = None,
                   requests: int | None = None, warmup: float = 2.0, headers: dict[str, str] | None = None,
                   timeout: float = 600.0) -> dict[str, Any]:
    """Run bench/load.py in a separate process against `url` and return its JSON stats."""
    body_path = DATA_DIR / f"body-{uuid.uuid4().hex[:8]}.json"
    body_path.write_text(json.dumps(body))
    argv = [PYTHON, "-m", "bench.load", url, "--concurrency", str(concurrency), "--body", str(body_path),
            "--warmup", str(warmup)]
    if duration is not None:
        argv += ["--duration", str(duration)]
    if requests is not None:
        argv += ["--requests", str(requests)]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    try:
        proc = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        body_path.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {err.decode()[-2000:]}")
    return json.loads(out)


class Context:
    """One benchmark run: the dataset, where results go, timings, and the servers it started
    (started on first use, all stopped when the run ends)."""

    def __init__(self, info, *, quick: bool, duration: float, warmup: float, results_dir: Path | None = None) -> None:
        self.info = info
        self.quick = quick
        self.duration = duration
        self.warmup = warmup
        self.results_dir = results_dir or (RESULTS_DIR / "quick" if quick else RESULTS_DIR)
        self._docgraph: Process | None = None
        self._started: list[Process] = []

    @staticmethod
    def add_arguments(parser) -> None:
        parser.add_argument("--quick", action="store_true", help="10x smaller dataset, shorter runs")
        parser.add_argument("--regenerate", action="store_true", help="rebuild the dataset first")
        parser.add_argument("--duration", type=float, help="measured seconds per load run (default 10, quick 3)")
        parser.add_argument("--warmup", type=float, help="unmeasured seconds before each load run (default 3, quick 1)")

    @classmethod
    async def from_arguments(cls, args) -> Context:
        from .dataset import FULL, QUICK, ensure

        info = await ensure(QUICK if args.quick else FULL, regenerate=args.regenerate)
        return cls(info, quick=args.quick,
                   duration=args.duration or (3.0 if args.quick else 10.0),
                   warmup=args.warmup or (1.0 if args.quick else 3.0))

    def start(self, factory) -> Process:
        process = factory()
        self._started.append(process)
        return process

    def docgraph(self) -> Process:
        """The 2-worker docgraph server on the dataset (one per run, shared by benchmarks)."""
        if self._docgraph is None or self._docgraph.proc.poll() is not None:
            self._docgraph = self.start(lambda: docgraph_server(self.info.database_url))
        return self._docgraph

    def reader_token(self) -> str:
        return mint_token(self.info.reader_id, self.info.organization_id)

    def admin_token(self) -> str:
        return mint_token(self.info.admin_id, self.info.organization_id)

    def write(self, name: str, data: dict[str, Any]) -> Path:
        return write_result(self.results_dir, name, data)

    def stop_servers(self) -> None:
        while self._started:
            self._started.pop().stop()
        self._docgraph = None

    async def __aenter__(self) -> Context:
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop_servers()
