"""`make bench`: every benchmark in order, within a time budget, results in bench/results.

    python -m bench [--quick] [--regenerate] [--only NAME ...] [--profile] [--budget MINUTES]

Order: dataset, pages (items 1-2), permissions (3), search (4), uploads (5), notifications (6),
faults (SIGKILL under load: bench/faults.py).
Each step's JSON goes to bench/results/<name>.json (bench/results/quick/ with --quick) and the
table of figures and goals to RESULTS.md beside them. A step that fails or runs out of budget
is recorded as such and the run goes on. Items 5 and 6 are separate scripts (bench/uploads.py,
bench/notifications.py), run as subprocesses when present.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import BENCH_DIR, PYTHON, ROOT, Context, console
from .report import write_report

STEPS = ("pages", "permissions", "search", "uploads", "notifications", "faults")
# Result files each step writes (a failed step marks all of them failed).
OUTPUTS = {"pages": ("pages", "statements")}
PERMISSION_GOAL_MS = 10.0


# --- item 3 -----------------------------------------------------------------------------------------

async def permissions(ctx: Context, runs: int = 50) -> dict[str, Any]:
    """One batched evaluation of the dataset's 1,000 documents in depth-20 folders for the reader:
    database time (EXPLAIN ANALYZE planning + execution) and the statement's wall time from
    Python, p50/p95 over `runs` runs each. bench/permissions.py, when present, runs too."""
    from docgraph.db import Database, async_url
    from docgraph.permissions import DOCUMENT, Actor, evaluate
    from docgraph.permissions.evaluation import by_ids

    actor = Actor(uuid.UUID(ctx.info.reader_id), uuid.UUID(ctx.info.organization_id))
    keys = [(DOCUMENT, uuid.UUID(i)) for i in ctx.info.deep_document_ids]
    db = Database(async_url(ctx.info.database_url), pool_size=1)
    wall, planning, execution = [], [], []
    try:
        async with db.reading() as session:
            for _ in range(5):  # warm the cache and the connection's prepared statements
                await evaluate(session, actor, keys)
            for _ in range(runs):
                started = time.perf_counter()
                found = await evaluate(session, actor, keys)
                wall.append((time.perf_counter() - started) * 1000)
            statement, values = by_ids(actor, keys)
            compiled = statement.compile(dialect=db.engine.dialect)
            args = [values.get(name, compiled.params.get(name)) for name in compiled.positiontup]
            connection = await (await session.connection()).get_raw_connection()
            driver = connection.driver_connection
            # As the app runs it: a prepared statement that PostgreSQL plans as it chooses
            # (plan_cache_mode auto) and keeps; EXPLAIN EXECUTE reports that plan's own run.
            await driver.execute(f"PREPARE bench_evaluation AS {compiled}")
            execute = f"EXECUTE bench_evaluation({', '.join(_sql_literal(a) for a in args)})"
            for _ in range(6):
                await driver.execute(execute)
            for _ in range(runs):
                plan = await driver.fetchval("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + execute)
                plan = json.loads(plan) if isinstance(plan, str) else plan  # SQLAlchemy may decode json
                planning.append(plan[0].get("Planning Time", 0.0))
                execution.append(plan[0]["Execution Time"])
            await driver.execute("DEALLOCATE bench_evaluation")
    finally:
        await db.dispose()
    result = {
        "status": "ok", "resources": len(keys), "depth": 20, "runs": runs,
        "viewer": "reader@bench.example (EDITOR, step 5 decides)",
        "viewable": sum(1 for access in found.values() if access.can_view),
        "database_ms": _percentiles(execution), "planning_ms": _percentiles(planning),
        "wall_ms": _percentiles(wall), "goal_ms": PERMISSION_GOAL_MS,
        "goal_met": _percentiles(execution)["p95"] < PERMISSION_GOAL_MS,
        "method": "database_ms = EXPLAIN (ANALYZE, TIMING OFF) EXECUTE of the one evaluation statement, "
                  "prepared and warmed as the app's driver does (plan_cache_mode auto); planning_ms = what "
                  "that EXECUTE still planned; wall_ms = "
                  "docgraph.permissions.evaluate() round trip from Python (statement, execution, rows to Access)",
    }
    if (BENCH_DIR / "permissions.py").exists():
        result["bench_permissions"] = await permissions_script(ctx)
    return result


async def permissions_script(ctx: Context, timeout: float = 300) -> dict[str, Any]:
    """The permissions engineer's own benchmark (its own dataset of ~50,000 folders): run as it
    is and keep its printed report, with the figures it prints picked out."""
    proc = await asyncio.create_subprocess_exec(PYTHON, "-m", "bench.permissions", cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"status": "timed out", "timeout_s": timeout}
    text = out.decode(errors="replace")
    result: dict[str, Any] = {"status": "ok" if proc.returncode == 0 else "failed", "output": text.splitlines()}
    for label, key in (("database execution", "execution_ms"), ("evaluate() round trip", "wall_ms")):
        found = re.search(re.escape(label) + r"\s+p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms", text)
        if found:
            result[key] = {"p50": float(found[1]), "p95": float(found[2])}
    if proc.returncode != 0:
        result["stderr_tail"] = err.decode(errors="replace")[-1000:]
    return result


def _sql_literal(value: Any) -> str:
    """A bind value of the evaluation statement as SQL text (EXECUTE takes no parameters)."""
    if isinstance(value, list):
        return "'{" + ",".join(str(v) for v in value) + "}'::uuid[]"
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no literal for {value!r}")


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * q // 100) - 1))], 2)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "mean": round(statistics.fmean(ordered), 2)}


# --- items 5 and 6: other engineers' scripts --------------------------------------------------------

async def external(ctx: Context, name: str, timeout: float) -> dict[str, Any]:
    """Run `python -m bench.<name> [--quick]` and fold in the JSON it writes to
    <results dir>/<name>.json (or, failing that, the last JSON object it prints)."""
    if not (BENCH_DIR / f"{name}.py").exists():
        return {"status": "not available yet", "detail": f"bench/{name}.py does not exist"}
    candidates = [ctx.results_dir / f"{name}.json", BENCH_DIR / "results" / f"{name}.json"]
    started = time.time()
    env = dict(os.environ, DOCGRAPH_BENCH_RESULTS_DIR=str(ctx.results_dir),
               DOCGRAPH_BENCH_QUICK="1" if ctx.quick else "0", PYTHONUNBUFFERED="1")
    argv = [PYTHON, "-m", f"bench.{name}"] + (["--quick"] if ctx.quick else [])
    log_path = ctx.results_dir / f"{name}.log"
    ctx.results_dir.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=log, start_new_session=True)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            os.killpg(proc.pid, 9)
            await proc.wait()
            return {"status": "timed out", "timeout_s": timeout, "log": str(log_path)}
    for path in candidates:
        if path.exists() and path.stat().st_mtime >= started:
            data = json.loads(path.read_text())
            data.setdefault("status", "ok" if proc.returncode == 0 else "failed")
            return data
    parsed = _last_json(out.decode(errors="replace"))
    if parsed is not None:
        parsed.setdefault("status", "ok" if proc.returncode == 0 else "failed")
        return parsed
    return {"status": "failed", "exit_code": proc.returncode, "log": str(log_path),
            "stdout_tail": out.decode(errors="replace")[-1000:]}


def _last_json(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    found = None
    for index, char in enumerate(text):
        if char == "{":
            try:
                value, _ = decoder.raw_decode(text[index:])
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found = value
    return found


# --- the run ----------------------------------------------------------------------------------------

async def run_step(ctx: Context, name: str, remaining: float, with_profile: bool) -> dict[str, dict[str, Any]]:
    from . import pages, search

    if name == "pages":
        return await asyncio.wait_for(pages.run(ctx, with_profile=with_profile), remaining)
    if name == "permissions":
        return {"permissions": await asyncio.wait_for(permissions(ctx), remaining)}
    if name == "search":
        return {"search": await asyncio.wait_for(search.run(ctx), remaining)}
    ctx.stop_servers()  # uploads and notifications run their own servers: give them the cores
    return {name: await external(ctx, name, timeout=remaining)}


async def main_async(args) -> int:
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    deadline = started + args.budget * 60
    ctx = await Context.from_arguments(args)
    results: dict[str, dict[str, Any]] = {"dataset": {
        "status": "ok", "scale": ctx.info.scale, "counts": ctx.info.counts,
        "depth_histogram": ctx.info.depth_histogram, "generated_at": ctx.info.generated_at,
        "generation_seconds": ctx.info.generation_seconds,
    }}
    ctx.write("dataset", results["dataset"])
    steps = args.only or STEPS
    if "pages" in steps and not args.profile:  # an older profile would no longer match the figures
        for stale in ctx.results_dir.glob("profile*"):
            stale.unlink()
    async with ctx:
        for name in steps:
            remaining = deadline - time.monotonic()
            if remaining < 30:
                produced = {out: {"status": "skipped: out of time budget"} for out in OUTPUTS.get(name, (name,))}
            else:
                console.rule(f"[b]{name}")
                step_started = time.monotonic()
                load_before = os.getloadavg()[0]
                try:
                    produced = await run_step(ctx, name, remaining, args.profile)
                except TimeoutError:
                    produced = {out: {"status": "timed out", "budget_s": round(remaining)}
                                for out in OUTPUTS.get(name, (name,))}
                except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
                    traceback.print_exc()
                    produced = {out: {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000]}
                                for out in OUTPUTS.get(name, (name,))}
                for result in produced.values():
                    result.setdefault("elapsed_s", round(time.monotonic() - step_started, 1))
                    # Other work on the machine moves the figures: keep its trace with them.
                    result.setdefault("load_average_1m", [round(load_before, 2), round(os.getloadavg()[0], 2)])
            for result_name, result in produced.items():
                results[result_name] = result
                ctx.write(result_name, result)
    summary = {
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_seconds": round(time.monotonic() - started, 1), "quick": ctx.quick,
        "machine": {"cpus": os.cpu_count()},
    }
    ctx.write("summary", summary)
    report = write_report(ctx.results_dir, _load_all(ctx.results_dir), summary)
    print(report.read_text())
    console.print(f"results in {ctx.results_dir} ({summary['total_seconds']} s)")
    return 0


def _load_all(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Every result file of the directory (so `--only` refreshes its rows and keeps the rest)."""
    loaded = {}
    for path in sorted(results_dir.glob("*.json")):
        try:
            loaded[path.stem] = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="docgraph benchmarks")
    Context.add_arguments(parser)
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps")
    parser.add_argument("--profile", action="store_true", help="py-spy a docgraph worker during the page load")
    parser.add_argument("--budget", type=float, default=19.0, help="minutes for the whole run (default 19)")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
