"""createOrganization (super admins only) and the `organization` query."""

from __future__ import annotations

from sqlalchemy import text

from .tenancy_helpers import ME, audit_rows, gid, login

CREATE_ORG = """
mutation($input: CreateOrganizationInput!) {
  createOrganization(input: $input) {
    organization { id name description status roles { name isSystem } }
  }
}"""
ORGANIZATION = """
{ organization { name departments { name } groups { name } roles { name isSystem }
                 members { totalCount edges { node { email systemRole } } } } }"""


def _input(**overrides) -> dict:
    return {"input": {"name": "Globex", "description": "Widgets", "adminEmail": "boss@globex.com",
                      "adminPassword": "s3cret-password", "adminFirstName": "Hank", "adminLastName": "Scorpio",
                      **overrides}}


async def _super_admin(factory):
    root = await factory.user(None, email="root@example.com", super_admin=True)
    return factory.token(root, None)


async def test_super_admin_creates_an_organization_with_a_new_admin(api, factory, services):
    token = await _super_admin(factory)

    org = (await api.ok(CREATE_ORG, _input(), token=token))["createOrganization"]["organization"]

    assert (org["name"], org["description"], org["status"]) == ("Globex", "Widgets", "ACTIVE")
    assert org["roles"] == [{"name": key, "isSystem": True} for key in ("ADMIN", "EDITOR", "VIEWER")]
    # The new admin can sign in straight away, lands in the organization and has a My Drive.
    signed_in = await login(api, "boss@globex.com", "s3cret-password")
    me = (await api.ok(ME, token=signed_in["accessToken"]))["me"]
    assert me["organization"] == {"id": org["id"], "name": "Globex"}
    assert me["systemRole"] == "ADMIN"
    assert me["myDrive"]["name"] == "My Drive"
    created = [(r["action"], r["resource_type"]) for r in await audit_rows(services, "CREATE")]
    assert created == [("CREATE", "ORGANIZATION"), ("CREATE", "USER")]


async def test_an_existing_user_becomes_the_admin_without_a_password(api, factory, services):
    token = await _super_admin(factory)
    home = await factory.organization("Home")
    existing = await factory.user(home, "VIEWER", email="Pat@Example.com")

    created = await api.ok(CREATE_ORG, _input(adminEmail="pat@example.com", adminPassword=None), token=token)

    org_id = created["createOrganization"]["organization"]["id"]
    # Home stays the default; the new organization is one more membership, as ADMIN.
    assert (await login(api, "pat@example.com"))["viewer"]["organization"]["name"] == "Home"
    async with services.db.reading() as session:
        rows = (await session.execute(text(
            "SELECT o.name, m.system_role, m.is_default FROM membership m JOIN organization o "
            "ON o.id = m.organization_id WHERE m.user_id = :u ORDER BY o.name"), {"u": existing.id})).all()
    assert [tuple(r) for r in rows] == [("Globex", "ADMIN", False), ("Home", "VIEWER", True)]
    assert org_id == gid("Organization", (await _org_id(services, "Globex")))


async def _org_id(services, name):
    async with services.db.reading() as session:
        return (await session.execute(text("SELECT id FROM organization WHERE name = :n"), {"n": name})).scalar_one()


async def test_organization_names_are_unique_case_insensitively(api, factory):
    token = await _super_admin(factory)
    await factory.organization("Globex")
    error = await api.error(CREATE_ORG, _input(name="GLOBEX"), token=token)
    assert error["extensions"]["code"] == "CONFLICT"


async def test_org_admin_is_forbidden_to_create_organizations_and_the_refusal_is_audited(api, factory, services):
    org = await factory.organization()
    admin = await factory.user(org, "ADMIN")

    assert await api.code(CREATE_ORG, _input(), token=factory.token(admin, org)) == "FORBIDDEN"

    [row] = await audit_rows(services, "CREATE")
    assert (row["status"], row["resource_type"], row["user_id"]) == ("FAILURE", "ORGANIZATION", admin.id)
    assert await api.code(CREATE_ORG, _input()) == "UNAUTHENTICATED"


async def test_bad_input_for_a_new_organization(api, factory):
    token = await _super_admin(factory)
    cases = [
        _input(adminPassword=None),              # a new admin needs a password
        _input(adminFirstName=None),             # ... and names
        _input(adminLastName="x" * 101),
        _input(adminPassword="short"),
        _input(adminEmail="not-an-email"),
        _input(name="   "),
        _input(description="d" * 501),
    ]
    for variables in cases:
        assert await api.code(CREATE_ORG, variables, token=token) == "BAD_USER_INPUT", variables


async def test_organization_query_is_the_tokens_organization(api, factory):
    org = await factory.organization("Acme")
    await factory.organization("Elsewhere")
    admin = await factory.user(org, "ADMIN", email="a@acme.com")
    viewer = await factory.user(org, "VIEWER", email="v@acme.com")
    await factory.department(org, "Sales", by=admin)
    await factory.group(org, viewer, name="Readers")
    await factory.role(org, name="Auditor")

    data = (await api.ok(ORGANIZATION, token=factory.token(viewer, org)))["organization"]

    assert data["name"] == "Acme"
    assert data["departments"] == [{"name": "Sales"}]
    assert data["groups"] == [{"name": "Readers"}]
    assert [r["name"] for r in data["roles"]] == ["ADMIN", "EDITOR", "VIEWER", "Auditor"]
    assert data["members"]["totalCount"] == 2
    assert [e["node"] for e in data["members"]["edges"]] == [
        {"email": "a@acme.com", "systemRole": "ADMIN"}, {"email": "v@acme.com", "systemRole": "VIEWER"}]


async def test_super_admin_without_organization_has_no_organization(api, factory):
    token = await _super_admin(factory)
    assert (await api.ok("{ organization { name } }", token=token)) == {"organization": None}


async def test_details_of_another_membership_need_a_switch(api, factory):
    home, away = await factory.organization("Home"), await factory.organization("Away")
    user = await factory.user(home, "ADMIN")
    await factory.join(user, away, "ADMIN")

    error = await api.error("{ me { organizations { name departments { name } } } }", token=factory.token(user, home))

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "switchOrganization" in error["message"]


NODE = """
query($id: ID!) { node(id: $id) { id ... on User { email } ... on Organization { name } ... on Department { name }
                                   ... on Group { name } ... on Role { name } } }"""


async def test_tenancy_nodes_resolve_in_the_viewers_organization_only(api, factory):
    org, other = await factory.organization("Acme"), await factory.organization("Other")
    viewer = await factory.user(org, "VIEWER", email="v@acme.com")
    colleague = await factory.user(org, "EDITOR", email="c@acme.com")
    stranger = await factory.user(other, "ADMIN", email="s@other.com")
    token = factory.token(viewer, org)
    mine = {
        gid("User", colleague): "c@acme.com",
        gid("Organization", org): "Acme",
        gid("Department", await factory.department(org, "Sales", by=colleague)): "Sales",
        gid("Group", await factory.group(org, name="Readers")): "Readers",
        gid("Role", await factory.role(org, name="Auditor")): "Auditor",
    }
    theirs = [
        gid("User", stranger), gid("Organization", other),
        gid("Department", await factory.department(other, by=stranger)),
        gid("Group", await factory.group(other)), gid("Role", await factory.role(other)),
    ]

    for node_id, label in mine.items():
        node = (await api.ok(NODE, {"id": node_id}, token=token))["node"]
        assert node["id"] == node_id and label in (node.get("email"), node.get("name"))
    for node_id in theirs:
        assert (await api.ok(NODE, {"id": node_id}, token=token))["node"] is None
