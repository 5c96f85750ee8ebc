"""What one server process builds once and every request shares (see app.build_services)."""

from __future__ import annotations

from dataclasses import dataclass

from .auth.tokens import TokenSigner
from .config import Settings
from .db import Database
from .events.broker import Broker
from .storage import Storage


@dataclass
class Services:
    """Process-wide objects: settings, the database, the token signer, blob storage and the
    LISTEN/NOTIFY broker (started with the app's background tasks; None until then)."""

    settings: Settings
    db: Database
    signer: TokenSigner
    storage: Storage
    broker: Broker | None = None
