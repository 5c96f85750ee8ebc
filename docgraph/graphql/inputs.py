"""Inputs several domains share, and how input fields a client left out reach services: as
UNCHANGED (keep the current value), which is not None (null: clear it, or back to the default)."""

from __future__ import annotations

from typing import Any

import strawberry

from ..services.unchanged import UNCHANGED


@strawberry.input(description="Something in the trash to bring back.")
class RestoreInput:
    id: strawberry.ID = strawberry.field(
        description="The deleted folder or document (its ID, as the trash lists it); what one deletion hid "
                    "comes back together.")


def sent(value: Any) -> Any:
    """An input field's value; UNCHANGED when the client left it out."""
    return UNCHANGED if value is strawberry.UNSET else value
