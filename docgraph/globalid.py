"""Opaque global IDs: base64url("Type:uuid"). Parsing errors are the client's (BAD_USER_INPUT)."""

from __future__ import annotations

import base64
import binascii
import uuid

from .errors import BadInput


def encode(type_name: str, value: uuid.UUID) -> str:
    raw = f"{type_name}:{value}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, uuid.UUID]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw_uuid = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, uuid.UUID(raw_uuid)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput(f"Malformed ID: {global_id!r}") from None


def decode_as(global_id: str, *type_names: str) -> uuid.UUID:
    """The UUID inside an ID that must name one of `type_names`."""
    type_name, value = decode(global_id)
    if type_name not in type_names:
        expected = " or ".join(type_names)
        raise BadInput(f"ID {global_id!r} is a {type_name}, expected a {expected}")
    return value
