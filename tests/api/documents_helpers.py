"""Helpers for the document tests: sample files of each kind, GraphQL multipart requests sent
exactly as the spec says (httpx `data=` operations + map, then `files=`), and a small world."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx

from docgraph import models
from docgraph.globalid import encode

PREFLIGHT = {"x-graphql-preflight": "1"}

DOCUMENT_FIELDS = """id name description contentType fileSize tags metadata versionCount createdAt deletedAt
    lock { lockedBy { id } lockedAt expiresAt }
    currentVersion { id versionNumber fileSize contentType contentHash changeComment }"""

UPLOAD = f"""mutation($input: UploadDocumentInput!) {{
    uploadDocument(input: $input) {{ document {{ {DOCUMENT_FIELDS} }} }} }}"""
REPLACE = f"""mutation($input: ReplaceDocumentInput!) {{
    replaceDocument(input: $input) {{ document {{ {DOCUMENT_FIELDS} }} }} }}"""
DOCUMENT = f"query($id: ID!) {{ document(id: $id) {{ {DOCUMENT_FIELDS} }} }}"


# --- sample files -----------------------------------------------------------------------------------

def noise(size: int, seed: int = 0) -> bytes:
    return random.Random(seed * 7919 + size).randbytes(size)


def pdf(size: int = 2000, seed: int = 0) -> bytes:
    head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    return head + noise(max(size - len(head) - len(tail), 0), seed) + tail


def png(size: int = 1000, seed: int = 0) -> bytes:
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    return head + noise(max(size - len(head), 0), seed)


def docx(text: str = "hello") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", f"<w:document>{text}</w:document>")
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- multipart requests ----------------------------------------------------------------------------

async def multipart(http: httpx.AsyncClient, token: str | None, query: str, variables: dict,
                    files: dict[str, tuple[str, bytes, str]], *, headers: dict | None = None) -> httpx.Response:
    """POST a GraphQL multipart request; `files` maps a variable path ("input.file") to
    (file name, bytes, content type). The variables at those paths are sent as null."""
    variables = json.loads(json.dumps(variables))
    file_map, parts = {}, {}
    for index, (path, file) in enumerate(files.items()):
        target = variables
        *parents, last = path.split(".")
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = None
        file_map[str(index)] = [f"variables.{path}"]
        parts[str(index)] = file
    all_headers = {**PREFLIGHT, **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    return await http.post("/graphql", headers=all_headers, files=parts, data={
        "operations": json.dumps({"query": query, "variables": variables}), "map": json.dumps(file_map)})


def data_of(response: httpx.Response) -> dict:
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def code_of(response: httpx.Response) -> str:
    body = response.json()
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


async def upload(http, token: str, folder_id: str, content: bytes, *, file_name: str = "report.pdf",
                 content_type: str = PDF_TYPE, **fields: Any) -> httpx.Response:
    return await multipart(http, token, UPLOAD, {"input": {"folderId": folder_id, **fields}},
                           {"input.file": (file_name, content, content_type)})


async def uploaded(http, token: str, folder_id: str, content: bytes | None = None, **kwargs) -> dict:
    """The document of an upload that must succeed."""
    response = await upload(http, token, folder_id, pdf() if content is None else content, **kwargs)
    return data_of(response)["uploadDocument"]["document"]


async def replace(http, token: str, document_id: str, content: bytes, *, file_name: str = "report.pdf",
                  content_type: str = PDF_TYPE, **fields: Any) -> httpx.Response:
    return await multipart(http, token, REPLACE, {"input": {"documentId": document_id, **fields}},
                           {"input.file": (file_name, content, content_type)})


# --- a small world -----------------------------------------------------------------------------------

@dataclass
class Member:
    user: models.User
    token: str
    drive: str  # global ID of the member's My Drive

    @property
    def id(self) -> str:
        return encode("User", self.user.id)


async def member(factory, api, org, role: str = "EDITOR", **kwargs) -> Member:
    user = await factory.user(org, role, **kwargs)
    token = factory.token(user, org)
    drive = (await api.ok("{ me { myDrive { id } } }", token=token))["me"]["myDrive"]["id"]
    return Member(user, token, drive)


SHARE = """mutation($input: ShareInput!) { share(input: $input) { share { id } } }"""


async def share(api, by: Member, resource_id: str, subject: Member, *capabilities: str) -> None:
    await api.ok(SHARE, {"input": {"resourceId": resource_id, "subjectId": subject.id,
                                   "capabilities": list(capabilities)}}, token=by.token)


CREATE_FOLDER = "mutation($input: CreateFolderInput!) { createFolder(input: $input) { folder { id } } }"


async def folder(api, by: Member, parent_id: str, name: str) -> str:
    data = await api.ok(CREATE_FOLDER, {"input": {"parentId": parent_id, "name": name}}, token=by.token)
    return data["createFolder"]["folder"]["id"]


async def storage_keys(storage, prefix: str = "") -> list[str]:
    return sorted([info.key async for info in storage.list_keys(prefix)])


async def table_counts(services, *tables: str) -> dict[str, int]:
    from sqlalchemy import text

    async with services.db.reading() as session:
        return {t: (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in tables}
