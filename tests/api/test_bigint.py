"""Byte counts are BigInt: 64-bit integers written as JSON numbers. A 10 GiB quota and a 5 GiB
file are shown exactly; a value outside the 64-bit range, or no whole number, is BAD_USER_INPUT
and changes nothing."""

from __future__ import annotations

import pytest

from docgraph import globalid, models

from .documents_helpers import PDF_TYPE, member

GiB = 2**30
SETTINGS = "{ organizationSettings { maxDocumentSize storageQuota } }"
UPDATE = """mutation($input: UpdateOrganizationSettingsInput!) {
  updateOrganizationSettings(input: $input) { settings { maxDocumentSize storageQuota } } }"""
START = "mutation($input: StartUploadInput!) { startUpload(input: $input) { id partSize } }"


async def test_ten_gibibytes_of_quota_and_a_five_gibibyte_document_are_exact(api, factory, services, http):
    org = await factory.organization()
    admin = await member(factory, api, org, "ADMIN")
    data = await api.ok(UPDATE, {"input": {"storageQuota": 10 * GiB, "maxDocumentSize": 6 * GiB}}, token=admin.token)
    assert data["updateOrganizationSettings"]["settings"] == {"maxDocumentSize": 6 * GiB, "storageQuota": 10 * GiB}
    assert (await api.ok(SETTINGS, token=admin.token))["organizationSettings"]["storageQuota"] == 10 * GiB
    largest = 2**63 - 1
    data = await api.ok(UPDATE, {"input": {"storageQuota": largest}}, token=admin.token)
    assert data["updateOrganizationSettings"]["settings"]["storageQuota"] == largest
    # As a JSON number, not a string.
    raw = (await http.post("/graphql", json={"query": SETTINGS},
                           headers={"authorization": f"Bearer {admin.token}"})).text
    assert f'"storageQuota":{largest}' in raw.replace(" ", "")

    # A 5 GiB upload is accepted as a size, and its document shows it.
    started = await api.ok(START, {"input": {"folderId": admin.drive, "fileName": "huge.pdf",
                                             "contentType": PDF_TYPE, "size": 5 * GiB}}, token=admin.token)
    assert started["startUpload"]["partSize"] * 10_000 >= 5 * GiB
    async with services.db.transaction() as session:
        document = models.Document(organization_id=org.id, folder_id=globalid.decode(admin.drive)[1],
                                   name="huge.bin", content_type=PDF_TYPE, file_size=5 * GiB,
                                   created_by=admin.user.id)
        session.add(document)
    shown = await api.ok("query($id: ID!) { document(id: $id) { fileSize } }",
                         {"id": globalid.encode("Document", document.id)}, token=admin.token)
    assert shown["document"]["fileSize"] == 5 * GiB


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 1.5, "10", True, 10.0 * 2**70])
async def test_a_bigint_variable_that_does_not_fit_is_bad_user_input_and_changes_nothing(api, factory, value):
    org = await factory.organization()
    admin = await member(factory, api, org, "ADMIN")
    before = (await api.ok(SETTINGS, token=admin.token))["organizationSettings"]
    error = await api.error(UPDATE, {"input": {"storageQuota": value}}, token=admin.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert (await api.ok(SETTINGS, token=admin.token))["organizationSettings"] == before


async def test_a_bigint_literal_out_of_range_is_refused_with_bad_user_input(api, factory):
    org = await factory.organization()
    admin = await member(factory, api, org, "ADMIN")
    for literal in ("9223372036854775808", "1.5", '"10"'):
        query = (f"mutation {{ updateOrganizationSettings(input: {{storageQuota: {literal}}}) "
                 "{ settings { storageQuota } } }")
        error = await api.error(query, token=admin.token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (literal, error)
    data = await api.ok("mutation { updateOrganizationSettings(input: {storageQuota: 9223372036854775807}) "
                        "{ settings { storageQuota } } }", token=admin.token)
    assert data["updateOrganizationSettings"]["settings"]["storageQuota"] == 2**63 - 1
