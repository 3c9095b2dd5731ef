import pytest

pytestmark = pytest.mark.django_db

TEMPLATE_PATHS = {
    "/api/v1/categories/": {"get"},
    "/api/v1/tags/": {"get"},
    "/api/v1/templates/": {"get", "post"},
    "/api/v1/templates/import/": {"post"},
    "/api/v1/templates/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/templates/{id}/versions/": {"get"},
    "/api/v1/templates/{id}/versions/{number}/": {"get"},
    "/api/v1/templates/{id}/fork/": {"post"},
    "/api/v1/templates/{id}/rate/": {"post"},
    "/api/v1/templates/{id}/favorite/": {"post", "delete"},
    "/api/v1/templates/{id}/render/": {"post"},
    "/api/v1/templates/{id}/export/": {"get"},
    "/api/v1/templates/{id}/unpublish/": {"post"},
}


def test_schema_documents_every_template_endpoint(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    documented = {path: set(ops) & {"get", "post", "put", "patch", "delete"} for path, ops in schema["paths"].items()}
    assert {path: documented.get(path) for path in TEMPLATE_PATHS} == TEMPLATE_PATHS
    list_params = {p["name"] for p in schema["paths"]["/api/v1/templates/"]["get"]["parameters"]}
    assert list_params == {
        "category",
        "difficulty",
        "tag",
        "owner",
        "visibility",
        "favorited",
        "search",
        "ordering",
        "page",
        "page_size",
    }
    template = schema["components"]["schemas"]["Template"]["properties"]
    assert {"variables", "rating_avg", "favorites_count", "forked_from", "version"} <= set(template)
    render = schema["paths"]["/api/v1/templates/{id}/render/"]["post"]
    assert render["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RenderResult"
    }
