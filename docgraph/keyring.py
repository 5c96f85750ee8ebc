"""Keys with ids, for signing and for encryption at rest: the newest key is used (to sign, to
encrypt), every key still listed is accepted (to verify, to decrypt), so a key can be replaced
without breaking what the previous one sealed.

A keyring comes from one of two places:

- a setting: a comma-separated list, newest first (for example `SECRET_KEY=new,previous`). The
  processes are restarted to change it;
- a JSON file in the data directory, created with one random key on first use and extended by
  `docgraph rotate-...` commands. Every process re-reads it when it changes: a key added by the
  command is used everywhere within a second, and anything it sealed is readable everywhere at
  once (an unknown key id makes the reader look at the file again).

A key's id is derived from its material (the first 16 hex digits of its SHA-256), so the same
configured key has the same id in every process and across restarts.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# How long a process goes on using the newest key it knows before looking at the file again.
RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Key:
    id: str
    material: bytes
    created_at: float = 0.0  # Unix seconds; 0 when unknown (configured keys)


def key_id(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


def make_key(material: bytes, created_at: float = 0.0) -> Key:
    return Key(key_id(material), material, created_at)


class Keyring:
    """An ordered set of keys, newest first. Thread-safe; file-backed keyrings reload themselves."""

    def __init__(self, keys: list[Key], path: Path | None = None) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self.path = path
        self._keys = tuple(keys)
        self._stamp = _stamp(path) if path else None
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    @property
    def keys(self) -> tuple[Key, ...]:
        self._maybe_reload()
        return self._keys

    @property
    def current(self) -> Key:
        """The key to sign or encrypt with now."""
        self._maybe_reload()
        return self._keys[0]

    def find(self, kid: str) -> Key | None:
        """The key with this id; an unknown id makes a file-backed keyring look at its file once."""
        for key in self._keys:
            if key.id == kid:
                return key
        if self._reload():
            return next((key for key in self._keys if key.id == kid), None)
        return None

    def _maybe_reload(self) -> None:
        if self.path is not None and time.monotonic() - self._checked >= RECHECK_SECONDS:
            self._reload()

    def _reload(self) -> bool:
        """Read the file again if it changed since it was read; True when it did."""
        if self.path is None:
            return False
        with self._lock:
            self._checked = time.monotonic()
            stamp = _stamp(self.path)
            if stamp == self._stamp:
                return False
            self._keys, self._stamp = tuple(read_key_file(self.path)), stamp
            return True


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


# --- configured keyrings ----------------------------------------------------------------------------

def configured(value: str, parse: Callable[[str], bytes]) -> Keyring:
    """The keyring a comma-separated setting lists, newest first."""
    materials = [parse(part.strip()) for part in value.split(",") if part.strip()]
    return Keyring([make_key(material) for material in materials])


# --- file keyrings ----------------------------------------------------------------------------------

def read_key_file(path: Path) -> list[Key]:
    data = json.loads(path.read_text())
    return [Key(entry["id"], base64.b64decode(entry["key"]), float(entry.get("created_at", 0)))
            for entry in data["keys"]]


def _write_key_file(path: Path, keys: list[Key]) -> None:
    """Atomically: readers see the old file or the new one, never a part."""
    body = json.dumps({"keys": [{"id": k.id, "key": base64.b64encode(k.material).decode(),
                                 "created_at": k.created_at} for k in keys]}, indent=1)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialize the processes that create or extend the same key file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def file_keyring(path: Path, new_material: Callable[[], bytes],
                 first: Callable[[], bytes | None] = lambda: None) -> Keyring:
    """The keyring kept in `path`, created on first use with the material `first` returns (a
    key an earlier version kept elsewhere) or else a new random one."""
    if not path.exists():
        with _locked(path):
            if not path.exists():
                material = first() or new_material()
                _write_key_file(path, [make_key(material, time.time())])
    return Keyring(read_key_file(path), path)


def add_key(path: Path, new_material: Callable[[], bytes], *,
            keep: Callable[[Key, float], bool] = lambda k, t: True) -> Key:
    """Put a new random key first in the file at `path` (which must exist); older keys stay,
    except those `keep(key, superseded_at)` refuses. Returns the new key."""
    with _locked(path):
        keys = read_key_file(path)
        key = make_key(new_material(), time.time())
        while any(k.id == key.id for k in keys):  # 64-bit ids: in practice never
            key = make_key(new_material(), time.time())  # pragma: no cover
        kept = [k for i, k in enumerate(keys) if i == 0 or keep(k, keys[i - 1].created_at)]
        _write_key_file(path, [key, *kept])
        return key


def remove_keys(path: Path, ids: set[str]) -> list[Key]:
    """Drop the keys with these ids from the file at `path`, never the newest; returns those left."""
    with _locked(path):
        keys = read_key_file(path)
        kept = [key for i, key in enumerate(keys) if i == 0 or key.id not in ids]
        _write_key_file(path, kept)
        return kept
