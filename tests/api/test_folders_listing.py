"""drives, children (keyset pages, exact totalCount), ancestors, parent, documents, node/nodes."""

from __future__ import annotations

import uuid

import pytest

from docgraph import globalid, models
from tests.permissions.helpers import CHILDREN, Drive, department_root, gid, my_drive, person

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.fixture
async def setup(api, factory):
    org = await factory.organization()
    ada = await person(factory, org, "ADMIN", "Ada (admin)")
    ed = await person(factory, org, "EDITOR", "Ed (editor)")
    finance = await factory.department(org, "Finance", by=ada.user)
    legal = await factory.department(org, "Legal", by=ada.user)
    hr = await factory.department(org, "HR", by=ada.user)
    return {"org": org, "ada": ada, "ed": ed, "finance": finance, "legal": legal, "hr": hr, "drive": Drive(api)}


async def test_drives_lists_visible_department_roots_by_name_then_my_drive(api, services, setup):
    s = setup
    names = lambda data: [d["name"] for d in data["drives"]]  # noqa: E731
    data = await api.ok("{ drives { id name drive } }", token=s["ada"].token)
    assert names(data) == ["Finance", "HR", "Legal", "My Drive"]
    assert data["drives"][-1]["id"] == await my_drive(services, s["ada"].user, s["org"])
    data = await api.ok("{ drives { name } }", token=s["ed"].token)
    assert names(data) == ["My Drive"]  # Ed may view no department root
    await s["drive"].share(s["ada"], department_root(s["legal"]), s["ed"].id, {"VIEW"})
    (inside,) = await s["drive"].tree(s["ada"], department_root(s["hr"]), "Inside")
    await s["drive"].share(s["ada"], inside, s["ed"].id, {"VIEW"})  # a subfolder does not make HR a drive
    assert names(await api.ok("{ drives { name } }", token=s["ed"].token)) == ["Legal", "My Drive"]


async def test_children_are_paged_by_name_with_an_exact_total(api, setup):
    s, drive, ada, ed = setup, setup["drive"], setup["ada"], setup["ed"]
    root = department_root(s["finance"])
    made = {name: await drive.create(ada, root, name) for name in ["delta", "Alpha", "charlie", "Bravo", "echo"]}
    await drive.share(ada, root, ed.id, {"VIEW"})
    await drive.share(ada, made["charlie"], ed.id, set())  # hidden from Ed
    seen, after = [], None
    while True:
        data = (await api.ok(CHILDREN, {"id": root, "first": 2, "after": after}, token=ed.token))["folder"]["children"]
        assert data["totalCount"] == 4
        seen += [e["node"]["name"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == ["Alpha", "Bravo", "delta", "echo"]
    data = (await api.ok(CHILDREN, {"id": root, "first": 0}, token=ada.token))["folder"]["children"]
    assert data["totalCount"] == 5 and data["edges"] == [] and data["pageInfo"]["hasNextPage"]


async def test_children_cursor_stays_valid_when_rows_are_added(api, setup):
    s, drive, ada = setup, setup["drive"], setup["ada"]
    root = department_root(s["finance"])
    for name in ["b", "d", "f"]:
        await drive.create(ada, root, name)
    page = (await api.ok(CHILDREN, {"id": root, "first": 2}, token=ada.token))["folder"]["children"]
    await drive.create(ada, root, "a")  # before the cursor
    await drive.create(ada, root, "e")  # after it
    rest = (await api.ok(CHILDREN, {"id": root, "after": page["pageInfo"]["endCursor"]}, token=ada.token))
    assert [e["node"]["name"] for e in rest["folder"]["children"]["edges"]] == ["e", "f"]


async def test_children_bad_page_arguments(api, setup):
    root, token = department_root(setup["finance"]), setup["ada"].token
    for variables in ({"first": 101}, {"first": -1}, {"after": "not-a-cursor"}, {"after": "WyJ4Il0"}):
        assert await api.code(CHILDREN, {"id": root, **variables}, token=token) == "BAD_USER_INPUT", variables


async def test_ancestors_and_parent_show_only_what_the_viewer_may_see(api, setup):
    s, drive, ada, ed = setup, setup["drive"], setup["ada"], setup["ed"]
    _a, b, c = await drive.tree(ada, department_root(s["finance"]), "A", "B", "C")
    await drive.share(ada, b, ed.id, {"VIEW"})
    query = "query($id: ID!) { folder(id: $id) { parent { name } ancestors { name } } }"
    data = (await api.ok(query, {"id": c}, token=ed.token))["folder"]
    assert [x["name"] for x in data["ancestors"]] == ["B"] and data["parent"] == {"name": "B"}
    data = (await api.ok(query, {"id": b}, token=ed.token))["folder"]
    assert data["ancestors"] == [] and data["parent"] is None
    data = (await api.ok(query, {"id": c}, token=ada.token))["folder"]
    assert [x["name"] for x in data["ancestors"]] == ["Finance", "A", "B"]


async def test_documents_lists_what_the_viewer_may_view_with_document_level_grants(api, services, setup):
    s, drive, ada, ed = setup, setup["drive"], setup["ada"], setup["ed"]
    (reports,) = await drive.tree(ada, department_root(s["finance"]), "Reports")
    documents = {}
    async with services.db.transaction() as session:
        for name in ["b.pdf", "a.pdf", "c.pdf"]:
            row = models.Document(organization_id=s["org"].id, folder_id=globalid.decode(reports)[1], name=name,
                                  content_type="application/pdf", file_size=1, created_by=ada.user.id)
            session.add(row)
            documents[name] = gid("Document", row.id)
    await drive.share(ada, reports, ed.id, {"VIEW"})
    await drive.share(ada, documents["b.pdf"], ed.id, set())  # a document-level restriction
    await drive.share(ada, documents["c.pdf"], ed.id, {"VIEW", "UPDATE"})  # a document-level widening
    query = """query($id: ID!) { folder(id: $id) { documents { totalCount edges { node { name
      myPermissions { canView canUpdate } } } } } }"""
    listing = (await api.ok(query, {"id": reports}, token=ed.token))["folder"]["documents"]
    assert listing["totalCount"] == 2
    assert [(e["node"]["name"], e["node"]["myPermissions"]["canUpdate"]) for e in listing["edges"]] == [
        ("a.pdf", False), ("c.pdf", True)]
    assert (await api.ok(query, {"id": reports}, token=ada.token))["folder"]["documents"]["totalCount"] == 3


async def test_folder_query_is_not_found_when_invisible(api, setup):
    s = setup
    query = "query($id: ID!) { folder(id: $id) { id } }"
    assert await api.code(query, {"id": department_root(s["finance"])}, token=s["ed"].token) == "NOT_FOUND"
    assert await api.code(query, {"id": gid("Folder", uuid.uuid4())}, token=s["ada"].token) == "NOT_FOUND"
    assert await api.code(query, {"id": s["ed"].id}, token=s["ada"].token) == "BAD_USER_INPUT"


async def test_node_resolves_every_visible_type_and_hides_the_rest(api, factory, setup):
    s, ada, ed = setup, setup["ada"], setup["ed"]
    root = department_root(s["finance"])
    share = await s["drive"].share(ada, root, ed.id, {"VIEW"})
    group = await factory.group(s["org"], ed.user)
    role = await factory.role(s["org"], ed.user)
    visible = {
        root: "Folder", share: "Share", ed.id: "User", gid("Group", group.id): "Group",
        gid("Role", role.id): "Role", gid("Department", s["finance"].id): "Department",
        gid("Organization", s["org"].id): "Organization",
    }
    for global_id, type_name in visible.items():
        data = await api.ok(NODE, {"id": global_id}, token=ed.token)
        assert data["node"] == {"__typename": type_name, "id": global_id}, type_name
    # Ed sees his own share on Finance, but not a share on Legal nor the Legal root.
    other = await person(factory, s["org"], "EDITOR", "Eve")
    legal_share = await s["drive"].share(ada, department_root(s["legal"]), other.id, {"VIEW"})
    for hidden in (legal_share, department_root(s["legal"]), gid("Folder", uuid.uuid4())):
        assert (await api.ok(NODE, {"id": hidden}, token=ed.token))["node"] is None
    data = await api.ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                        {"ids": [root, legal_share, ed.id]}, token=ed.token)
    assert data["nodes"] == [{"id": root}, None, {"id": ed.id}]


async def test_node_rejects_malformed_and_unknown_type_ids(api, setup):
    token = setup["ada"].token
    for bad in ("", "%%%", gid("Spaceship", uuid.uuid4())):
        assert await api.code(NODE, {"id": bad}, token=token) == "BAD_USER_INPUT", bad
    assert await api.code("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                          {"ids": [department_root(setup["finance"]), "%%%"]}, token=token) == "BAD_USER_INPUT"
    assert await api.code(NODE, {"id": department_root(setup["finance"])}) == "UNAUTHENTICATED"
