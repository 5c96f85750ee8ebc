async def test_healthz(http):
    response = await http.get("/healthz")
    assert response.status_code == 200


async def test_readyz_reports_database(http):
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


async def test_unknown_field_is_a_validation_error_with_code(api):
    error = await api.error("{ nope }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "timestamp" in error["extensions"]


async def test_factory_and_token(api, factory):
    org = await factory.organization()
    user = await factory.user(org, "ADMIN")
    assert factory.token(user, org)
