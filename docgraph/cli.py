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
def migrate(data_dir: Path | None = DataDir) -> None:
    """Upgrade the database schema to the newest revision."""
    from .migrate import upgrade

    upgrade(_database_url(settings_for(data_dir)))
    typer.echo("database is up to date")


@app.command("export-schema")
def export_schema(path: Path | None = typer.Argument(None, help="Write the SDL here (default: stdout).")) -> None:
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
    data_dir: Path | None = DataDir,
    demo: bool = typer.Option(False, "--demo", help="Load demo data into an empty database."),
    workers: int = typer.Option(1, help="Number of uvicorn worker processes."),
    no_worker: bool = typer.Option(False, "--no-worker", help="Do not run the outbox worker in-process."),
    ssl_certfile: Path | None = typer.Option(
        None, "--ssl-certfile", help="Serve HTTPS/WSS with this PEM certificate chain (env DOCGRAPH_SSL_CERTFILE)."),
    ssl_keyfile: Path | None = typer.Option(
        None, "--ssl-keyfile", help="The private key of --ssl-certfile (env DOCGRAPH_SSL_KEYFILE)."),
) -> None:
    """Migrate, then serve the API (GraphiQL at /graphql)."""
    from .migrate import upgrade
    from .serving import serve as run_server

    settings = settings_for(data_dir)
    configure_logging(settings.log_level, settings.log_format)
    certfile, keyfile = ssl_certfile or settings.ssl_certfile, ssl_keyfile or settings.ssl_keyfile
    if bool(certfile) != bool(keyfile):
        typer.echo("give both a certificate (--ssl-certfile) and its key (--ssl-keyfile)", err=True)
        raise typer.Exit(2)
    url = _database_url(settings)
    upgrade(url)
    if demo:
        from .demo import seed_if_empty

        logins = asyncio.run(seed_if_empty(settings, url))
        _print_logins(logins)
    # Workers resolve the same settings; the embedded PostgreSQL is joined, not started twice.
    os.environ["DOCGRAPH_DATABASE_URL"] = url
    os.environ["DOCGRAPH_RUN_WORKER"] = "false" if no_worker else "true"
    typer.echo(f"docgraph serving on {'https' if certfile else 'http'}://{host}:{port}/graphql")
    run_server(host=host, port=port, workers=workers, log_level=settings.log_level.lower(),
               ssl_certfile=str(certfile) if certfile else None, ssl_keyfile=str(keyfile) if keyfile else None)


@app.command()
def worker(data_dir: Path | None = DataDir) -> None:
    """Run the outbox worker: claims background jobs until stopped."""
    from .events.worker import run_forever
    from .storage import storage_from_settings

    settings = settings_for(data_dir)
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_forever(settings, _database_url(settings), storage=storage_from_settings(settings)))


@app.command("seed-demo")
def seed_demo(data_dir: Path | None = DataDir) -> None:
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
    data_dir: Path | None = DataDir,
) -> None:
    """Create a super admin (or promote an existing user)."""
    from .demo import create_superadmin as create

    settings = settings_for(data_dir)
    url = _database_url(settings)
    asyncio.run(create(settings, url, email, password))
    typer.echo(f"super admin {email} ready")


@app.command("rotate-signing-key")
def rotate_signing_key(data_dir: Path | None = DataDir) -> None:
    """Sign with a new key from now on; tokens and links signed with the previous keys stay
    valid until they expire (keys older than anything they signed are dropped)."""
    from .auth.tokens import rotate_signing_key as rotate

    try:
        key = rotate(settings_for(data_dir))
    except ValueError as error:
        typer.echo(f"{error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"signing with key {key.id} from now on; earlier keys verify until what they signed expires")


@app.command("rotate-storage-key")
def rotate_storage_key(data_dir: Path | None = DataDir) -> None:
    """Encrypt new objects with a new key, and have the workers re-encrypt the existing ones in
    the background (reads go on throughout; `docgraph storage-keys` shows the progress)."""
    from .db import Database
    from .events.storage_keys import request_reencryption
    from .storage import rotate_storage_key as rotate
    from .storage import storage_keys

    settings = settings_for(data_dir)
    if settings.storage_encryption_key:
        typer.echo(f"STORAGE_ENCRYPTION_KEY is set: its first key ({storage_keys(settings).current.id}) "
                   "is the newest; to rotate, put a new key first in it on every process")
    else:
        typer.echo(f"encrypting with key {rotate(settings).id} from now on")

    async def request() -> None:
        db = Database(_database_url(settings), pool_size=1)
        try:
            await request_reencryption(db)
        finally:
            await db.dispose()

    asyncio.run(request())
    typer.echo("re-encryption of existing objects requested from the workers")


@app.command("storage-keys")
def list_storage_keys(
    data_dir: Path | None = DataDir,
    forget_unused: bool = typer.Option(False, "--forget-unused",
                                       help="Remove keys that no stored object needs any more."),
) -> None:
    """The storage encryption keys, newest first, and how many objects each one seals."""
    from .keyring import remove_keys
    from .storage import FilesystemStorage, storage_from_settings, storage_keys

    settings = settings_for(data_dir)
    storage = storage_from_settings(settings)
    if not isinstance(storage, FilesystemStorage):
        typer.echo("S3 objects are encrypted by the server (SSE); its keys rotate there")
        return
    usage = asyncio.run(storage.key_usage())
    keys = storage_keys(settings)
    for i, key in enumerate(keys.keys):
        typer.echo(f"{key.id}  {usage.pop(key.id, 0):>8} objects{'  (newest)' if i == 0 else ''}")
    for name, count in usage.items():
        typer.echo(f"{name:16}  {count:>8} objects")
    if forget_unused:
        if settings.storage_encryption_key or keys.path is None:
            typer.echo("STORAGE_ENCRYPTION_KEY is set: remove unused keys from it yourself", err=True)
            raise typer.Exit(1)
        if usage:
            typer.echo("objects not under a key of the keyring remain: nothing forgotten", err=True)
            raise typer.Exit(1)
        used = asyncio.run(storage.key_usage())
        kept = remove_keys(keys.path, {key.id for key in keys.keys if not used.get(key.id)})
        typer.echo(f"kept {len(kept)} key(s): {', '.join(key.id for key in kept)}")


def _print_logins(logins: list[tuple[str, str, str]] | None) -> None:
    if not logins:
        typer.echo("database already has data; demo not loaded")
        return
    typer.echo("demo logins (email / password / role):")
    for email, password, role in logins:
        typer.echo(f"  {email:32} {password:20} {role}")


if __name__ == "__main__":
    app()
