"""downloadUrl: a short-lived link (presigned on S3, /files/<token> on the filesystem), counted
and audited; the app's file endpoint serves byte ranges."""

from __future__ import annotations

import time

import httpx
import pytest

from docgraph.http import links
from tests.api.documents_helpers import data_of, member, pdf, replace, share, uploaded

URL = "query($id: ID!) { document(id: $id) { downloadUrl } }"


@pytest.fixture
async def org(factory):
    return await factory.organization()


@pytest.fixture
async def ed(factory, api, org):
    return await member(factory, api, org, "EDITOR")


async def fetch(http: httpx.AsyncClient, url: str, **headers) -> httpx.Response:
    """App links go through the app; presigned ones to the S3 server over HTTP."""
    if url.startswith("http://testserver/"):
        return await http.get(url, headers=headers)
    async with httpx.AsyncClient() as client:
        return await client.get(url, headers=headers)


async def test_download_url_serves_the_current_version_on_both_backends(http, api, backend, ed):
    first, second = pdf(70_000, seed=1), pdf(90_000, seed=2)
    document = await uploaded(http, ed.token, ed.drive, first, file_name="Résumé 2024.pdf")
    data_of(await replace(http, ed.token, document["id"], second))
    url = (await api.ok(URL, {"id": document["id"]}, token=ed.token))["document"]["downloadUrl"]
    response = await fetch(http, url)
    assert response.status_code == 200
    assert response.content == second
    assert response.headers["content-type"].startswith("application/pdf")
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%202024.pdf" in response.headers["content-disposition"]
    versions = await api.ok("""query($id: ID!) { document(id: $id) { versions { edges { node {
                                 versionNumber downloadUrl } } } } }""", {"id": document["id"]}, token=ed.token)
    old = next(e["node"] for e in versions["document"]["versions"]["edges"] if e["node"]["versionNumber"] == 1)
    assert (await fetch(http, old["downloadUrl"])).content == first


async def test_file_endpoint_serves_ranges(http, api, ed):
    content = pdf(3_000_000, seed=3)  # several 1 MiB read blocks
    document = await uploaded(http, ed.token, ed.drive, content)
    url = (await api.ok(URL, {"id": document["id"]}, token=ed.token))["document"]["downloadUrl"]
    assert url.startswith("http://testserver/files/")
    whole = await http.get(url)
    assert (whole.status_code, whole.headers["accept-ranges"], whole.content) == (200, "bytes", content)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=1048570-1048600": (1048570, 1048600),  # across a block border
        "bytes=2999990-": (2999990, len(content) - 1),
        "bytes=-10": (len(content) - 10, len(content) - 1),
        "bytes=2999995-9999999": (2999995, len(content) - 1),
    }
    for header, (first, last) in cases.items():
        part = await http.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {first}-{last}/{len(content)}", header
        assert part.content == content[first:last + 1], header
    for header in ("bytes=3000000-", "bytes=-0"):
        refused = await http.get(url, headers={"Range": header})
        assert (refused.status_code, refused.headers["content-range"]) == (416, f"bytes */{len(content)}"), header
    many = await http.get(url, headers={"Range": "bytes=0-1,5-6"})  # multi-range: the whole file
    assert many.status_code == 200 and many.content == content
    head = await http.head(url)
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(content)))


async def test_file_links_are_signed_and_expire(http, api, services, ed):
    document = await uploaded(http, ed.token, ed.drive)
    url = (await api.ok(URL, {"id": document["id"]}, token=ed.token))["document"]["downloadUrl"]
    token = url.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await http.get(f"/files/{forged}")).status_code == 404
    signer = links.signer(services.settings)
    claims = signer.verify(links.FILE_LINK, token)
    expired = signer.sign(links.FILE_LINK, {"v": claims["v"]}, expires_at=time.time() - 1)
    assert (await http.get(f"/files/{expired}")).status_code == 404
    wrong_purpose = signer.sign(links.PART_LINK, {"v": claims["v"]}, expires_at=time.time() + 60)
    assert (await http.get(f"/files/{wrong_purpose}")).status_code == 404


async def test_issuing_a_link_counts_a_download_and_is_audited(http, api, factory, org, ed):
    document = await uploaded(http, ed.token, ed.drive)
    vic = await member(factory, api, org, "VIEWER")
    # Vic (viewer, no share) on Ed's document: NOT_FOUND, and nothing is counted
    assert await api.code(URL, {"id": document["id"]}, token=vic.token) == "NOT_FOUND"
    await share(api, ed, document["id"], vic, "VIEW")
    for _ in range(2):
        await api.ok(URL, {"id": document["id"]}, token=vic.token)
    version = await api.ok("""query($id: ID!) { document(id: $id) { currentVersion {
                                downloadCount lastDownloadedAt } } }""", {"id": document["id"]}, token=ed.token)
    assert version["document"]["currentVersion"]["downloadCount"] == 2
    assert version["document"]["currentVersion"]["lastDownloadedAt"]
    admin = await member(factory, api, org, "ADMIN")
    log = await api.ok("""{ auditLog(filter: {actions: [DOWNLOAD]}) { edges { node { user { id } status } } } }""",
                       token=admin.token)
    assert [e["node"] for e in log["auditLog"]["edges"]] == [{"user": {"id": vic.id}, "status": "SUCCESS"}] * 2
