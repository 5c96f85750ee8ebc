"""py-spy profiles of a running server under load, summarized: how busy its workers were, self
time per package and per frame, and the biggest subtrees."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from . import Process, run_load

RATE = 200  # samples per second


async def record(server: Process, body: dict[str, Any], headers: dict[str, str], results_dir: Path, name: str,
                 *, concurrency: int = 16, seconds: float = 15.0) -> dict[str, Any]:
    """py-spy on every worker of `server` while bench/load.py sends `body` at `concurrency`.
    py-spy leaves out the samples where a worker sleeps in a system call (waiting for I/O), so
    samples per second tell how busy the workers were. Writes <name>.folded and <name>.txt."""
    pyspy = Path(sys.executable).parent / "py-spy"
    if not pyspy.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True, timeout=300)
    results_dir.mkdir(parents=True, exist_ok=True)
    folded = results_dir / f"{name}.folded"
    parts = []
    recorders = []
    for worker in server.worker_pids():
        part = folded.with_suffix(f".{worker}.folded")
        parts.append(part)
        recorders.append(await asyncio.create_subprocess_exec(
            str(pyspy), "record", "--pid", str(worker), "--duration", str(int(seconds)), "--rate", str(RATE),
            "--format", "raw", "--output", str(part), "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))
    load = await run_load(server.url + "/graphql", body, concurrency=concurrency, duration=seconds, warmup=0.5,
                          headers=headers)
    errors = [(await r.communicate())[1] for r in recorders]
    if any(r.returncode != 0 for r in recorders):
        return {"status": "failed", "error": b" ".join(errors).decode()[-1000:]}
    folded.write_text("".join(part.read_text() for part in parts))
    for part in parts:
        part.unlink()
    summary = summarize_folded(folded, possible=RATE * int(seconds) * len(parts))
    (results_dir / f"{name}.txt").write_text(summary["text"])
    return {"status": "ok", "workers": len(parts), "load": load, "busy_percent": summary["busy_percent"],
            "self_by_package": summary["self_by_package"], "top_self": summary["top_self"],
            "top_inclusive": summary["top_inclusive"], "folded": str(folded)}


def summarize_folded(path: Path, possible: int, top: int = 25) -> dict[str, Any]:
    """Sample shares from py-spy's folded stacks: how busy the workers were (samples taken of
    `possible`), then self time per package and per frame and the biggest subtrees (inclusive
    time, the process's outermost frames left out). With uvloop the loop's own C code (reading
    sockets, running callbacks) shows as `Runner.run`."""
    self_frames: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit() or "always_pong" in stack:  # uvicorn's supervisor thread
            continue
        n = int(samples)
        raw = stack.split(";")
        frames = [_frame(f) for f in raw]
        total += n
        self_frames[frames[-1]] += n
        packages[_package(raw[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n

    def share(counter: Counter, limit: int = top, below: float = 101.0) -> list[dict[str, Any]]:
        rows = [{"frame": frame, "percent": round(100 * n / total, 1)} for frame, n in counter.most_common()]
        return [row for row in rows if row["percent"] < below][:limit]

    result = {"samples": total, "busy_percent": round(100 * total / possible, 1) if possible else None,
              "self_by_package": share(packages, 12), "top_self": share(self_frames),
              "top_inclusive": share(inclusive, 40, below=60.0)}
    lines = [f"py-spy samples: {total} of {possible} possible: the workers were on CPU "
             f"{result['busy_percent']} % of the time (on CPU or runnable; the rest: waiting for I/O).", "",
             "self % by package"]
    lines += [f"{row['percent']:6.1f}  {row['frame']}" for row in result["self_by_package"]]
    lines += ["", "self %  frame"] + [f"{row['percent']:6.1f}  {row['frame']}" for row in result["top_self"]]
    lines += ["", "inclusive %  frame (subtrees under 60 %)"]
    lines += [f"{row['percent']:6.1f}  {row['frame']}" for row in result["top_inclusive"]]
    result["text"] = "\n".join(lines) + "\n"
    return result


def _frame(frame: str) -> str:
    """'function (package/module.py:123)' → 'function (package/module.py)': lines of one function merge."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


def _package(frame: str) -> str:
    where = frame.partition(" (")[2]
    return where.split("/", 1)[0] if "/" in where else "other"
