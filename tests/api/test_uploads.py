"""The GraphQL multipart request spec on /graphql: protocol errors, body limits, and constant
memory while a large file streams to storage."""

from __future__ import annotations

import gc
import hashlib
import json
import tracemalloc

import pytest

from tests.api.documents_helpers import (
    PREFLIGHT,
    UPLOAD,
    code_of,
    data_of,
    member,
    multipart,
    pdf,
    storage_keys,
    table_counts,
)

MiB = 1024 * 1024
BOUNDARY = "docgraph-test-boundary"


def field(name: str, content: bytes, file_name: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + content + b"\r\n"


def operations(folder_id: str) -> bytes:
    return json.dumps({"query": UPLOAD, "variables": {"input": {"folderId": folder_id, "file": None}}}).encode()


FILE_MAP = json.dumps({"0": ["variables.input.file"]}).encode()


async def post_raw(http, token: str | None, *parts: bytes):
    headers = {**PREFLIGHT, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await http.post("/graphql", headers=headers, content=b"".join(parts) + f"--{BOUNDARY}--\r\n".encode())


@pytest.fixture
async def org(factory):
    return await factory.organization(max_document_size=200_000)


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR")


async def test_malformed_requests_are_refused_and_store_nothing(http, services, org, ed):
    a_file = field("0", pdf(), "a.pdf", "application/pdf")
    ops, file_map = field("operations", operations(ed.drive)), field("map", FILE_MAP)
    cases = {
        "a file before operations and map": (a_file, ops, file_map),
        "map before operations": (file_map, ops, a_file),
        "a mapped file that never comes": (ops, file_map),
        "a file missing from map": (ops, field("map", b"{}"), a_file),
        "a map path that does not exist": (ops, field("map", b'{"0": ["variables.nope.file"]}'), a_file),
        "a map path to a value that is not null": (ops, field("map", b'{"0": ["variables.input.folderId"]}'), a_file),
        "operations that are not JSON": (field("operations", b"{nope"), file_map, a_file),
        "operations nested 1,000 levels": (field("operations", b'{"query": "{ __typename }", "variables": {"v": '
                                                 + b"[" * 1000 + b"]" * 1000 + b"}}"), file_map, a_file),
        "batched operations": (field("operations", b"[" + operations(ed.drive) + b"]"), file_map, a_file),
        "a map that is not an object of path lists": (ops, field("map", b'{"0": "variables.input.file"}'), a_file),
    }
    for what, parts in cases.items():
        response = await post_raw(http, ed.token, *parts)
        assert (response.status_code, code_of(response)) == (400, "BAD_USER_INPUT"), what
    cut = await http.post("/graphql", content=b"".join([ops, file_map, a_file])[:-40], headers={
        **PREFLIGHT, "Authorization": f"Bearer {ed.token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert (cut.status_code, code_of(cut)) == (400, "BAD_USER_INPUT")
    assert await storage_keys(services.storage, f"{org.id}/") == []
    assert await table_counts(services, "document") == {"document": 0}


async def test_multipart_needs_the_preflight_header_and_a_token(http, ed):
    no_preflight = await http.post("/graphql", headers={"Authorization": f"Bearer {ed.token}"},
                                   files={"0": ("a.pdf", pdf(), "application/pdf")},
                                   data={"operations": operations(ed.drive).decode(), "map": FILE_MAP.decode()})
    assert (no_preflight.status_code, code_of(no_preflight)) == (400, "BAD_USER_INPUT")
    anonymous = await multipart(http, None, UPLOAD, {"input": {"folderId": ed.drive}},
                                {"input.file": ("a.pdf", pdf(), "application/pdf")})
    assert (anonymous.status_code, code_of(anonymous)) == (401, "UNAUTHENTICATED")


async def test_a_body_over_the_limit_is_cut_off_with_413_and_leaves_nothing(http, services, settings, org, ed):
    settings.max_request_bytes = 20_000  # body limit: 200,000 per document + 20,000
    # Declared too long: refused before reading.
    declared = await multipart(http, ed.token, UPLOAD, {"input": {"folderId": ed.drive}},
                               {"input.file": ("a.pdf", pdf(250_000), "application/pdf")})
    assert (declared.status_code, code_of(declared)) == (413, "PAYLOAD_TOO_LARGE")

    async def chunked(first_file: bytes, second_file: bytes):
        yield field("operations", json.dumps({"query": UPLOAD, "variables": {"input": {
            "folderId": ed.drive, "file": None}, "other": None}}).encode())
        yield field("map", json.dumps({"0": ["variables.input.file"], "1": ["variables.other"]}).encode())
        for index, content in enumerate((first_file, second_file)):
            part = field(str(index), content, f"{index}.pdf", "application/pdf")
            for start in range(0, len(part), 16_384):
                yield part[start:start + 16_384]
        yield f"--{BOUNDARY}--\r\n".encode()

    # No length given: cut off while the second file streams; the first one is gone too.
    streamed = await http.post("/graphql", content=chunked(pdf(150_000, seed=1), pdf(150_000, seed=2)), headers={
        **PREFLIGHT, "Authorization": f"Bearer {ed.token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert (streamed.status_code, code_of(streamed)) == (413, "PAYLOAD_TOO_LARGE")
    assert await storage_keys(services.storage, f"{org.id}/") == []
    assert await table_counts(services, "document", "blob") == {"document": 0, "blob": 0}


async def test_a_64_mib_upload_streams_with_constant_memory(http, services, factory, api):
    org = await factory.organization(max_document_size=100 * MiB)
    ann = await member(factory, api, org, "EDITOR")
    size, block = 64 * MiB, pdf(64 * 1024, seed=5)[:64 * 1024]
    digest = hashlib.sha256()

    async def body():
        yield field("operations", operations(ann.drive))
        yield field("map", FILE_MAP)
        yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="big.pdf"\r\n'
               f"Content-Type: application/pdf\r\n\r\n").encode()
        for _ in range(size // len(block)):  # the same block again and again: nothing accumulates here
            digest.update(block)
            yield block
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    headers = {**PREFLIGHT, "Authorization": f"Bearer {ann.token}",
               "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        response = await http.post("/graphql", content=body(), headers=headers)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    document = data_of(response)["uploadDocument"]["document"]
    assert document["fileSize"] == size
    assert document["currentVersion"]["contentHash"] == digest.hexdigest()
    assert peak - baseline < 16 * MiB, f"peak grew by {(peak - baseline) / MiB:.1f} MiB"
    assert await storage_keys(services.storage, f"{org.id}/") == [f"{org.id}/blobs/{digest.hexdigest()}"]


class CountingStorage:
    """The app's storage, counting the objects written through it."""

    def __init__(self, storage) -> None:
        self._storage, self.writes = storage, 0

    async def put_stream(self, *args, **kwargs):
        self.writes += 1
        return await self._storage.put_stream(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._storage, name)


async def test_more_files_than_the_cap_are_refused_before_any_is_stored(http, services, settings, org, ed):
    """One request with 200 file parts (5,000 took 6 s, each staged with an fsync)."""
    counting = services.storage = CountingStorage(services.storage)
    count = 200
    ops = json.dumps({"query": UPLOAD, "variables": {"input": {"folderId": ed.drive, "file": None},
                                                     "more": [None] * count}}).encode()
    file_map = json.dumps({"0": ["variables.input.file"],
                           **{str(n): [f"variables.more.{n - 1}"] for n in range(1, count)}}).encode()
    files = [field(str(n), pdf(seed=n), f"{n}.pdf", "application/pdf") for n in range(count)]
    response = await post_raw(http, ed.token, field("operations", ops), field("map", file_map), *files)
    assert (response.status_code, code_of(response)) == (413, "PAYLOAD_TOO_LARGE")
    assert response.json()["errors"][0]["extensions"]["maxFiles"] == settings.max_upload_files
    assert counting.writes == 0
    assert await storage_keys(services.storage, f"{org.id}/") == []
    # At the cap, the files are taken.
    settings.max_upload_files = 1
    accepted = await post_raw(http, ed.token, field("operations", operations(ed.drive)), field("map", FILE_MAP),
                              field("0", pdf(), "a.pdf", "application/pdf"))
    assert data_of(accepted)["uploadDocument"]["document"]["name"] == "a.pdf"
    assert counting.writes == 1
