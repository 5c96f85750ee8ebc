"""Rules on document input: names, descriptions, tags, metadata, and the content policy
(allowed types checked against the file's magic bytes, size limit, quota) of an organization.

Pure functions: nothing here touches the database or storage.
"""

from __future__ import annotations

import codecs
import json
import mimetypes
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import puremagic

from ..errors import BadInput, PayloadTooLarge, UnsupportedMediaType
from .tenancy import clean_description

MiB = 1024 * 1024
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 500
MAX_COMMENT_LENGTH = 500
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 16

DEFAULT_MAX_DOCUMENT_SIZE = 500 * MiB
# Sizes travel as GraphQL `BigInt` (64-bit); the ceiling is the largest object S3 stores (5 TiB),
# whatever the settings say.
MAX_DOCUMENT_SIZE_CEILING = 5 * 2**40

# How much of a file the type check looks at: puremagic matches signatures within the first
# ~36 KiB and the last ~0.5 KiB of a file (puremagic.main.max_head / max_foot).
SNIFF_HEAD = 64 * 1024
SNIFF_TAIL = 1024

DEFAULT_ALLOWED_TYPES = frozenset({
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "text/plain",
    "text/csv",
    "text/markdown",
    "application/json",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "application/zip",
})

# Types with no magic bytes: accepted when the content is UTF-8 text without NUL bytes.
_TEXT_TYPES = frozenset({"application/json"})

# Registered names that puremagic reports under another (legacy) name, and common misspellings.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-zip-compressed": "application/zip",
    "application/vnd.ms-excel": "application/excel",
    "application/vnd.ms-powerpoint": "application/mspowerpoint",
}
# Office Open XML and OpenDocument files are ZIP archives; a stripped-down one may lack the
# member puremagic looks for, so for these the ZIP signature is enough.
_ZIP_CONTAINERS = ("application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.")

mimetypes.add_type("text/markdown", ".md")


# --- names, descriptions, tags, metadata --------------------------------------------------------------

def clean_item_name(name: str | None, kind: str) -> str:
    """A folder's or document's name: trimmed; 1-255 characters; no "/" (paths are shown with
    it) and no control characters."""
    name = (name or "").strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise BadInput(f"A {kind} name must be 1 to {MAX_NAME_LENGTH} characters", field="name")
    if "/" in name:
        raise BadInput(f'A {kind} name cannot contain "/"', field="name")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise BadInput(f"A {kind} name cannot contain control characters", field="name")
    return name


def clean_document_name(name: str | None) -> str:
    return clean_item_name(name, "document")


def name_from_file_name(file_name: str | None) -> str | None:
    """The last component of a client's file name (browsers may send "C:\\fakepath\\a.pdf")."""
    if not file_name:
        return None
    return file_name.replace("\\", "/").rsplit("/", 1)[-1].strip() or None


def clean_document_description(description: str | None) -> str | None:
    return clean_description(description, max_length=MAX_DESCRIPTION_LENGTH)


def clean_comment(comment: str | None, *, field: str = "changeComment") -> str | None:
    return clean_description(comment, field=field, max_length=MAX_COMMENT_LENGTH)


def clean_tags(tags: list[str] | None) -> list[str]:
    """At most 50 distinct tags of 1-64 characters each (trimmed), in the given order. The count
    is checked before any tag is looked at, and repeats are found by hashing: linear work."""
    if not tags:
        return []
    if len(tags) > MAX_TAGS:
        raise BadInput(f"At most {MAX_TAGS} tags", field="tags")
    cleaned: dict[str, None] = {}
    for tag in tags:
        tag = (tag or "").strip()
        if not 1 <= len(tag) <= MAX_TAG_LENGTH or any(unicodedata.category(ch) == "Cc" for ch in tag):
            raise BadInput(f"A tag must be 1 to {MAX_TAG_LENGTH} printable characters", field="tags")
        cleaned[tag] = None
    return list(cleaned)


def clean_metadata(metadata: Any, *, field: str = "metadata") -> dict[str, Any]:
    """A JSON object of at most 16 KiB (compact UTF-8 encoding) nested at most 16 levels.
    Size and depth are measured while walking the value, which stops as soon as either is
    exceeded: a hostile value costs at most the limit, and nothing is encoded before."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise BadInput(f"{field} must be a JSON object", field=field)
    check_json_shape(metadata, field=field, max_bytes=MAX_METADATA_BYTES, max_depth=MAX_METADATA_DEPTH,
                     stored=True)
    try:
        encoded = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise BadInput(f"{field} must be plain JSON", field=field) from None
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise BadInput(f"{field} must be at most {MAX_METADATA_BYTES} bytes as JSON", field=field)
    return metadata


def check_json_shape(value: Any, *, field: str, max_bytes: int, max_depth: int, stored: bool = False) -> None:
    """BAD_USER_INPUT when a decoded JSON value nests deeper than `max_depth` or certainly
    encodes to more than `max_bytes` (each item is counted at its smallest encoding, so a value
    within the limit is never refused here), or, when it is to be `stored` (jsonb), holds a NUL
    character. Iterative: no recursion, whatever the depth."""
    budget = max_bytes
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise BadInput(f"{field} may nest at most {max_depth} levels", field=field)
            if 2 * len(item) > budget:  # every entry takes a byte and a comma at least
                raise BadInput(f"{field} must be at most {max_bytes} bytes as JSON", field=field)
            budget -= 2 + max(len(item) - 1, 0)  # brackets and commas
            if isinstance(item, dict):
                budget -= sum(3 + len(key) if isinstance(key, str) else 3 for key in item)  # "key":
                if stored and any(isinstance(key, str) and "\x00" in key for key in item):
                    raise BadInput(f"{field} cannot contain NUL characters", field=field)
                children: Iterable[Any] = item.values()
            else:
                children = item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, str):
            budget -= 2 + len(item)
            if stored and "\x00" in item:  # PostgreSQL's jsonb cannot hold it
                raise BadInput(f"{field} cannot contain NUL characters", field=field)
        else:
            budget -= 1
        if budget < 0:
            raise BadInput(f"{field} must be at most {max_bytes} bytes as JSON", field=field)


def clean_content_types(types: list[str], *, field: str, max_count: int) -> list[str]:
    """Distinct content types, normalized; at most `max_count` given, checked before any is read."""
    if len(types) > max_count:
        raise BadInput(f"{field} may list at most {max_count} types", field=field)
    return list(dict.fromkeys(normalize_content_type(t) for t in types))


def clean_search_text(text: str) -> str:
    """A name fragment to look for: longer than a name, it could match nothing."""
    if len(text) > MAX_NAME_LENGTH * 4 or len(text := text.strip()) > MAX_NAME_LENGTH:
        raise BadInput(f"text may be at most {MAX_NAME_LENGTH} characters", field="text")
    if "\x00" in text:
        raise BadInput("text cannot contain NUL characters", field="text")
    return text


def clean_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise BadInput("sha256 must be 64 hexadecimal digits", field="sha256")
    return value


# --- the organization's content policy ---------------------------------------------------------------

@dataclass(frozen=True)
class ContentPolicy:
    allowed_types: frozenset[str]
    max_document_size: int
    storage_quota: int | None  # bytes of live blobs; None: unlimited

    @classmethod
    def of(cls, organization_settings: dict[str, Any] | None) -> ContentPolicy:
        """From organization.settings: allowed_content_types, max_document_size, storage_quota."""
        settings = organization_settings or {}
        allowed = settings.get("allowed_content_types")
        allowed_types = (frozenset(normalize_content_type(t) for t in allowed if isinstance(t, str))
                         if isinstance(allowed, list) else DEFAULT_ALLOWED_TYPES)
        return cls(
            allowed_types=allowed_types,
            max_document_size=min(_positive_int(settings.get("max_document_size")) or DEFAULT_MAX_DOCUMENT_SIZE,
                                  MAX_DOCUMENT_SIZE_CEILING),
            storage_quota=_positive_int(settings.get("storage_quota")),
        )

    def check_size(self, size: int) -> None:
        if size > self.max_document_size:
            raise PayloadTooLarge(f"A document may be at most {self.max_document_size} bytes",
                                  maxSize=self.max_document_size)

    def check_declared_type(self, content_type: str) -> None:
        if content_type not in self.allowed_types:
            raise UnsupportedMediaType(f"Files of type {content_type} are not accepted here",
                                       contentType=content_type)

    def check_content(self, content_type: str, sample: bytes) -> None:
        """The declared type is allowed and agrees with the file's first and last bytes."""
        self.check_declared_type(content_type)
        if not matches_magic(content_type, sample):
            raise UnsupportedMediaType(f"The file's content is not {content_type}", contentType=content_type)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def normalize_content_type(value: str | None) -> str:
    """"Text/Plain; charset=utf-8" → "text/plain"."""
    return (value or "").split(";", 1)[0].strip().lower()


def declared_content_type(content_type: str | None, file_name: str | None) -> str:
    """The client's declared type; a missing or generic one is guessed from the file name's
    extension (the name is used for nothing else)."""
    declared = normalize_content_type(content_type)
    if declared in ("", "application/octet-stream") and file_name:
        guessed, _ = mimetypes.guess_type(file_name, strict=False)
        declared = normalize_content_type(guessed) or declared
    return declared or "application/octet-stream"


def is_text_type(content_type: str) -> bool:
    return content_type.startswith("text/") or content_type in _TEXT_TYPES


def matches_magic(content_type: str, sample: bytes) -> bool:
    """Whether `sample` (the file's head, then its tail) can be a file of `content_type`."""
    if is_text_type(content_type):
        return _is_utf8_text(sample)
    try:
        found = {m.mime_type.lower() for m in puremagic.magic_string(sample)}
    except (puremagic.PureError, ValueError):  # no known signature, or empty
        return False
    if content_type in found or _ALIASES.get(content_type) in found:
        return True
    return content_type.startswith(_ZIP_CONTAINERS) and "application/zip" in found


def _is_utf8_text(sample: bytes) -> bool:
    """UTF-8 without NUL bytes; the head may end inside a multi-byte character, and so may
    the tail start: decode each part incrementally and tolerate a cut at its edges."""
    if b"\x00" in sample:
        return False
    head, tail = sample[:SNIFF_HEAD], sample[SNIFF_HEAD:]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not tail and len(head) < SNIFF_HEAD)
        # Skip the continuation bytes (at most 3) a cut may leave at the tail's start.
        start = next((i for i, b in enumerate(tail[:4]) if b & 0xC0 != 0x80), len(tail))
        tail[start:].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
