"""UNCHANGED: what a partial update passes for a field the client did not send.

None is a value (clear it, or back to the default); UNCHANGED means keep the current one.
"""

from __future__ import annotations

from typing import Final


class Unchanged:
    """The type of UNCHANGED; there is one instance."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged()
