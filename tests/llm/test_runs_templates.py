"""Template runs: rendered through prompts, usage recorded, private templates of others unknown."""

import json

import pytest
from asgiref.sync import async_to_sync

from llm import catalog
from llm.models import LLMRun
from prompts import services as prompt_services
from prompts.models import PromptTemplate
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, model_info

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider():
    provider = ScriptedProvider()
    with catalog.override_models((model_info(), provider)):
        yield provider


def body(response) -> dict:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return json.loads(async_to_sync(collect)())


def test_a_template_run_renders_the_template_and_counts_its_use(auth_client, user, provider):
    template = prompt_services.template_create(
        owner=user, title="Greeter", content="Say hello to {{name}} in {{language}}.", visibility="public"
    )

    response = auth_client.post(
        "/api/v1/llm/runs/",
        {"model": TEST_MODEL, "template": str(template.pk), "variables": {"name": "Ada", "language": "French"}},
        format="json",
    )

    run = body(response)
    assert response.status_code == 201
    assert run["status"] == "completed"
    assert run["prompt"] == "Say hello to Ada in French."
    assert run["template"] == str(template.pk)
    assert run["template_version"] == 1
    assert run["variables"] == {"name": "Ada", "language": "French"}
    assert provider.requests[0].prompt == "Say hello to Ada in French."
    assert PromptTemplate.objects.get(pk=template.pk).usage_count == 1


def test_missing_variables_and_others_private_templates_are_400(auth_client, user, make_user, provider):
    mine = prompt_services.template_create(owner=user, title="Mine", content="Hi {{name}}")
    other = make_user("bob")
    private = prompt_services.template_create(owner=other, title="Secret", content="Hidden {{x}}")

    missing = auth_client.post(
        "/api/v1/llm/runs/", {"model": TEST_MODEL, "template": str(mine.pk), "variables": {}}, format="json"
    )
    foreign = auth_client.post(
        "/api/v1/llm/runs/", {"model": TEST_MODEL, "template": str(private.pk), "variables": {"x": "1"}}, format="json"
    )

    assert missing.status_code == 400
    assert missing.json() == {"variables": {"name": ["This variable is required."]}}
    assert foreign.status_code == 400
    assert foreign.json() == {"template": ["No such template."]}
    assert provider.requests == []
    assert LLMRun.objects.count() == 0
