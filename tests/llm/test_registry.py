"""The model registry: models from settings (or LLM_MODELS_JSON), parameter checks and prices."""

import json
import os
import subprocess
import sys

import pytest

from llm.providers.base import GenerationRequest
from llm.registry import (
    ModelSpec,
    ParamsError,
    UnknownModel,
    model_get,
    models_all,
    models_list,
    parse_model_id,
    provider_for,
)
from tests.support.processes import REPO_ROOT

CUSTOM_MODEL = {
    "id": "openai:llama3.2",
    "display_name": "Llama 3.2 (Ollama)",
    "context_limit": 8192,
    "max_output_tokens": 1024,
    "default_params": {"temperature": 0.5, "max_tokens": 200},
    "credits_per_1k_input": 0.5,
    "credits_per_1k_output": 1.5,
}


def test_default_registry_lists_the_local_chat_model_first_priced_low_but_not_free():
    chat, base = models_all()[:2]

    assert (chat.id, chat.provider, chat.name) == ("local:smollm2-135m-instruct", "local", "smollm2-135m-instruct")
    assert "chat (instruct) model" in chat.description
    assert (base.id, base.provider, base.name) == ("local:gemma-3-270m", "local", "gemma-3-270m")
    assert "completion (base) model" in base.description
    for local in (chat, base):
        assert (local.credits_per_1k_input, local.credits_per_1k_output) == (0.2, 0.5)
        assert local.cost_credits(input_tokens=10, output_tokens=10) == 1


def test_the_default_model_setting_names_the_catalogues_first_model(settings):
    assert settings.LLM_DEFAULT_MODEL == models_all()[0].id == "local:smollm2-135m-instruct"


def test_default_registry_ids():
    assert [spec.id for spec in models_all()] == [
        "local:smollm2-135m-instruct",
        "local:gemma-3-270m",
        "openai:gpt-4o-mini",
        "openai:gpt-4o",
        "anthropic:claude-haiku-4-5",
        "anthropic:claude-sonnet-4-5",
    ]


def test_unknown_model_id_is_a_clear_error():
    with pytest.raises(UnknownModel) as caught:
        model_get("openai:gpt-9")

    assert caught.value.model_id == "openai:gpt-9"
    assert str(caught.value).startswith(
        "Unknown model 'openai:gpt-9'; available ids: local:smollm2-135m-instruct, local:gemma-3-270m, "
    )


def test_the_local_models_context_follows_the_local_context_setting(settings):
    settings.LLM_LOCAL_CONTEXT = 4096

    assert model_get("local:smollm2-135m-instruct").context_limit == 4096
    assert model_get("local:gemma-3-270m").context_limit == 4096


@pytest.mark.parametrize(
    ("model_id", "parts"),
    [
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("openai:llama3.2:latest", ("openai", "llama3.2:latest")),
        ("test:echo", ("test", "echo")),
    ],
)
def test_parse_model_id_splits_provider_and_the_provider_model_name(model_id, parts):
    assert parse_model_id(model_id) == parts


@pytest.mark.parametrize(
    "model_id", ["gpt-4o", "openai:", ":gpt-4o", "OpenAI:gpt-4o", "openai::x", "openai:gpt 4o", "openai:x\n"]
)
def test_parse_model_id_refuses_a_malformed_id(model_id):
    with pytest.raises(UnknownModel) as caught:
        parse_model_id(model_id)

    assert caught.value.model_id == model_id
    assert str(caught.value).startswith(f"Unknown model {model_id!r}; available ids: local:smollm2-135m-instruct, ")


def test_settings_replace_the_registry(settings):
    settings.LLM_MODELS = [CUSTOM_MODEL]

    spec = model_get("openai:llama3.2")

    assert [s.id for s in models_all()] == ["openai:llama3.2"]
    assert (spec.provider, spec.name, spec.temperature_max) == ("openai", "llama3.2", 2.0)
    assert spec.default_max_tokens == 200
    assert spec.default_temperature == 0.5


def test_llm_models_json_environment_variable_replaces_the_registry():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.dev", LLM_MODELS_JSON=json.dumps([CUSTOM_MODEL]))
    code = "import django; django.setup(); from llm.registry import models_all; print([m.id for m in models_all()])"

    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert out.stdout.strip() == "['openai:llama3.2']"


def test_invalid_registry_entries_are_refused_with_the_reason(settings):
    settings.LLM_MODELS = [{**CUSTOM_MODEL, "max_output_tokens": 100}]  # below the default max_tokens

    with pytest.raises(ValueError, match="default max_tokens exceeds max_output_tokens"):
        models_all()


def test_duplicate_model_ids_are_refused(settings):
    settings.LLM_MODELS = [CUSTOM_MODEL, CUSTOM_MODEL]

    with pytest.raises(ValueError, match="duplicate model ids"):
        models_all()


def test_request_fills_in_the_model_defaults():
    spec = model_get("openai:gpt-4o-mini")

    request = spec.request(prompt="Hello", system="")

    assert request == GenerationRequest(
        model="gpt-4o-mini", prompt="Hello", system=None, temperature=0.7, max_tokens=512
    )


def test_request_refuses_out_of_range_params_naming_each_field():
    spec = model_get("anthropic:claude-haiku-4-5")

    with pytest.raises(ParamsError) as caught:
        spec.request(prompt="  ", temperature=1.5, max_tokens=5000, stop=["", "x"])

    assert caught.value.errors == {
        "prompt": ["This field may not be blank."],
        "temperature": ["Must be between 0 and 1 for this model."],
        "max_tokens": ["Must be between 1 and 4096 for this model."],
        "stop": ["At most 4 non-empty stop sequences."],
    }


def test_request_refuses_a_prompt_longer_than_the_context():
    spec = model_get("local:gemma-3-270m")

    with pytest.raises(ParamsError) as caught:
        spec.request(prompt="word " * 1500, max_tokens=128)

    assert caught.value.errors == {
        "prompt": ["Too long for this model: prompt and max_tokens must fit in 2048 tokens."]
    }


def test_cost_is_rounded_up_to_whole_credits():
    spec = model_get("openai:gpt-4o-mini")  # 1 credit per 1K input, 4 per 1K output

    assert spec.cost_credits(input_tokens=1500, output_tokens=500) == 4  # 1.5 + 2.0 = 3.5
    assert spec.cost_credits(input_tokens=1000, output_tokens=1000) == 5
    assert spec.cost_credits(input_tokens=0, output_tokens=0) == 0


def test_max_cost_covers_the_estimated_prompt_and_max_tokens():
    spec = model_get("openai:gpt-4o-mini")
    request = spec.request(prompt="x" * 2992, max_tokens=1000)  # 998 estimated tokens + 16 framing

    assert spec.max_cost_credits(request) == 6  # 1.014 + 4.0 rounded up


def test_availability_follows_the_configured_keys(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    settings.ANTHROPIC_API_KEY = "sk-ant-test"

    available = {listed.spec.id: listed.available for listed in models_list()}

    assert available == {
        "local:smollm2-135m-instruct": True,
        "local:gemma-3-270m": True,
        "openai:gpt-4o-mini": False,
        "openai:gpt-4o": False,
        "anthropic:claude-haiku-4-5": True,
        "anthropic:claude-sonnet-4-5": True,
    }


def test_an_openai_compatible_server_needs_no_key(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"

    assert model_get("openai:gpt-4o-mini").available() is True


def test_provider_for_a_model_id():
    assert provider_for("anthropic:claude-sonnet-4-5").name == "anthropic"
    assert provider_for("local:smollm2-135m-instruct").name == "local"
    assert provider_for("local:gemma-3-270m").name == "local"


def test_model_ids_must_match_provider_and_name():
    with pytest.raises(ValueError, match="must be 'openai:other'"):
        ModelSpec.model_validate({**CUSTOM_MODEL, "name": "other"})


PROVIDER_MODULES = ("llm.providers.anthropic", "llm.providers.local", "llm.providers.openai", "anthropic", "openai")


@pytest.mark.parametrize(("preload", "expected"), [("true", list(PROVIDER_MODULES)), ("false", [])])
def test_server_processes_import_every_registered_provider_at_startup(preload, expected):
    # The SDK imports take up to seconds: on a first run they would stall every socket of the process.
    probe = f"import sys, config.asgi; print(','.join(m for m in {PROVIDER_MODULES!r} if m in sys.modules))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LLM_PRELOAD_PROVIDERS": preload}
    env.pop("LLM_MODELS_JSON", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert [name for name in out.strip().split(",") if name] == expected
