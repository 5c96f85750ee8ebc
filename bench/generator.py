"""Row generation for the benchmark dataset: every table's rows as tuples in COPY column order,
from a fixed seed (bench/dataset.py loads them). What the rows look like is described in
bench/dataset.py and bench/README.md."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .dataset import Scale

SEED = 20240601
PASSWORD = "bench-password"
READER_EMAIL = "reader@bench.example"
ADMIN_EMAIL = "admin@bench.example"
SEARCH_TAG = "contract"
SEARCH_METADATA = {"status": "approved"}
CONTENT_TYPES = {
    "pdf": "application/pdf", "txt": "text/plain", "png": "image/png", "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv",
}
TAGS = ["contract", "invoice", "report", "draft", "legal", "hr", "finance", "q1", "q2", "q3", "q4",
        "internal", "public", "archive", "design", "spec", "minutes", "policy", "signed", "urgent"]
# Capability sets of sharing grants: (weight, view, create, update, delete, share, manage).
GRANT_SHAPES = [
    (40, True, False, False, False, False, False),
    (25, True, True, True, False, False, False),
    (20, True, True, True, True, True, False),
    (10, True, True, True, True, True, True),
    (5, False, False, False, False, False, False),  # a restriction
]
FULL_ROW = (True,) * 6



class Rows:
    """Every table's rows as tuples, in COPY column order, plus the personas."""

    COLUMNS: ClassVar[dict[str, tuple[str, ...]]] = {
        "organization": ("id", "name", "description", "status", "settings", "created_at", "updated_at"),
        "users": ("id", "email", "password_hash", "first_name", "last_name", "is_active", "is_super_admin",
                  "created_at", "updated_at"),
        "membership": ("id", "user_id", "organization_id", "system_role", "is_default", "joined_at"),
        "role": ("id", "organization_id", "name", "description", "is_system", "system_key", "created_at"),
        "member_role": ("role_id", "user_id", "organization_id", "created_at"),
        "department": ("id", "organization_id", "name", "root_folder_id", "created_at"),
        "department_admin": ("department_id", "user_id", "organization_id", "created_at"),
        "groups": ("id", "organization_id", "department_id", "name", "created_at"),
        "group_member": ("group_id", "user_id", "organization_id", "created_at"),
        "folder": ("id", "organization_id", "parent_id", "name", "description", "owner_type", "owner_id",
                   "department_id", "path", "created_by", "created_at", "updated_at"),
        "blob": ("id", "organization_id", "sha256", "size", "storage_key", "created_at"),
        "document": ("id", "organization_id", "folder_id", "name", "description", "content_type", "file_size",
                     "current_version_id", "version_count", "tags", "metadata", "created_by", "created_at",
                     "updated_at"),
        "document_version": ("id", "organization_id", "document_id", "version_number", "file_size",
                             "content_type", "content_hash", "blob_id", "original_filename", "change_comment",
                             "created_by", "created_at", "download_count"),
        "grants": ("id", "organization_id", "folder_id", "document_id", "subject_type", "subject_id", "can_view",
                   "can_create", "can_update", "can_delete", "can_share", "can_manage", "granted_by",
                   "granted_at", "expires_at"),
    }

    def __init__(self, scale: Scale, seed: int = SEED) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.now = datetime(2025, 6, 1, tzinfo=UTC)
        self.tables: dict[str, list[tuple]] = {name: [] for name in self.COLUMNS}
        self.depth: dict[uuid.UUID, int] = {}
        self.folder_paths: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.reserved: set[uuid.UUID] = set()  # hot paths and hot documents: no random grants there
        self.grant_keys: set[tuple] = set()

    # helpers
    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def past(self, max_days: int = 730) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(1, max_days * 86400))

    def add(self, table: str, *values) -> None:
        self.tables[table].append(values)

    def build(self, progress=None) -> None:
        self._tenancy()
        self._folders()
        self._documents(progress)
        self._personas()
        self._grants()

    # organization, users, roles, departments, groups
    def _tenancy(self) -> None:
        s, rng = self.scale, self.rng
        self.org = self.uid()
        self.add("organization", self.org, "Bench Org", "Benchmark dataset", "ACTIVE", "{}", self.past(), self.now)
        import bcrypt  # a docgraph dependency; cost 4: the bench never logs in through bcrypt

        password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
        self.users, self.role_of = [], {}
        for i in range(s.users):
            user = self.uid()
            email = ADMIN_EMAIL if i == 0 else READER_EMAIL if i == 1 else f"user{i:04d}@bench.example"
            role = "ADMIN" if i == 0 else "EDITOR" if i == 1 else rng.choices(
                ["ADMIN", "EDITOR", "VIEWER"], weights=[2, 58, 40])[0]
            created = self.past()
            self.add("users", user, email, password_hash, f"First{i}", f"Last{i}", True, False, created, created)
            self.add("membership", self.uid(), user, self.org, role, True, created)
            self.users.append(user)
            self.role_of[user] = role
        self.admin, self.reader = self.users[0], self.users[1]
        self.editors = [u for u in self.users if self.role_of[u] != "VIEWER" and u != self.reader]

        self.system_roles = {}
        for key in ("ADMIN", "EDITOR", "VIEWER"):
            role = self.system_roles[key] = self.uid()
            self.add("role", role, self.org, key, f"System role {key}", True, key, self.past())
        self.custom_roles = [self.uid() for _ in range(s.custom_roles)]
        for i, role in enumerate(self.custom_roles):
            self.add("role", role, self.org, f"Custom Role {i}", None, False, None, self.past())
        for user in self.users[2:]:
            if rng.random() < 0.3:
                self.add("member_role", rng.choice(self.custom_roles), user, self.org, self.past())
        self.add("member_role", self.custom_roles[0], self.reader, self.org, self.past())

        self.departments, self.department_admins = [], {}
        for i in range(s.departments):
            department = self.uid()
            self.departments.append(department)
            self.add("department", department, self.org, f"Department {i:02d}", None, self.past())
            admins = rng.sample(self.editors, 2)
            self.department_admins[department] = admins
            for admin in admins:
                self.add("department_admin", department, admin, self.org, self.past())

        self.groups = [self.uid() for _ in range(s.groups)]
        for i, group in enumerate(self.groups):
            department = rng.choice(self.departments) if rng.random() < 0.5 else None
            self.add("groups", group, self.org, department, f"Group {i:03d}", self.past())
        members = {(self.groups[0], self.reader), (self.groups[1], self.reader)}
        for user in self.users[2:]:
            for group in rng.sample(self.groups, min(len(self.groups), rng.randint(0, 5))):
                members.add((group, user))
        for group, user in sorted(members):
            self.add("group_member", group, user, self.org, self.past())

    # folders: department trees (spine to max depth, then depth-first-biased growth), My Drives
    def _folder(self, parent: uuid.UUID | None, name: str, owner_type: str, owner: uuid.UUID,
                department: uuid.UUID | None, creator: uuid.UUID) -> uuid.UUID:
        folder = self.uid()
        path = [*self.folder_paths[parent], folder] if parent else [folder]
        self.folder_paths[folder] = path
        self.depth[folder] = len(path) - 1
        created = self.past()
        self.add("folder", folder, self.org, parent, name, None, owner_type, owner, department, path, creator,
                 created, created)
        return folder

    def _folders(self) -> None:
        s, rng = self.scale, self.rng
        self.roots, self.tree = {}, {}
        per_department = (s.folders - s.departments) // s.departments
        counter = 0
        for i, department in enumerate(self.departments):
            root = self.roots[department] = self._folder(None, f"Department {i:02d}", "ORG", self.org, department,
                                                         self.admin)
            nodes, last = [root], root
            while len(nodes) <= per_department:
                if len(nodes) <= s.max_depth:
                    parent = last  # the spine: every drive reaches max depth
                elif rng.random() < 0.5 and self.depth[last] < s.max_depth:
                    parent = last
                else:
                    parent = rng.choice(nodes)
                    while self.depth[parent] >= s.max_depth:
                        parent = rng.choice(nodes)
                counter += 1
                creator = rng.choice(self.department_admins[department])
                last = self._folder(parent, f"Folder {counter:05d}", "ORG", self.org, department, creator)
                nodes.append(last)
                # What createFolder writes: the creator's full row.
                self._grant(folder=last, subject=("USER", creator), shape=FULL_ROW, by=creator, check=False)
            self.tree[department] = nodes
        self.my_drives = {}
        for user in self.users:
            self.my_drives[user] = self._folder(None, "My Drive", "USER", user, None, user)
        self.department_of = {f: d for d, nodes in self.tree.items() for f in nodes}

    # documents, versions, blobs
    def _documents(self, progress=None) -> None:
        s, rng = self.scale, self.rng
        department_folders = [f for nodes in self.tree.values() for f in nodes]
        at_depth = {d: [f for f in department_folders if self.depth[f] == d] for d in range(s.max_depth + 1)}
        # Hot folders: at depth 10 in distinct departments, each with hot_documents documents.
        hot_candidates = list(at_depth[10])
        rng.shuffle(hot_candidates)
        self.hot_folders, seen = [], set()
        for folder in hot_candidates:
            if self.department_of[folder] not in seen and len(self.hot_folders) < s.hot_folders:
                self.hot_folders.append(folder)
                seen.add(self.department_of[folder])
        placement: list[uuid.UUID] = []
        for folder in self.hot_folders:
            placement += [folder] * s.hot_documents
        deep = at_depth[s.max_depth]
        placement += [deep[i % len(deep)] for i in range(s.deep_documents)]
        remaining = s.documents - len(placement)
        my_drive_roots = list(self.my_drives.values())
        for _ in range(remaining):
            placement.append(rng.choice(my_drive_roots) if rng.random() < 0.05 else rng.choice(department_folders))

        blobs: list[tuple[str, int, uuid.UUID]] = []
        self.documents_in: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.deep_documents: list[uuid.UUID] = []
        owner_of_drive = {root: user for user, root in self.my_drives.items()}
        exts = list(CONTENT_TYPES)
        task = progress.add_task("generate documents", total=len(placement)) if progress else None
        for i, folder in enumerate(placement):
            document = self.uid()
            self.documents_in.setdefault(folder, []).append(document)
            if self.depth.get(folder) == s.max_depth and len(self.deep_documents) < s.deep_documents:
                self.deep_documents.append(document)
            creator = owner_of_drive.get(folder) or rng.choice(self.editors)
            ext = rng.choice(exts)
            content_type = CONTENT_TYPES[ext]
            count = rng.choices([1, 2, 3], weights=[50, 30, 20])[0]
            created = self.past()
            when = created
            version_id = None
            size = 0
            for number in range(1, count + 1):
                if blobs and rng.random() < 0.1:
                    sha, size, blob = rng.choice(blobs)  # same content as another version: dedupe
                else:
                    sha = hashlib.sha256(f"{SEED}:{i}:{number}".encode()).hexdigest()
                    size, blob = rng.randrange(1_000, 10_000_000), self.uid()
                    blobs.append((sha, size, blob))
                    self.add("blob", blob, self.org, sha, size, f"{self.org}/blobs/{sha}", when)
                version_id = self.uid()
                self.add("document_version", version_id, self.org, document, number, size, content_type, sha, blob,
                         f"file-{i}.{ext}", None if number == 1 else f"revision {number}", creator, when, 0)
                if number < count:
                    when = min(self.now, when + timedelta(seconds=rng.randrange(60, 30 * 86400)))
            tags = rng.sample(TAGS[1:], rng.randint(0, 3))
            if rng.random() < 0.15:
                tags.append(SEARCH_TAG)
            metadata = {
                "status": rng.choices(["draft", "review", "approved", "archived"], weights=[30, 25, 25, 20])[0],
                "project": f"P{rng.randint(1, 50):02d}", "year": rng.randint(2019, 2025),
            }
            self.add("document", document, self.org, folder, f"doc-{i:06d}.{ext}", None, content_type, size,
                     version_id, count, tags, json.dumps(metadata), creator, created, when)
            if task is not None and i % 5000 == 0:
                progress.update(task, completed=i)
        if task is not None:
            progress.update(task, completed=len(placement))

    # grants
    def _grant(self, *, folder=None, document=None, subject, shape, by, expires=None, check=True) -> bool:
        key = (folder or document, subject)
        if key in self.grant_keys or (check and (folder or document) in self.reserved):
            return False
        self.grant_keys.add(key)
        self.add("grants", self.uid(), self.org, folder, document, subject[0], subject[1], *shape, by, self.past(),
                 expires)
        return True

    def _personas(self) -> None:
        """The reader sees each hot folder through grants only (a GROUP grant at depth 3, its
        USER grant at depth 8; document rows widen or restrict a few), and department 0 through
        its group (the search benchmark's visible set)."""
        s = self.scale
        reader, group = ("USER", self.reader), ("GROUP", self.groups[0])
        by = self.admin
        for folder in self.hot_folders:
            path = self.folder_paths[folder]
            self.reserved.update(path)
            self.reserved.update(self.documents_in[folder])
            self._grant(folder=path[3], subject=group, shape=(True,) + (False,) * 5, by=by, check=False)
            self._grant(folder=path[8], subject=reader, shape=(True, True, True, False, False, False), by=by,
                        check=False)
            documents = self.documents_in[folder]
            for document in documents[: s.hot_documents // 10]:
                self._grant(document=document, subject=reader, shape=(True, False, True, True, False, False), by=by,
                            check=False)
            for document in documents[-3:]:
                self._grant(document=document, subject=reader, shape=(False,) * 6, by=by, check=False)
        self.reserved.add(self.roots[self.departments[0]])
        self._grant(folder=self.roots[self.departments[0]], subject=group, shape=(True,) + (False,) * 5, by=by,
                    check=False)

    def _grants(self) -> None:
        s, rng = self.scale, self.rng
        folders = [f for nodes in self.tree.values() for f in nodes if f not in self.reserved]
        documents = [d for f, docs in self.documents_in.items() for d in docs if d not in self.reserved]
        shapes = [shape[1:] for shape in GRANT_SHAPES]
        weights = [shape[0] for shape in GRANT_SHAPES]
        subject_roles = [*self.custom_roles, self.system_roles["EDITOR"], self.system_roles["VIEWER"]]
        made = 0
        while made < s.grants:
            kind = rng.random()
            subject = (("USER", rng.choice(self.users)) if kind < 0.6 else
                       ("GROUP", rng.choice(self.groups)) if kind < 0.9 else
                       ("ROLE", rng.choice(subject_roles)))
            expires = None
            roll = rng.random()
            if roll < 0.10:
                expires = self.now + timedelta(days=rng.randint(30, 3650))
            elif roll < 0.15:
                expires = self.now - timedelta(days=rng.randint(1, 365))  # expired: ignored
            shape = rng.choices(shapes, weights=weights)[0]
            target = {"folder": rng.choice(folders)} if rng.random() < 0.7 else {"document": rng.choice(documents)}
            if self._grant(**target, subject=subject, shape=shape, by=self.admin, expires=expires):
                made += 1
