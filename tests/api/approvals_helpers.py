"""The approval tests' world and GraphQL documents.

The world: organization admin Ada; Dana, an EDITOR who administers the Finance department;
editors Ed and Eve. Ada made the folder Finance/Reports, shared it with Ed (VIEW, CREATE,
UPDATE, DELETE) and uploaded "plan.pdf" into it. So Ada and Dana review Reports and its
contents; Ed may change them but is no reviewer; Eve has no access at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from docgraph import models
from docgraph.globalid import encode
from tests.api.documents_helpers import Member, data_of, folder, member, multipart, pdf, share, uploaded

APPROVAL_FIELDS = """id action status requestedAt comment reviewedAt reviewComment
    stagedFileSize stagedContentType stagedContentHash
    requestedBy { id } reviewedBy { id }
    resource { __typename ... on Document { id name deletedAt } ... on Folder { id name deletedAt } }"""

PAYLOAD_DOCUMENT = "id versionCount deletedAt currentVersion { versionNumber contentHash createdBy { id } }"

REPLACE = f"""mutation($input: ReplaceDocumentInput!) {{ replaceDocument(input: $input) {{
    document {{ {PAYLOAD_DOCUMENT} }} approval {{ {APPROVAL_FIELDS} }} }} }}"""
DELETE_DOCUMENT = f"""mutation($input: DeleteDocumentInput!) {{ deleteDocument(input: $input) {{
    document {{ {PAYLOAD_DOCUMENT} }} approval {{ {APPROVAL_FIELDS} }} }} }}"""
DELETE_FOLDER = f"""mutation($input: DeleteFolderInput!) {{ deleteFolder(input: $input) {{
    folder {{ id deletedAt }} approval {{ {APPROVAL_FIELDS} }} }} }}"""
APPROVE = f"""mutation($input: ReviewInput!) {{ approve(input: $input) {{ approval {{ {APPROVAL_FIELDS} }} }} }}"""
REJECT = f"""mutation($input: ReviewInput!) {{ reject(input: $input) {{ approval {{ {APPROVAL_FIELDS} }} }} }}"""
CANCEL = f"""mutation($input: ReviewInput!) {{ cancelApproval(input: $input) {{ approval {{ {APPROVAL_FIELDS} }} }} }}"""
APPROVALS = """query($status: ApprovalStatus, $first: Int, $after: String) {
    approvals(status: $status, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id status action } } } }"""
DOCUMENT_APPROVALS = """query($id: ID!, $status: ApprovalStatus) { document(id: $id) {
    approvals(status: $status) { totalCount edges { node { id status } } } } }"""
DOCUMENT = f"query($id: ID!) {{ document(id: $id) {{ {PAYLOAD_DOCUMENT} name }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Approval {{ {APPROVAL_FIELDS} }} }} }}"
NOTIFICATIONS = """{ notifications { edges { node { type title message resource { id } } } } }"""


@dataclass
class World:
    org: models.Organization
    ada: Member    # organization ADMIN
    dana: Member   # admin of the Finance department
    ed: Member     # editor with a share on Reports
    eve: Member    # editor without access
    department: models.Department
    reports: str   # Finance/Reports
    doc: dict      # Reports/plan.pdf, uploaded by Ada

    @property
    def finance(self) -> str:
        return encode("Folder", self.department.root_folder_id)


async def make_world(factory, api, http) -> World:
    org = await factory.organization()
    ada = await member(factory, api, org, "ADMIN", first_name="Ada")
    dana = await member(factory, api, org, "EDITOR", first_name="Dana")
    ed = await member(factory, api, org, "EDITOR", first_name="Ed")
    eve = await member(factory, api, org, "EDITOR", first_name="Eve")
    department = await factory.department(org, "Finance", by=ada.user, admins=(dana.user,))
    reports = await folder(api, ada, encode("Folder", department.root_folder_id), "Reports")
    await share(api, ada, reports, ed, "VIEW", "CREATE", "UPDATE", "DELETE")
    doc = await uploaded(http, ada.token, reports, pdf(seed=1), file_name="plan.pdf")
    return World(org, ada, dana, ed, eve, department, reports, doc)


async def replace(http, who: Member, document_id: str, content: bytes, **fields) -> dict:
    """replaceDocument's payload (must succeed)."""
    response = await multipart(http, who.token, REPLACE, {"input": {"documentId": document_id, **fields}},
                               {"input.file": ("new.pdf", content, "application/pdf")})
    return data_of(response)["replaceDocument"]


async def replace_raw(http, who: Member, document_id: str, content: bytes):
    return await multipart(http, who.token, REPLACE, {"input": {"documentId": document_id}},
                           {"input.file": ("new.pdf", content, "application/pdf")})


async def decide(api, mutation: str, who: Member, approval_id: str, comment: str | None = None) -> dict:
    data = await api.ok(mutation, {"input": {"approvalId": approval_id, "comment": comment}}, token=who.token)
    return next(iter(data.values()))["approval"]


async def notifications(api, who: Member) -> list[dict]:
    """The member's approval notifications, newest first (the world's SHARED_WITH_YOU left out)."""
    edges = (await api.ok(NOTIFICATIONS, token=who.token))["notifications"]["edges"]
    return [edge["node"] for edge in edges if edge["node"]["type"].startswith("APPROVAL_")]


async def blob_of(services, sha256: str) -> models.Blob | None:
    async with services.db.reading() as session:
        return (await session.execute(select(models.Blob).where(models.Blob.sha256 == sha256))).scalar_one_or_none()


async def stored_keys(storage) -> set[str]:
    return {info.key async for info in storage.list_keys("")}


async def upload_to(http, who: Member, folder_id: str, seed: int, name: str) -> dict:
    return await uploaded(http, who.token, folder_id, pdf(seed=seed), file_name=name)
