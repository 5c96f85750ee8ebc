"""The `docgraph` command (typer).

Each command imports what it needs when it runs, not at the top: `docgraph serve` starts its
uvicorn workers with multiprocessing's spawn, which imports this module first in every worker,
and a worker must answer its supervisor's ping within 5 s (a worker still importing the whole
application is killed and replaced, over and over, on a loaded machine). `--help` stays fast.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Optional

import typer

from .cli_audit import app as audit_app
from .config import Settings, settings_for
from .logs import configure_logging

app = typer.Typer(help="docgraph: a document management system served as a GraphQL API.",
                  no_args_is_help=True, add_completion=False)

DataDir = typer.Option(None, "--data-dir", help="Data directory (env DOCGRAPH_DATA_DIR).")
app.add_typer(audit_app, name="audit")


def _database_url(settings: Settings) -> str:
    from .db import resolve_database_url

    return resolve_database_url(settings)


@app.command()
def migrate(data_dir: Optional[Path] = DataDir) -> None:
    """Upgrade the database schema to the newest revision."""
    from .migrate import upgrade

    upgrade(_database_url(settings_for(data_dir)))
    typer.echo("database is up to date")


@app.command("export-schema")
def export_schema(path: Optional[Path] = typer.Argument(None, help="Write the SDL here (default: stdout).")) -> None:
    """Print or write the GraphQL schema (SDL)."""
    from .graphql.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if path is None:
        typer.echo(sdl, nl=False)
    else:
        path.write_text(sdl)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    data_dir: Optional[Path] = DataDir,
    demo: bool = typer.Option(False, "--demo", help="Load demo data into an empty database."),
    workers: int = typer.Option(1, help="Number of uvicorn worker processes."),
    no_worker: bool = typer.Option(False, "--no-worker", help="Do not run the outbox worker in-process."),
) -> None:
    """Migrate, then serve the API (GraphiQL at /graphql)."""
    from .migrate import upgrade
    from .serving import serve as run_server

    settings = settings_for(data_dir)
    configure_logging(settings.log_level, settings.log_format)
    url = _database_url(settings)
    upgrade(url)
    if demo:
        from .demo import seed_if_empty

        logins = asyncio.run(seed_if_empty(settings, url))
        _print_logins(logins)
    # Workers resolve the same settings; the embedded PostgreSQL is joined, not started twice.
    os.environ["DOCGRAPH_DATABASE_URL"] = url
    os.environ["DOCGRAPH_RUN_WORKER"] = "false" if no_worker else "true"
    typer.echo(f"docgraph serving on http://{host}:{port}/graphql")
    run_server(host=host, port=port, workers=workers, log_level=settings.log_level.lower())


@app.command()
def worker(data_dir: Optional[Path] = DataDir) -> None:
    """Run the outbox worker: claims background jobs until stopped."""
    from .events.worker import run_forever
    from .storage import storage_from_settings

    settings = settings_for(data_dir)
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_forever(settings, _database_url(settings), storage=storage_from_settings(settings)))


@app.command("seed-demo")
def seed_demo(data_dir: Optional[Path] = DataDir) -> None:
    """Load the demo organization (only into an empty database)."""
    from .demo import seed_if_empty
    from .migrate import upgrade

    settings = settings_for(data_dir)
    url = _database_url(settings)
    upgrade(url)
    logins = asyncio.run(seed_if_empty(settings, url))
    _print_logins(logins)


@app.command("create-superadmin")
def create_superadmin(
    email: str = typer.Option(..., "--email"),
    password: str = typer.Option(..., "--password"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Create a super admin (or promote an existing user)."""
    from .demo import create_superadmin as create

    settings = settings_for(data_dir)
    url = _database_url(settings)
    asyncio.run(create(settings, url, email, password))
    typer.echo(f"super admin {email} ready")


@app.command("rotate-signing-key")
def rotate_signing_key(data_dir: Optional[Path] = DataDir) -> None:
    """Sign with a new key from now on; tokens and links signed with the previous keys stay
    valid until they expire (keys older than anything they signed are dropped)."""
    from .auth.tokens import rotate_signing_key as rotate

    try:
        key = rotate(_settings(data_dir))
    except ValueError as error:
        typer.echo(f"{error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"signing with key {key.id} from now on; earlier keys verify until what they signed expires")


def _print_logins(logins: list[tuple[str, str, str]] | None) -> None:
    if not logins:
        typer.echo("database already has data; demo not loaded")
        return
    typer.echo("demo logins (email / password / role):")
    for email, password, role in logins:
        typer.echo(f"  {email:32} {password:20} {role}")


if __name__ == "__main__":
    app()
