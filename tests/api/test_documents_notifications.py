"""DOCUMENT_REPLACED and DOCUMENT_DELETED reach the document's creator when someone else
replaced or deleted it, and nobody when the creator did it."""

from __future__ import annotations

from tests.api.documents_helpers import data_of, member, pdf, replace, uploaded

INBOX = "{ notifications { edges { node { type message resource { id } } } } }"
DELETE = """mutation($id: ID!) { deleteDocument(input: {documentId: $id}) { document { id } } }"""


async def _inbox(api, who) -> list[dict]:
    return [edge["node"] for edge in (await api.ok(INBOX, token=who.token))["notifications"]["edges"]]


async def test_carl_hears_when_ada_replaces_and_deletes_his_document_but_not_about_his_own(http, api, factory):
    org = await factory.organization()
    carl, ada = await member(factory, api, org, "EDITOR"), await member(factory, api, org, "ADMIN")
    document = await uploaded(http, carl.token, carl.drive, pdf(1200, seed=41), file_name="plan.pdf")
    data_of(await replace(http, carl.token, document["id"], pdf(1200, seed=42)))  # his own: no notification
    assert await _inbox(api, carl) == []

    data_of(await replace(http, ada.token, document["id"], pdf(1200, seed=43)))
    await api.ok(DELETE, {"id": document["id"]}, token=ada.token)

    inbox = await _inbox(api, carl)  # newest first
    assert [n["type"] for n in inbox] == ["DOCUMENT_DELETED", "DOCUMENT_REPLACED"]
    assert '"plan.pdf"' in inbox[1]["message"] and "(3)" in inbox[1]["message"]
    assert await _inbox(api, ada) == []
