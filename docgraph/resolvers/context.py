"""The per-request context: who is asking, the database, storage and per-request loaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from strawberry.types import Info as StrawberryInfo

from ..auth.principal import ClientInfo, Principal
from ..auth.tokens import TokenSigner
from ..config import Settings
from ..db import Database
from ..errors import DocgraphError, Unauthenticated


@dataclass
class Services:
    """Process-wide objects the app builds once (see app.py)."""

    settings: Settings
    db: Database
    signer: TokenSigner
    storage: Any = None
    broker: Any = None


@dataclass
class Context:
    services: Services
    request: Any
    response: Any
    client: ClientInfo
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    principal_or_none: Principal | None = None
    auth_error: DocgraphError | None = None
    # Filled by strawberry's websocket handler from the `connection_init` payload.
    connection_params: dict | None = None

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def principal(self) -> Principal:
        """The signed-in principal; UNAUTHENTICATED when there is none or its token is bad."""
        if self.principal_or_none is None:
            raise self.auth_error or Unauthenticated()
        return self.principal_or_none

    @cached_property
    def loaders(self):
        from .loaders import Loaders

        return Loaders(self)

    def reset_loaders(self) -> None:
        """Forget the loaders and their caches. A websocket connection keeps one context for
        its whole life, so subscriptions call this before each event: the event is resolved
        with what the database says now, not what it said at the first event."""
        self.__dict__.pop("loaders", None)


Info = StrawberryInfo[Context, None]
