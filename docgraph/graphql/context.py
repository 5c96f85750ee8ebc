"""The per-request context: who is asking, the process's services, and the request's loaders.

`Loaders` holds one DataLoader per key, created on first use. Each batch is one read function
of services or permissions (its own short session), so concurrent resolvers never share a
session and the GraphQL layer runs no SQL. Loaders hold rows; the API types read them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeAlias, TypeVar

from aiodataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from .. import models, permissions
from ..auth.principal import ClientInfo, Principal
from ..config import Settings
from ..db import Database
from ..errors import DocgraphError, Unauthenticated
from ..pagination import CountFn, Page, PageRequest, known_count
from ..permissions import DOCUMENT, FOLDER, Access, ResourceKey
from ..process import Services
from ..services import (
    approvals,
    audit_log,
    departments,
    documents,
    folders,
    groups,
    members,
    notifications,
    organizations,
    roles,
    sharing,
)
from ..services.tenancy import OrgUser

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

MAX_BATCH = 1000

# What a relation field returns: the value when a loader already holds it, else an awaitable of
# it (graphql-core completes either). Such fields name their API type with `graphql_type`.
Later: TypeAlias = T | Awaitable[T]


class RequestLoader(DataLoader[K, V], Generic[K, V]):
    """A DataLoader whose answers already in hand can be used without awaiting."""

    def __init__(self, batch_load_fn: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> None:
        self.answers: dict[K, Any] = {}  # key → Future: aiodataloader's cache, read directly
        super().__init__(batch_load_fn, cache_map=self.answers, max_batch_size=MAX_BATCH)

    def now_or_later(self, key: K) -> V | Awaitable[V]:
        """The value of `key` at once when this request already loaded it (a listing primed it,
        or an earlier batch), else an awaitable of it batched with the keys asked for in the
        same tick. graphql-core completes a plain value far more cheaply than a coroutine,
        which matters on a page of a hundred nodes."""
        future = self.answers.get(key)
        if future is not None and future.done() and not future.cancelled() and future.exception() is None:
            return future.result()  # type: ignore[no-any-return]
        return self.load(key)

    def now_or_later_as(self, key: K, convert: Callable[[V], T]) -> T | Awaitable[T]:
        """`now_or_later`, converted (at once, or when the batch answers)."""
        value = self.now_or_later(key)
        if isinstance(value, Awaitable):
            return _converted(value, convert)
        return convert(value)


async def _converted(value: Awaitable[V], convert: Callable[[V], T]) -> T:
    return convert(await value)


def _in_order(read: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
              missing: Callable[[], Any] = lambda: None) -> Callable[[list[K]], Coroutine[Any, Any, list[Any]]]:
    """A batch function from a read function answering a mapping: values in key order, and
    `missing()` for keys the mapping lacks."""
    async def batch(keys: list[K]) -> list[Any]:
        found = await read(keys)
        return [found[key] if key in found else missing() for key in keys]

    return batch


class Loaders:
    """The request's loaders, one attribute per key."""

    def __init__(self, context: Context) -> None:
        self._context = context

    @property
    def _db(self) -> Database:
        return self._context.db

    def _principal(self) -> Principal:
        # Read at batch time: login and switchOrganization change it during a request.
        return self._context.principal

    # --- rows by id, no access check (relations of rows the viewer already sees) ---------------

    @cached_property
    def user(self) -> RequestLoader[uuid.UUID, models.User | None]:
        return RequestLoader(_in_order(lambda ids: members.users_by_ids(self._db, ids)))

    @cached_property
    def organization(self) -> RequestLoader[uuid.UUID, models.Organization | None]:
        return RequestLoader(_in_order(lambda ids: organizations.organizations_by_ids(self._db, ids)))

    @cached_property
    def department(self) -> RequestLoader[uuid.UUID, models.Department | None]:
        return RequestLoader(_in_order(lambda ids: departments.departments_by_ids(self._db, ids)))

    @cached_property
    def group(self) -> RequestLoader[uuid.UUID, models.Group | None]:
        return RequestLoader(_in_order(lambda ids: groups.groups_by_ids(self._db, ids)))

    @cached_property
    def role(self) -> RequestLoader[uuid.UUID, models.Role | None]:
        return RequestLoader(_in_order(lambda ids: roles.roles_by_ids(self._db, ids)))

    @cached_property
    def folder(self) -> RequestLoader[uuid.UUID, models.Folder | None]:
        return RequestLoader(_in_order(lambda ids: folders.folders_by_ids(self._db, ids)))

    @cached_property
    def document(self) -> RequestLoader[uuid.UUID, models.Document | None]:
        return RequestLoader(_in_order(lambda ids: documents.documents_by_ids(self._db, ids)))

    @cached_property
    def document_version(self) -> RequestLoader[uuid.UUID, models.DocumentVersion | None]:
        return RequestLoader(_in_order(lambda ids: documents.versions_by_ids(self._db, ids)))

    def resource(self, kind: str) -> RequestLoader[uuid.UUID, Any]:
        """Folder or document rows by id, no access check."""
        return self.folder if kind == FOLDER else self.document

    # --- tenancy relations --------------------------------------------------------------------

    @cached_property
    def system_role(self) -> RequestLoader[OrgUser, str | None]:
        """(organization, user) → the member's system role; None when not a live member."""
        return RequestLoader(_in_order(lambda keys: members.system_roles(self._db, keys)))

    @cached_property
    def my_drive(self) -> RequestLoader[OrgUser, models.Folder | None]:
        return RequestLoader(_in_order(lambda keys: folders.my_drives(self._db, keys)))

    @cached_property
    def departments_of_organization(self) -> RequestLoader[uuid.UUID, list[models.Department]]:
        return RequestLoader(_in_order(lambda ids: departments.departments_of(self._db, ids), list))

    @cached_property
    def groups_of_organization(self) -> RequestLoader[uuid.UUID, list[models.Group]]:
        return RequestLoader(_in_order(lambda ids: groups.groups_of(self._db, ids), list))

    @cached_property
    def roles_of_organization(self) -> RequestLoader[uuid.UUID, list[models.Role]]:
        return RequestLoader(_in_order(lambda ids: roles.roles_of(self._db, ids), list))

    @cached_property
    def department_admins(self) -> RequestLoader[uuid.UUID, list[models.User]]:
        return RequestLoader(_in_order(lambda ids: departments.department_admins(self._db, ids), list))

    @cached_property
    def group_members(self) -> RequestLoader[uuid.UUID, list[models.User]]:
        return RequestLoader(_in_order(lambda ids: groups.group_members(self._db, ids), list))

    @cached_property
    def role_members(self) -> RequestLoader[uuid.UUID, list[models.User]]:
        return RequestLoader(_in_order(lambda ids: roles.role_members(self._db, ids), list))

    # --- access: the viewer's evaluation, and rows only where the viewer may see them -----------

    @cached_property
    def access(self) -> RequestLoader[ResourceKey, Access]:
        """(kind, id) → the viewer's Access: every check pending in the same tick is one
        evaluation statement."""
        async def batch(keys: list[ResourceKey]) -> list[Access]:
            found = await permissions.access_of(self._db, self._principal(), keys)
            return [found[key] for key in keys]

        return RequestLoader(batch)

    @cached_property
    def visible_folder(self) -> RequestLoader[uuid.UUID, models.Folder | None]:
        """Folders the viewer may see now (live and viewable), else None."""
        return RequestLoader(functools.partial(self._visible_rows, FOLDER))

    @cached_property
    def visible_document(self) -> RequestLoader[uuid.UUID, models.Document | None]:
        return RequestLoader(functools.partial(self._visible_rows, DOCUMENT))

    def visible(self, kind: str) -> RequestLoader[uuid.UUID, Any]:
        return self.visible_folder if kind == FOLDER else self.visible_document

    async def _visible_rows(self, kind: str, ids: list[uuid.UUID]) -> list[Any]:
        found = await permissions.visible_rows_of(self._db, self._principal(), kind, ids)
        self._keep(kind, found)
        return [found[i][1] for i in ids]

    async def visible_folder_with_ancestors(self, folder_id: uuid.UUID) -> models.Folder | None:
        """`visible_folder` of a folder whose ancestors will be asked for too (breadcrumbs):
        they are checked and fetched in the same statement and wait in the loaders."""
        found = await permissions.visible_rows_of(self._db, self._principal(), FOLDER, [folder_id], lineage=True)
        self._keep(FOLDER, found)
        row: models.Folder | None = found[folder_id][1]
        return row

    def remember(self, accesses: Iterable[Access]) -> None:
        """Evaluations already made (a listing returns its rows'): asking for those resources
        again costs no statement."""
        for access in accesses:
            self.access.prime(access.key, access)

    def _keep(self, kind: str, found: Mapping[uuid.UUID, tuple[Access, Any | None]]) -> None:
        """Leave what an evaluation with rows answered in the loaders: accesses, rows, visible rows."""
        self.remember(access for access, _ in found.values())
        rows, visible = self.resource(kind), self.visible(kind)
        for i, (_, row) in found.items():
            visible.prime(i, row)
            if row is not None:
                rows.prime(i, row)

    # --- rows the viewer may see, decided by their domain's rules ------------------------------

    @cached_property
    def approval(self) -> RequestLoader[uuid.UUID, models.Approval | None]:
        """Visible to its requester and to the reviewers of its resource."""
        return RequestLoader(_in_order(lambda ids: approvals.approvals_by_ids(self._db, self._principal(), ids)))

    @cached_property
    def audit_log_entry(self) -> RequestLoader[uuid.UUID, models.AuditLog | None]:
        """Admins of the entry's organization only."""
        return RequestLoader(_in_order(lambda ids: audit_log.entries_by_ids(self._db, self._principal(), ids)))

    @cached_property
    def notification(self) -> RequestLoader[uuid.UUID, models.Notification | None]:
        """Only the recipient sees a notification."""
        return RequestLoader(_in_order(
            lambda ids: notifications.notifications_by_ids(self._db, self._principal(), ids)))

    @cached_property
    def share(self) -> RequestLoader[uuid.UUID, models.Grant | None]:
        """Visible with SHARE or MANAGE on its resource, or to its subject."""
        return RequestLoader(_in_order(lambda ids: sharing.visible_shares(self._db, self._principal(), ids)))

    @cached_property
    def folder_shares(self) -> RequestLoader[uuid.UUID, list[models.Grant]]:
        """Live grants on each folder (the caller checks the viewer may see them)."""
        return RequestLoader(_in_order(lambda ids: sharing.live_grants_on(self._db, FOLDER, ids), list))

    @cached_property
    def document_shares(self) -> RequestLoader[uuid.UUID, list[models.Grant]]:
        return RequestLoader(_in_order(lambda ids: sharing.live_grants_on(self._db, DOCUMENT, ids), list))

    def shares(self, kind: str) -> RequestLoader[uuid.UUID, list[models.Grant]]:
        return self.folder_shares if kind == FOLDER else self.document_shares

    async def shares_shown(self, kind: str, resource_id: uuid.UUID) -> list[models.Grant]:
        """The live shares of a resource, for viewers who may SHARE or MANAGE it; else none."""
        if not await self._sees_shares(kind, resource_id):
            return []
        return await self.shares(kind).load(resource_id)

    async def shares_page_shown(self, kind: str, resource_id: uuid.UUID,
                                page: PageRequest) -> tuple[Page[models.Grant], CountFn]:
        """A page of `shares_shown` (not batched: one read per resource), and their count."""
        if not await self._sees_shares(kind, resource_id):
            return Page([], has_next_page=False, has_previous_page=False), known_count(0)
        return await sharing.grants_page(self._db, kind, resource_id, page)

    async def _sees_shares(self, kind: str, resource_id: uuid.UUID) -> bool:
        access = await self.access.load((kind, resource_id))
        return access.can_share or access.can_manage


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
    connection_params: dict[str, Any] | None = None

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
    def loaders(self) -> Loaders:
        return Loaders(self)

    def reset_loaders(self) -> None:
        """Forget the loaders and their caches. A websocket connection keeps one context for
        its whole life, so subscriptions call this before each event: the event is resolved
        with what the database says now, not what it said at the first event."""
        self.__dict__.pop("loaders", None)


Info = StrawberryInfo[Context, None]
