"""The scalars the API's types use beyond GraphQL's own, in one place."""

from __future__ import annotations

from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

__all__ = ["JSON", "Upload"]
