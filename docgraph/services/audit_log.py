"""Reading the audit log: the admins' filtered listing, chain verification and export.

Writing it is `docgraph.services.audit` (record / record_by / record_failure). Each
organization's rows form a hash chain (chain_seq 1, 2, 3 ... each row's hash covering the
previous row's hash and its own content), so `verify_chains` can tell the first row where the
stored log stops matching what was written: a row edited behind the append-only trigger's
back, a row deleted from the middle, rows reordered. Deleting the newest rows leaves a shorter
valid chain: keep the head hash that `verify` prints somewhere else to detect that too.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, Forbidden
from ..models import AuditLog
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page
from .audit import row_hash

STREAM_BATCH = 1000


# --- the admins' listing ------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    actions: tuple[str, ...] = ()
    resource_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    status: str | None = None
    start: datetime | None = None  # at or after
    end: datetime | None = None    # before

    def conditions(self) -> list:
        conditions = []
        if self.actions:
            # Enum values: repeats (a hostile list holds thousands) add nothing to the statement.
            conditions.append(AuditLog.action.in_(sorted(set(self.actions))))
        if self.resource_id is not None:
            conditions.append(AuditLog.resource_id == self.resource_id)
        if self.user_id is not None:
            conditions.append(AuditLog.user_id == self.user_id)
        if self.status is not None:
            conditions.append(AuditLog.status == self.status)
        if self.start is not None:
            conditions.append(AuditLog.timestamp >= self.start)
        if self.end is not None:
            conditions.append(AuditLog.timestamp < self.end)
        return conditions


def require_auditor(actor: Principal) -> uuid.UUID:
    """The organization whose log the caller may read: organization ADMINs and super admins."""
    organization_id = actor.require_organization()
    if not (actor.is_org_admin or actor.is_super_admin):
        raise Forbidden("Only organization admins can read the audit log")
    return organization_id


_NEWEST_FIRST = Keyset("timestamp", (Key.time(AuditLog.timestamp, "timestamp"), Key.id(AuditLog.id)), descending=True)


async def list_entries(db: Database, actor: Principal, audit_filter: AuditFilter,
                       page: PageRequest) -> tuple[Page[AuditLog], CountFn]:
    """The organization's rows matching the filter, newest first (keyset on timestamp, id)."""
    organization_id = require_auditor(actor)
    if audit_filter.start and audit_filter.end and audit_filter.start > audit_filter.end:
        raise BadInput("`from` must not be after `to`", argument="filter")
    query = select(AuditLog).where(AuditLog.organization_id == organization_id, *audit_filter.conditions())
    result = await read_page(db, query, _NEWEST_FIRST, page, key_of=lambda row: (row.AuditLog.timestamp,
                                                                                row.AuditLog.id),
                             row_of=lambda row: row.AuditLog)
    return result, counter(db, query.with_only_columns(AuditLog.id).subquery())


async def entries_by_ids(db: Database, actor: Principal, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AuditLog]:
    """Rows of the caller's organization among `ids`, for admins; nothing for anyone else."""
    if actor.organization_id is None or not (actor.is_org_admin or actor.is_super_admin):
        return {}
    async with db.reading() as session:
        rows = (await session.execute(select(AuditLog).where(
            AuditLog.organization_id == actor.organization_id, AuditLog.id.in_(ids)))).scalars()
        return {row.id: row for row in rows}


# --- verification -------------------------------------------------------------------------------

@dataclass
class ChainReport:
    """One organization's chain (None: events outside any organization)."""

    organization_id: uuid.UUID | None
    rows: int = 0
    head_hash: str | None = None
    broken_row_id: uuid.UUID | None = None
    broken_chain_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _chain(organization_id: uuid.UUID | None):
    if organization_id is None:
        return AuditLog.organization_id.is_(None)
    return AuditLog.organization_id == organization_id


async def _chains(db: Database, organization_id: uuid.UUID | None) -> list[uuid.UUID | None]:
    if organization_id is not None:
        return [organization_id]
    async with db.reading() as session:
        found = (await session.execute(select(AuditLog.organization_id).distinct())).scalars().all()
    return sorted(found, key=lambda value: (value is not None, str(value)))


async def verify_chain(db: Database, organization_id: uuid.UUID | None) -> ChainReport:
    """Recompute one chain from its first row; stop at the first row that does not match."""
    report = ChainReport(organization_id)
    previous: AuditLog | None = None
    query = (select(AuditLog).where(_chain(organization_id)).order_by(AuditLog.chain_seq)
             .execution_options(yield_per=STREAM_BATCH))
    async with db.snapshot() as session:  # a server-side cursor lives in a transaction
        async for entry in await session.stream_scalars(query):
            expected_seq = previous.chain_seq + 1 if previous else 1
            expected_prev = previous.row_hash if previous else None
            if entry.chain_seq != expected_seq:
                problem = (f"chain_seq {entry.chain_seq} where {expected_seq} was expected: "
                           f"{'rows are missing' if entry.chain_seq > expected_seq else 'rows are out of order'}")
            elif entry.prev_hash != expected_prev:
                problem = ("its prev_hash does not match the previous row's hash: the previous row"
                           f" ({previous.id if previous else 'none'}) was altered or the chain was rewritten")
            elif row_hash(entry, entry.prev_hash) != entry.row_hash:
                problem = "its content does not match its hash: the row was altered after it was written"
            else:
                report.rows += 1
                report.head_hash = entry.row_hash
                previous = entry
                continue
            report.broken_row_id, report.broken_chain_seq, report.problem = entry.id, entry.chain_seq, problem
            return report
    return report


async def verify_chains(db: Database, organization_id: uuid.UUID | None = None) -> list[ChainReport]:
    """Every organization's chain (and the organization-less one), or just one organization's."""
    return [await verify_chain(db, chain) for chain in await _chains(db, organization_id)]


# --- export ---------------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "id", "organization_id", "chain_seq", "timestamp", "user_id", "action", "resource_type", "resource_id",
    "resource_name", "status", "error_message", "ip_address", "user_agent", "change_details", "prev_hash",
    "row_hash",
)
EXPORT_FORMATS = ("jsonl", "csv")


def _record(entry: AuditLog) -> dict:
    record = {}
    for name in EXPORT_FIELDS:
        value = getattr(entry, name)
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        record[name] = value
    return record


@dataclass
class _CsvLines:
    buffer: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self.writer = csv.writer(self.buffer, lineterminator="\n")

    def line(self, values: Sequence) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(values)
        return self.buffer.getvalue()


async def export_lines(db: Database, fmt: str, organization_id: uuid.UUID | None = None) -> AsyncIterator[str]:
    """The log as text lines (newline included), chain by chain, oldest first, streamed from
    the database. jsonl: one JSON object per row; csv: a header, then one row per entry
    (change_details as JSON text, empty cells for nulls)."""
    if fmt not in EXPORT_FORMATS:
        raise BadInput(f"format must be one of {', '.join(EXPORT_FORMATS)}", argument="format")
    csv_lines = _CsvLines()
    if fmt == "csv":
        yield csv_lines.line(EXPORT_FIELDS)
    for chain in await _chains(db, organization_id):
        query = (select(AuditLog).where(_chain(chain)).order_by(AuditLog.chain_seq)
                 .execution_options(yield_per=STREAM_BATCH))
        async with db.snapshot() as session:
            async for entry in await session.stream_scalars(query):
                record = _record(entry)
                if fmt == "jsonl":
                    yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                else:
                    details = record["change_details"]
                    record["change_details"] = None if details is None else json.dumps(details, ensure_ascii=False)
                    yield csv_lines.line(["" if record[name] is None else record[name] for name in EXPORT_FIELDS])
