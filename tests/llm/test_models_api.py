"""GET /api/v1/llm/models/: the registry as clients see it."""

URL = "/api/v1/llm/models/"


def test_lists_every_model_with_prices_and_availability(api_client, settings):
    settings.OPENAI_API_KEY = "sk-test"
    settings.ANTHROPIC_API_KEY = ""

    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert [(m["id"], m["available"]) for m in body] == [
        ("local:smollm2-135m-instruct", True),
        ("local:gemma-3-270m", True),
        ("openai:gpt-4o-mini", True),
        ("openai:gpt-4o", True),
        ("anthropic:claude-haiku-4-5", False),
        ("anthropic:claude-sonnet-4-5", False),
    ]
    assert body[2] == {
        "id": "openai:gpt-4o-mini",
        "provider": "openai",
        "connection": "openai",
        "kind": "openai-compatible",
        "name": "GPT-4o mini",
        "provider_model": "gpt-4o-mini",
        "description": "OpenAI's small, fast chat model.",
        "available": True,
        "status": {"state": "unknown", "latency_ms": None, "checked_at": None},
        "own_keys": False,
        "context_limit": 128000,
        "max_output_tokens": 4096,
        "default_params": {"temperature": 0.7, "max_tokens": 512},
        "credits_per_1k_tokens": 4.0,
        "credits_per_1k_input": 1.0,
        "credits_per_1k_output": 4.0,
    }


def test_the_local_chat_model_comes_first_then_the_base_model(api_client):
    chat, base = api_client.get(URL).json()[:2]

    assert (chat["id"], chat["name"], chat["provider_model"]) == (
        "local:smollm2-135m-instruct",
        "SmolLM2 135M Instruct (local)",
        "smollm2-135m-instruct",
    )
    assert chat["description"].startswith("A small local chat (instruct) model")
    assert (base["id"], base["name"]) == ("local:gemma-3-270m", "Gemma 3 270M (local)")
    assert base["description"].startswith("A small local completion (base) model")
    assert [m["credits_per_1k_tokens"] for m in (chat, base)] == [0.5, 0.5]
    assert chat["default_params"] == base["default_params"] == {"temperature": 0.3, "max_tokens": 128}


def test_follows_a_replaced_registry(api_client, settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.LLM_MODELS = [
        {
            "id": "openai:llama3.2",
            "display_name": "Llama 3.2",
            "context_limit": 8192,
            "max_output_tokens": 1024,
            "credits_per_1k_input": 0.5,
            "credits_per_1k_output": 1.5,
        }
    ]

    body = api_client.get(URL).json()

    assert [(m["id"], m["name"], m["available"], m["credits_per_1k_tokens"]) for m in body] == [
        ("openai:llama3.2", "Llama 3.2", True, 1.5)
    ]


def test_schema_documents_the_endpoint(auth_client):
    response = auth_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/llm/models/" in response.json()["paths"]
