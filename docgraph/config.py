"""Settings: one object, read from the environment (prefix DOCGRAPH_) or `.env`."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .addresses import parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOCGRAPH_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # The plain DATABASE_URL is honoured too (docker, PaaS conventions).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DOCGRAPH_DATABASE_URL", "DATABASE_URL")
    )
    data_dir: Path = Path("./.docgraph")
    storage: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "docgraph"
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    # Where browsers reach S3 when it differs from the API's view (docker: http://localhost:9000).
    s3_public_endpoint_url: str | None = None
    # Server-side encryption of S3 objects: AES256 (SSE-S3), aws:kms, or "" for none (a server
    # that refuses SSE headers); a KMS key id implies aws:kms.
    s3_server_side_encryption: str = "AES256"
    s3_kms_key_id: str | None = None
    # PEM file of the certificate authorities trusted for an https S3 endpoint.
    s3_ca_bundle: str | None = None
    # Keys (32 bytes, hex or base64; comma-separated, newest first) that encrypt filesystem
    # objects at rest; absent: a keyring generated once into the data dir (storage_keys.json).
    storage_encryption_key: str | None = None
    # Signing keys for access tokens and file links (comma-separated, newest first); absent: a
    # keyring generated once into the data dir (signing_keys.json).
    secret_key: str | None = None
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    allow_introspection: bool = True
    graphiql: bool = True
    cors_origins: Annotated[list[str], NoDecode] = []
    # The HTTP edge (docgraph/http/edge.py), per server process. Connections in all (capped by
    # the process's file descriptor limit too) and per client address (trusted proxies exempt).
    max_connections: int = Field(default=2000, ge=1)
    max_connections_per_address: int = Field(default=100, ge=1)
    # Request line and headers; beyond: 431.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    # Seconds for a request's headers to arrive; a body gets body_timeout plus one second per
    # body_min_rate bytes received; beyond: 408. Idle kept-alive connections close after keep_alive_timeout.
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=20.0, gt=0)
    body_min_rate: int = Field(default=500, ge=1)
    keep_alive_timeout: float = Field(default=5.0, gt=0)
    # Websockets: seconds to send connection_init (else closed with 4408), and sockets one
    # client address may hold that have not sent it yet (more are refused at the handshake).
    ws_init_timeout: float = Field(default=5.0, gt=0)
    max_waiting_sockets_per_address: int = Field(default=10, ge=1)
    # Reverse proxies whose X-Forwarded-For/-Proto headers are believed: addresses or CIDR
    # networks, comma-separated. None by default: a client cannot choose its own address.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # Failed logins allowed per window, per account and per client address.
    login_max_failures: int = 5
    login_failure_window: int = 900
    db_pool_size: int = 10
    max_request_bytes: int = 1_000_000
    # GraphQL answers at least this long are compressed (zstd, brotli or gzip, as the client's
    # Accept-Encoding allows); shorter ones are not worth the CPU.
    compress_min_bytes: int = Field(default=1024, ge=0)
    # Files one multipart GraphQL request may carry (each is staged to storage with an fsync).
    max_upload_files: int = Field(default=10, ge=1)
    # Documents and storage. The per-document size limit and quota are organization settings
    # (see services/validation.py); these are the server-side knobs around them.
    # Absolute base URL of this API for the links it hands out (/files/..., /uploads/...);
    # absent: taken from each request (fine unless a proxy rewrites the host).
    public_url: str | None = None
    download_url_ttl: int = Field(default=300, ge=10)
    upload_session_ttl: int = Field(default=24 * 3600, ge=60)
    upload_part_size: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    # An upload session that received nothing for this long is abandoned: its parts are
    # reclaimed (and its reserved size given back) by the next sweep, before it expires.
    upload_idle_seconds: int = Field(default=3600, ge=60)
    # Open upload sessions (each reserving its size against the quota) per user, per organization.
    max_open_uploads_per_user: int = Field(default=20, ge=1)
    max_open_uploads_per_organization: int = Field(default=200, ge=1)
    # Unreferenced objects (and blob rows) younger than this are left alone by the orphan sweep:
    # they may belong to an upload that has not committed yet.
    upload_grace_seconds: int = Field(default=3600, ge=0)
    # Objects re-encrypted per worker job after a storage key rotation (events/storage_keys.py).
    storage_reencrypt_batch: int = Field(default=100, ge=1)
    # HTTPS: `serve` terminates TLS itself with this certificate chain and key (PEM files).
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # Strict-Transport-Security max-age sent on responses to requests that came over TLS (0: none).
    hsts_max_age: int = Field(default=31_536_000, ge=0)
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"
    # Live events and background work (docgraph/events).
    # Run the outbox worker inside each API process (`serve --no-worker` sets this false).
    run_worker: bool = True
    # The worker is woken by NOTIFY on docgraph_jobs; this polling interval is the fallback.
    worker_poll_seconds: float = Field(default=5.0, gt=0)
    # Events buffered per subscriber before it is cut off as too slow.
    subscriber_queue_size: int = Field(default=1000, ge=1)
    # How often the LISTEN connection is pinged, to notice a dead connection and reconnect.
    listener_ping_seconds: float = Field(default=15.0, gt=0)

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """A JSON list, or comma-separated values."""
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_for(data_dir: Path | None) -> Settings:
    """Settings with a --data-dir override, exported to the environment so that processes
    started from here (uvicorn workers) resolve the same."""
    if data_dir is not None:
        os.environ["DOCGRAPH_DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()
    return get_settings()
