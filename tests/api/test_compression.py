"""Response compression (issue 18 #13): GraphQL answers above the threshold are compressed as
the client's Accept-Encoding allows; downloads never are."""

from __future__ import annotations

import pytest

from tests.api.documents_helpers import member, uploaded

# A large answer that needs no data: the schema's types and their descriptions (~28 KB).
LARGE = "{ __schema { types { name description fields { name description } } } }"


async def _wire(http, accept_encoding: str | None, query: str = LARGE):
    """(Content-Encoding, bytes on the wire, bytes decoded) of a GraphQL answer."""
    request = http.build_request("POST", "/graphql", json={"query": query})
    del request.headers["accept-encoding"]  # httpx sends one of its own by default
    if accept_encoding is not None:
        request.headers["accept-encoding"] = accept_encoding
    response = await http.send(request, stream=True)
    try:
        decoded = b"".join([chunk async for chunk in response.aiter_bytes()])
    finally:
        await response.aclose()
    return response.headers.get("content-encoding"), response.num_bytes_downloaded, decoded


@pytest.mark.parametrize(("accepted", "chosen"), [
    ("gzip", "gzip"), ("gzip, deflate, br", "br"), ("gzip, br, zstd", "zstd"), ("br;q=0, gzip", "gzip"),
])
async def test_large_graphql_answers_are_compressed_as_the_client_accepts(http, accepted, chosen):
    plain_encoding, plain_bytes, plain = await _wire(http, "identity")
    encoding, wire_bytes, decoded = await _wire(http, accepted)
    assert plain_encoding is None and plain_bytes == len(plain) > 20_000
    assert encoding == chosen
    assert decoded == plain and wire_bytes < plain_bytes / 4


async def test_small_answers_and_clients_without_accept_encoding_get_plain_json(http):
    assert (await _wire(http, "gzip", "{ __typename }"))[0] is None
    assert (await _wire(http, None))[0] is None


async def test_downloads_are_never_compressed(http, api, factory):
    org = await factory.organization()
    ed = await member(factory, api, org, "EDITOR")
    text = b"a compressible line of text\n" * 5_000
    document = await uploaded(http, ed.token, ed.drive, text, file_name="notes.txt", content_type="text/plain")
    url = (await api.ok("query($id: ID!) { document(id: $id) { downloadUrl } }", {"id": document["id"]},
                        token=ed.token))["document"]["downloadUrl"]
    for headers in ({"accept-encoding": "gzip, br, zstd"}, {"accept-encoding": "gzip", "range": "bytes=100-199"}):
        async with http.stream("GET", url, headers=headers) as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        assert "content-encoding" not in response.headers, headers
        assert body == (text[100:200] if "range" in headers else text)
