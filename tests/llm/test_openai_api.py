"""The OpenAI-compatible endpoint in process: message rendering, refusals in OpenAI's error shape."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.services import api_key_create, api_key_revoke
from llm.models import LLMRun
from llm.openai_api.errors import OpenAIError
from llm.openai_api.messages import messages_render
from llm.openai_api.parsing import chat_request_parse
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, serving_test_model, set_credits

COMPLETIONS = "/v1/chat/completions"
MODELS = "/v1/models"
HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def key(user) -> str:
    return api_key_create(user=user, name="sdk").key


@pytest.fixture
def key_client(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# --- messages → prompt and system ---------------------------------------------------------------


def test_one_user_message_is_the_prompt_and_system_messages_the_system_text():
    chat = messages_render(
        [
            {"role": "system", "content": "Be brief."},
            {
                "role": "developer",
                "content": [{"type": "text", "text": "Answer in "}, {"type": "text", "text": "French."}],
            },
            {"role": "user", "content": "Hello there"},
        ]
    )

    assert (chat.prompt, chat.system) == ("Hello there", "Be brief.\n\nAnswer in French.")


def test_a_conversation_becomes_one_transcript():
    chat = messages_render(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Name a colour."},
        ]
    )

    assert chat.prompt == "User: Hi\n\nAssistant: Hello! How can I help?\n\nUser: Name a colour."
    assert chat.system == ""


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([], "messages"),
        ("hello", "messages"),
        ([{"role": "system", "content": "only a system"}], "messages"),
        ([{"role": "tool", "content": "x"}], "messages[0].role"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "messages[0].content[0]"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        (["hello"], "messages[0]"),
    ],
)
def test_bad_messages_name_the_parameter(messages, param):
    with pytest.raises(OpenAIError) as caught:
        messages_render(messages)

    assert caught.value.status_code == 400
    assert caught.value.body["error"]["param"] == param
    assert caught.value.body["error"]["type"] == "invalid_request_error"


def test_the_request_takes_openais_parameter_names():
    request = chat_request_parse(
        {
            "model": TEST_MODEL,
            "messages": HELLO,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_completion_tokens": 9,
            "max_tokens": 3,
            "temperature": 0,
            "stop": "\n",
            "top_p": 0.5,
            "user": "ignored",
        }
    )

    assert (request.stream, request.include_usage, request.max_tokens_param) == (True, True, "max_completion_tokens")
    assert request.run_params() == {"system": "", "max_tokens": 9, "temperature": 0.0, "stop": ("\n",)}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": "yes"}, "stream"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": 1.5}, "max_completion_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": [""]}, "stop"),
        ({"n": 2}, "n"),
        ({"n": True}, "n"),
        ({"model": ""}, "model"),
    ],
)
def test_bad_parameters_are_named(extra, param):
    with pytest.raises(OpenAIError) as caught:
        chat_request_parse({"model": TEST_MODEL, "messages": HELLO, **extra})

    assert caught.value.body["error"]["param"] == param


# --- refusals over HTTP ----------------------------------------------------------------------


@pytest.mark.django_db
def test_no_key_or_a_bad_key_is_invalid_api_key(api_client, user, key):
    api_key_revoke(user=user, key_id=user.api_keys.get().pk)
    missing = api_client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    revoked = api_client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO}, format="json")
    models = api_client.get(MODELS)
    model = APIClient().get(f"{MODELS}/{TEST_MODEL}")

    for response in (missing, revoked, models, model):
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_api_key"
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_an_unknown_model_is_model_not_found(key_client):
    response = key_client.post(COMPLETIONS, {"model": "openai:no-such-model", "messages": HELLO}, format="json")
    detail = key_client.get(f"{MODELS}/openai:no-such-model")

    assert response.status_code == 404 and detail.status_code == 404
    assert error_of(response) == {
        "message": "The model `openai:no-such-model` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    assert not LLMRun.objects.exists()


@pytest.mark.django_db
def test_invalid_bodies_are_invalid_request_errors(key_client, test_model):
    malformed = key_client.generic("POST", COMPLETIONS, "{not json", content_type="application/json")
    form = key_client.post(COMPLETIONS, {"model": TEST_MODEL}, format="multipart")
    no_messages = key_client.post(COMPLETIONS, {"model": TEST_MODEL}, format="json")
    too_many = key_client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO, "max_tokens": 65}, format="json")

    assert (malformed.status_code, error_of(malformed)["type"]) == (400, "invalid_request_error")
    assert form.status_code == 415 and error_of(form)["type"] == "invalid_request_error"
    assert (no_messages.status_code, error_of(no_messages)["param"]) == (400, "messages")
    assert (too_many.status_code, error_of(too_many)["param"]) == (400, "max_tokens")
    assert not LLMRun.objects.exists()


@pytest.mark.django_db
def test_exhausted_credits_are_insufficient_quota(key_client, user, test_model):
    set_credits(user, 0)

    response = key_client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO}, format="json")

    assert response.status_code == 429
    error = error_of(response)
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    run = LLMRun.objects.get()
    assert (run.status, run.error_code, run.cost_credits) == ("failed", "insufficient_credits", 0)


@pytest.mark.django_db
def test_the_ai_requests_limit_is_a_429_with_retry_after(key_client, user, test_model, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "1/hour"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        LLMRun.objects.create(user=user, model=TEST_MODEL, prompt="earlier", status="completed")
        response = key_client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO}, format="json")

    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limit_exceeded"
    assert int(response["Retry-After"]) >= 1


@pytest.mark.django_db
def test_models_lists_the_usable_models_in_openais_shape(key_client, settings):
    settings.OPENAI_API_KEY = "sk-test"

    response = key_client.get(MODELS)

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list" and body["data"]
    assert all(set(m) == {"id", "object", "created", "owned_by"} and m["object"] == "model" for m in body["data"])
    assert "openai:gpt-4o-mini" in [m["id"] for m in body["data"]]
    assert key_client.get(f"{MODELS}/openai:gpt-4o-mini").json()["id"] == "openai:gpt-4o-mini"


@pytest.mark.django_db
def test_the_concurrency_limit_is_a_429_with_retry_after(key_client, user, test_model, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    LLMRun.objects.create(user=user, model=TEST_MODEL, prompt="still going", status="running")

    response = key_client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO}, format="json")

    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limit_exceeded"
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_the_user_throttle_is_a_429_in_openais_shape(key_client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1/hour"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        key_client.get(MODELS)
        response = key_client.get(MODELS)

    assert response.status_code == 429
    assert error_of(response)["type"] == "requests"
    assert int(response["Retry-After"]) >= 1


@pytest.mark.django_db
def test_an_unverified_account_is_refused_what_costs_credits(make_user, test_model):
    unverified = make_user("newcomer", email_verified=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=unverified, name='sdk').key}")

    response = client.post(COMPLETIONS, {"model": TEST_MODEL, "messages": HELLO}, format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "email_unverified"
    assert not LLMRun.objects.exists()


@pytest.mark.django_db
def test_an_access_jwt_works_too(auth_client):
    response = auth_client.get(MODELS)

    assert response.status_code == 200
    assert response.json()["object"] == "list"
