import pytest

pytestmark = pytest.mark.django_db

CHALLENGE_PATHS = {
    "/api/v1/challenges/": {"get", "post"},
    "/api/v1/challenges/import/": {"post"},
    "/api/v1/challenges/{slug}/": {"get", "patch"},
    "/api/v1/challenges/{slug}/export/": {"get"},
    "/api/v1/challenges/{slug}/feature/": {"post"},
    "/api/v1/challenges/{slug}/unpublish/": {"post"},
    "/api/v1/challenges/{slug}/attempts/": {"get", "post"},
    "/api/v1/challenges/{slug}/leaderboard/": {"get"},
    "/api/v1/attempts/{attempt_id}/": {"get"},
}


def test_schema_documents_every_challenge_endpoint(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    documented = {path: set(ops) & {"get", "post", "put", "patch", "delete"} for path, ops in schema["paths"].items()}
    assert {path: documented.get(path) for path in CHALLENGE_PATHS} == CHALLENGE_PATHS
    list_params = {p["name"] for p in schema["paths"]["/api/v1/challenges/"]["get"]["parameters"]}
    assert list_params == {"track", "technique", "difficulty", "solved", "search", "page", "page_size"}
    listed = schema["components"]["schemas"]["ChallengeList"]["properties"]
    assert {"solved", "best_score", "solvers_count", "public_cases", "hidden_cases", "par_tokens"} <= set(listed)
    attempt = schema["components"]["schemas"]["Attempt"]["properties"]
    assert {"score_breakdown", "cases", "prompt_tokens", "pass_rate", "xp_awarded"} <= set(attempt)
    responses = schema["paths"]["/api/v1/challenges/{slug}/attempts/"]["post"]["responses"]["201"]["content"]
    assert set(responses) == {"application/json", "text/event-stream"}
