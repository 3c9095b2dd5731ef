"""Template runs: rendered through prompts, usage recorded, private templates of others unknown."""

import pytest

from llm.models import LLMRun
from prompts import services as prompt_services
from prompts.models import PromptTemplate
from tests.llm.runs_support import TEST_MODEL, response_json

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_template_run_renders_the_template_and_counts_its_use(auth_client, user, provider):
    template = prompt_services.template_create(
        owner=user, title="Greeter", content="Say hello to {{name}} in {{language}}.", visibility="public"
    )

    response = auth_client.post(
        "/api/v1/llm/runs/",
        {"model": TEST_MODEL, "template": str(template.pk), "variables": {"name": "Ada", "language": "French"}},
        format="json",
    )

    run = response_json(response)
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


async def test_a_template_run_starts_from_the_playground_socket(user, provider):
    from channels.db import database_sync_to_async

    from tests.llm.runs_support import playground, receive_until_end

    template = await database_sync_to_async(prompt_services.template_create)(
        owner=user, title="Haiku", content="Write a haiku about {{topic}}."
    )
    ws = await playground(user)
    try:
        await ws.send_json_to(
            {
                "type": "run.start",
                "request_id": "t1",
                "model": TEST_MODEL,
                "template_id": str(template.pk),
                "variables": {"topic": "rain"},
            }
        )
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
        await ws.send_json_to(
            {"type": "run.start", "request_id": "t2", "model": TEST_MODEL, "template_id": str(template.pk)}
        )
        missing = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    assert frames[-1]["type"] == "run.completed"
    assert provider.requests[0].prompt == "Write a haiku about rain."
    assert missing["type"] == "run.failed"
    assert missing["request_id"] == "t2"
    assert missing["error"]["code"] == "invalid_request"
    assert missing["error"]["message"] == "topic: This variable is required."


def test_deleting_a_template_keeps_its_runs_without_the_link(auth_client, user, provider):
    # given a completed run of a template
    template = prompt_services.template_create(owner=user, title="Greeter", content="Hi {{name}}")
    request = {"model": TEST_MODEL, "template": str(template.pk), "variables": {"name": "Ada"}}
    run_id = response_json(auth_client.post("/api/v1/llm/runs/", request, format="json"))["id"]

    # when the template is deleted
    prompt_services.template_delete(template=template, actor=user)

    # then the run stays in the history, with its version and prompt but no template
    run = auth_client.get(f"/api/v1/llm/runs/{run_id}/").json()
    assert (run["template"], run["template_version"], run["prompt"]) == (None, 1, "Hi Ada")
