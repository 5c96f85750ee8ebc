"""How input fields a client left out reach services: as UNCHANGED (keep the current value),
which is not None (null: clear it, or back to the default)."""

from __future__ import annotations

from typing import Any

import strawberry

from ..services.unchanged import UNCHANGED


def sent(value: Any) -> Any:
    """An input field's value; UNCHANGED when the client left it out."""
    return UNCHANGED if value is strawberry.UNSET else value
