"""bench/results/RESULTS.md: the table of figures, ratios and goals from the result JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The goals (a script may state its own threshold; the table holds to these).
NOTIFICATION_GOAL_MS = 100.0
UPLOAD_GOAL_RATIO = 0.5
UPLOAD_GOAL_RSS_MB = 64


def _goal(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**not met**")


def _ms(stats: dict[str, Any]) -> str:
    return " / ".join("—" if stats.get(k) is None else f"{stats[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms"))


def _cpu(stats: dict[str, Any]) -> str:
    spent = stats["cpu_ms_per_request"]
    return " + ".join("—" if spent.get(k) is None else f"{spent[k]:.1f}" for k in ("server", "postgresql"))


def _status_row(number: str, title: str, result: dict[str, Any] | None) -> list[str]:
    status = (result or {}).get("status", "not run")
    detail = (result or {}).get("error") or (result or {}).get("detail") or ", ".join(
        (result or {}).get("missing_fields", []))
    return [f"| {number} | {title} | {status}{': ' + detail if detail else ''} | | | | |"]


def _pages(result: dict[str, Any] | None) -> list[str]:
    if not result or result.get("status") != "ok":
        return _status_row("1", "nested folder page", result)
    rows = []
    for c, ours in result["docgraph"].items():
        theirs = result["postgraphile"][c]
        ratio = result["ratio_rps"][c]
        rows.append(f"| 1 | folder page of {result['page_size']}, concurrency {c} | req/s | {ours['rps']:.1f} | "
                    f"PostGraphile {theirs['rps']:.1f} | {ratio:.2f} | ≥ {result['goal_ratio']}: "
                    f"{_goal(ratio >= result['goal_ratio'])} |")
        rows.append(f"| 1 | ″ | p50 / p95 / p99 ms | {_ms(ours)} | {_ms(theirs)} | | |")
        if "cpu_ms_per_request" in ours and "cpu_ms_per_request" in theirs:
            rows.append(f"| 1 | ″ | CPU ms per request: server + PostgreSQL | {_cpu(ours)} | {_cpu(theirs)} | | |")
    if floor := result.get("floor"):
        best = max(theirs["rps"] for theirs in result["postgraphile"].values())
        ceiling = 2 * floor["pages_per_second_per_core"] / best if best else None
        rows.append(f"| 1 | ″ floor: the page's GraphQL executed by Strawberry from memory, no I/O (bench/floor.py) | "
                    f"CPU ms per page | {floor['cpu_ms_per_page']:.2f} | 2 cores at most "
                    f"{2 * floor['pages_per_second_per_core']:.0f} req/s | ≤ {ceiling:.2f} | |")
    return rows


def _statements(result: dict[str, Any] | None) -> list[str]:
    if not result or result.get("status") != "ok":
        return _status_row("2", "SQL statements per request", result)
    sizes = result["page_sizes"]
    counts = " / ".join(str(v["statements"]) for v in sizes.values())
    rows = [f"| 2 | SQL statements per folder-page request | page size {' / '.join(sizes)} | {counts} | "
            f"constant | | {_goal(result['constant'])} |"]
    if all("round_trips" in v for v in sizes.values()):
        trips = " / ".join(str(v["round_trips"]) for v in sizes.values())
        sessions = " / ".join(str(v["sessions"]) for v in sizes.values())
        rows.append("| 2 | ″ database round trips (statements + what asyncpg sends around them: "
                    "BEGIN/COMMIT/ROLLBACK, pool pings), sessions | "
                    f"page size {' / '.join(sizes)} | {trips}; sessions {sessions} | | | |")
    for key, value in result.items():
        if key.startswith("database_ms_page_of_") and isinstance(value, dict):
            rows.append(f"| 2 | ″ PostgreSQL time of one page of {key.rsplit('_', 1)[1]} (its {value['statements']} "
                        f"statements re-run under EXPLAIN ANALYZE) | ms execution + planning | "
                        f"{value['execution']} + {value['planning']} | | | |")
    return rows


def _permissions(result: dict[str, Any] | None) -> list[str]:
    if not result or result.get("status") != "ok":
        return _status_row("3", "batched permission check", result)
    db, wall = result["database_ms"], result["wall_ms"]
    return [
        f"| 3 | one permission check of {result['resources']:,} documents at depth {result['depth']} | "
        f"database ms p50 / p95 | {db['p50']:.1f} / {db['p95']:.1f} | < {result['goal_ms']:.0f} ms p95 | | "
        f"{_goal(result['goal_met'])} |",
        f"| 3 | ″ (evaluate() round trip from Python) | wall ms p50 / p95 | {wall['p50']:.1f} / {wall['p95']:.1f} "
        f"| | | |",
    ]


def _search(result: dict[str, Any] | None) -> list[str]:
    if not result or result.get("status") != "ok":
        return _status_row("4", "search page of 100", result)
    rows = []
    for name, stats in result["runs"].items():
        total = f" (totalCount {stats['total_count']:,})" if "total_count" in stats else ""
        rows.append(f"| 4 | search page of {result['page_size']}, tag + metadata, over {result['documents']:,} "
                    f"documents, as {name}{total} | p50 / p95 / p99 ms | {_ms(stats)} | | | |")
    return rows


def _external(number: str, title: str, result: dict[str, Any] | None) -> list[str]:
    """Items 5 and 6 come from other scripts: show their status, their scalar figures and any
    goal they report."""
    if not result or result.get("status") not in ("ok", None):
        return _status_row(number, title, result)
    figures = _flatten(result)
    shown = [f"{k} = {v}" for k, v in figures if not k.endswith("status") and not k.endswith("elapsed_s")][:14]
    goals = [v for k, v in figures if k.endswith("goal_met") and isinstance(v, bool)]
    met = all(goals) if goals else None
    return [f"| {number} | {title} | figures | {'<br>'.join(shown)} | | | {_goal(met)} |"]


def _uploads(result: dict[str, Any] | None) -> list[str]:
    """bench/uploads.py's shape: backends → runs per size (API vs direct write, RSS growth)."""
    backends = (result or {}).get("backends")
    if not isinstance(backends, dict) or not backends:
        return _external("5", "upload through /graphql multipart", result)
    rows = []
    for backend, figures in backends.items():
        for run in figures.get("runs", []):
            ratio, growth = run.get("throughput_ratio"), run.get("server_rss_peak_growth_mb")
            size = f"{run.get('size_mib', '?')} MiB"
            rows.append(f"| 5 | upload {size} through /graphql multipart ({backend}) | MiB/s: API vs direct write | "
                        f"{run.get('api_mib_per_s')} | direct {run.get('direct_mib_per_s')} | {ratio} | "
                        f"≥ {UPLOAD_GOAL_RATIO}: {_goal(ratio is not None and ratio >= UPLOAD_GOAL_RATIO)} |")
            rows.append(f"| 5 | ″ server peak RSS growth | MiB | {growth} | < {UPLOAD_GOAL_RSS_MB} MiB | | "
                        f"{_goal(growth is not None and growth < UPLOAD_GOAL_RSS_MB)} |")
    return rows


def _notifications(result: dict[str, Any] | None) -> list[str]:
    """bench/notifications.py's shape: phases (paced, burst) with latency_ms percentiles."""
    phases = (result or {}).get("phases")
    if not isinstance(phases, dict) or not phases:
        return _external("6", "notification latency commit → websocket frame", result)
    rows = []
    for phase, figures in phases.items():
        latency = figures.get("latency_ms", {})
        p99 = latency.get("p99")
        rows.append(
            f"| 6 | notification latency commit → websocket frame, {result.get('subscribers', '?')} subscribers, "
            f"{phase} ({figures.get('delivered', '?')}/{figures.get('events', '?')} delivered) | p50 / p99 ms | "
            f"{latency.get('p50', '?')} / {p99} | p99 < {NOTIFICATION_GOAL_MS:.0f} ms | | "
            f"{_goal(p99 is not None and p99 < NOTIFICATION_GOAL_MS)} |")
    return rows


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            out += _flatten(value, f"{prefix}{key}.")
        return out
    if isinstance(data, (int, float, bool, str)) and not (isinstance(data, str) and len(data) > 60):
        return [(prefix.rstrip("."), data)]
    return []


def _profile(result: dict[str, Any] | None) -> list[str]:
    if not result or result.get("status") != "ok":
        return []
    load = result.get("load", {})
    lines = ["", "### Profile: both docgraph workers under the page load (py-spy, concurrency 16)", "",
             f"{load.get('rps', '?')} req/s during the recording; workers on CPU "
             f"{result.get('busy_percent', '?')} % of the time. Full listing: profile-page.txt.", "",
             "| self % by package | |", "|---:|---|"]
    lines += [f"| {row['percent']} | {row['frame']} |" for row in result.get("self_by_package", [])[:8]]
    lines += ["", "| self % | frame |", "|---:|---|"]
    lines += [f"| {row['percent']} | `{row['frame']}` |" for row in result["top_self"][:12]]
    return lines


def write_report(results_dir: Path, results: dict[str, dict[str, Any]], summary: dict[str, Any]) -> Path:
    dataset = results.get("dataset", {})
    counts = dataset.get("counts", {})
    head = [
        f"# docgraph benchmarks ({dataset.get('scale', '?')} dataset)", "",
        f"{summary.get('finished_at', '')}; {summary.get('machine', {}).get('cpus', '?')} cores; whole run "
        f"{summary.get('total_seconds', '?')} s. Dataset: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ".",
        "2 docgraph uvicorn workers (`docgraph serve --workers 2 --no-worker`) and 2 PostGraphile v4 node workers "
        "on the same database; load from a separate process (bench/load.py) on loopback.", "",
        "| # | benchmark | measure | docgraph | anchor / goal | ratio | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = (_pages(results.get("pages")) + _statements(results.get("statements"))
            + _permissions(results.get("permissions")) + _search(results.get("search"))
            + _uploads(results.get("uploads"))
            + _notifications(results.get("notifications")))
    notes = ["", "PostGraphile evaluates no permissions: its page is unchecked; docgraph's page is fully "
                 "access-checked (folder, ancestors and documents visibility, myPermissions)."]
    loads = {name: result["load_average_1m"] for name, result in results.items()
             if isinstance(result, dict) and result.get("load_average_1m")}
    if loads:
        notes += ["", "1-minute load average at the start / end of each step (2 cores; above ~2.5 something "
                      "else was competing for the CPU): "
                  + ", ".join(f"{name} {before} / {after}" for name, (before, after) in loads.items()) + "."]
    started = summary.get("started_at", "")
    earlier = sorted(name for name, result in results.items()
                     if isinstance(result, dict) and name not in ("summary", "dataset")
                     and result.get("measured_at", started) < started)
    if earlier:
        notes += ["", "Not measured in this run (kept from an earlier one): " + ", ".join(
            f"{name} ({results[name]['measured_at']})" for name in earlier) + "."]
    path = results_dir / "RESULTS.md"
    path.write_text("\n".join(head + rows + notes + _profile(results.get("profile"))) + "\n")
    return path
