"""Re-encryption after a storage key rotation, in the background, in small resumable steps.

`storage.reencrypt` walks the stored objects in path order, a batch per job: each batch seals
with the newest key the objects that are under another key (or under none: written before
encryption was the default), then enqueues the next batch with its cursor in the same
transaction that completes this one. A worker killed mid-batch leaves its job uncommitted: another
worker (or the same, restarted) claims it again and redoes the batch, skipping what is already
under the newest key; an object being rewritten when the kill came is still the old file (the
new one was a temporary file, which the orphan sweep removes). Reads go on throughout: an object
is replaced whole by a rename, and every key stays in the keyring.

A pass that re-encrypted anything is followed by another, which finds what processes still
using the previous key wrote meanwhile. A pass that finds nothing to do records the key as the
one every object is under (`finish_reencryption`), and the rotation is complete.

`storage.encryption-check` (hourly, and enqueued by `docgraph rotate-storage-key`) starts a
pass when the storage says objects may be under another key: after a rotation, after a
configured key list gained a new first key, or on a data directory from before encryption.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from ..db import Database
from .jobs import JobContext, handler, job_storage, periodic
from .publish import enqueue

log = logging.getLogger("docgraph.storage_keys")

REENCRYPT = "storage.reencrypt"
CHECK = "storage.encryption-check"
BATCH_OBJECTS = 100
BATCH_BYTES = 256 * 1024 * 1024


def _batch_size(context: JobContext) -> int:
    return context.settings.storage_reencrypt_batch if context.settings else BATCH_OBJECTS


@handler(REENCRYPT)
async def reencrypt_job(context: JobContext, payload: dict) -> None:
    async with job_storage(context) as storage:
        batch = await storage.reencrypt(payload.get("after"), limit=_batch_size(context), max_bytes=BATCH_BYTES)
        key_id = payload.get("key") or batch.key_id
        changed = payload.get("changed", 0) + batch.reencrypted + (batch.key_id != key_id)
        examined = payload.get("examined", 0) + batch.examined
        if batch.cursor is not None:
            await enqueue(context.session, REENCRYPT, {"after": batch.cursor, "key": key_id, "changed": changed,
                                                       "examined": examined, "pass": payload.get("pass", 1)})
        elif changed:
            log.info("storage re-encryption pass %d: %d of %d objects re-encrypted; checking again",
                     payload.get("pass", 1), changed, examined)
            await enqueue(context.session, REENCRYPT, {"pass": payload.get("pass", 1) + 1})
        elif key_id is not None:
            await storage.finish_reencryption(key_id)
            log.info("storage re-encryption complete: all %d objects are under key %s", examined, key_id)


@periodic(CHECK, every=timedelta(hours=1))
async def encryption_check_job(context: JobContext, payload: dict) -> None:
    async with job_storage(context) as storage:
        if storage.needs_reencryption():
            await start_reencryption(context.session, storage)


async def start_reencryption(session, storage) -> None:
    """Enqueue the first batch of a pass, once per newest key (a pass already under way for
    it is not doubled)."""
    keys = getattr(storage, "encryption_keys", None)
    dedupe = f"{REENCRYPT}:{keys.current.id}" if keys is not None else None
    await enqueue(session, REENCRYPT, {}, dedupe_key=dedupe)


async def request_reencryption(db: Database) -> None:
    """Ask the workers to check, now, whether objects need re-encryption (the rotate command)."""
    async with db.transaction() as session:
        await enqueue(session, CHECK, {})
