"""Absolute, signed links to the app's own file endpoints (filesystem backend)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from ..auth.tokens import signing_keys
from ..config import Settings
from .signing import LinkSigner, link_signer

FILE_LINK = "file"
PART_LINK = "upload-part"


def signer(settings: Settings) -> LinkSigner:
    return link_signer(signing_keys(settings))


def base_url(settings: Settings, request: Any) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def file_url(settings: Settings, request: Any, version_id: uuid.UUID, *, ttl: int) -> str:
    """GET it within `ttl` seconds to download the version (Range supported)."""
    token = signer(settings).sign(FILE_LINK, {"v": str(version_id)}, expires_at=time.time() + ttl)
    return f"{base_url(settings, request)}/files/{token}"


def part_url(settings: Settings, request: Any, session_id: uuid.UUID, user_id: uuid.UUID, part_number: int,
             *, expires_at: datetime) -> str:
    """PUT one part of an upload session to it until the session expires."""
    token = signer(settings).sign(PART_LINK, {"s": str(session_id), "u": str(user_id)},
                                  expires_at=expires_at.timestamp())
    return f"{base_url(settings, request)}/uploads/{session_id}/parts/{part_number}?token={token}"
