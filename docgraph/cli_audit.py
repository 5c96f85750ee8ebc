"""`docgraph audit verify|export`: check the audit log's hash chains, stream it out.

Like cli.py, each command imports what it needs when it runs (this module is imported by
every `docgraph serve` worker)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .config import settings_for

if TYPE_CHECKING:
    from .db import Database

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

DataDir = typer.Option(None, "--data-dir", help="Data directory (env DOCGRAPH_DATA_DIR).")
Organization = typer.Option(None, "--organization", help="Only this organization's chain (its UUID).")


def _database(data_dir: Path | None) -> Database:
    from .db import Database, resolve_database_url

    return Database(resolve_database_url(settings_for(data_dir)), pool_size=1)


def _organization(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"not a UUID: {value!r}", param_hint="--organization") from None


@app.command()
def verify(organization: str | None = Organization, data_dir: Path | None = DataDir) -> None:
    """Recompute every chain (or one organization's); name the first broken row, exit 1 if any."""
    from .services.audit_log import verify_chains

    organization_id = _organization(organization)

    async def run():
        db = _database(data_dir)
        try:
            return await verify_chains(db, organization_id)
        finally:
            await db.dispose()

    reports = asyncio.run(run())
    broken = 0
    for report in reports:
        name = f"organization {report.organization_id}" if report.organization_id else "no organization"
        if report.ok:
            typer.echo(f"ok      {name}: {report.rows} rows, head {report.head_hash or '-'}")
        else:
            broken += 1
            typer.echo(f"BROKEN  {name}: row {report.broken_row_id} (chain_seq {report.broken_chain_seq}): "
                       f"{report.problem}; {report.rows} rows before it verify")
    if not reports:
        typer.echo("the audit log is empty")
    if broken:
        raise typer.Exit(1)


@app.command()
def export(
    format: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
    organization: str | None = Organization,
    output: Path | None = typer.Option(None, "--output", help="Write here (default: stdout)."),
    data_dir: Path | None = DataDir,
) -> None:
    """Stream the log out, chain by chain, oldest first."""
    from .services.audit_log import EXPORT_FORMATS, export_lines

    if format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    organization_id = _organization(organization)

    async def run(target) -> int:
        db = _database(data_dir)
        rows = 0
        try:
            async for line in export_lines(db, format, organization_id):
                target.write(line)
                rows += 1
        finally:
            await db.dispose()
        return rows

    if output is None:
        asyncio.run(run(sys.stdout))
        return
    with output.open("w", encoding="utf-8", newline="") as target:
        lines = asyncio.run(run(target))
    typer.echo(f"wrote {lines - (format == 'csv')} rows to {output}", err=True)
