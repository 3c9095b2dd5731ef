"""Viewing one saved version and restoring it as the next version."""

import pytest

from prompts import services
from prompts.models import PromptTemplate, TemplateVersion

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"


def version_url(template, number: int) -> str:
    return f"{URL}{template.pk}/versions/{number}/"


@pytest.fixture
def edited(make_template, user):
    """A template of `user` at version 3: the title, content and specs changed along the way."""
    template = make_template(
        user, variable_specs={"audience": {"type": "enum", "choices": ["kids", "experts"]}}, visibility="private"
    )
    services.template_update(template=template, actor=user, content="Shorter: {{ text }}")
    services.template_update(template=template, actor=user, title="Terse", content="One line: {{ text }}")
    template.refresh_from_db()
    return template


def test_a_saved_version_is_readable_with_its_own_variables(edited, auth_client):
    response = auth_client.get(version_url(edited, 1))

    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["title"], body["content"]) == (
        1,
        "Summarise for an audience",
        "Summarise {{ text }} for {{ audience }}.",
    )
    assert [v["name"] for v in body["variables"]] == ["text", "audience"]
    assert body["variable_specs"]["audience"]["choices"] == ["kids", "experts"]
    assert auth_client.get(version_url(edited, 4)).status_code == 404


def test_restoring_an_old_version_appends_a_copy_of_it_as_the_next_version(edited, user, auth_client):
    response = auth_client.post(version_url(edited, 1) + "restore/")

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["title"], body["content"]) == (
        4,
        "Summarise for an audience",
        "Summarise {{ text }} for {{ audience }}.",
    )
    assert body["variable_specs"]["audience"]["choices"] == ["kids", "experts"]
    history = list(TemplateVersion.objects.filter(template=edited).order_by("number").values_list("number", "title"))
    assert history == [
        (1, "Summarise for an audience"),
        (2, "Summarise for an audience"),
        (3, "Terse"),
        (4, "Summarise for an audience"),
    ]
    restored = TemplateVersion.objects.get(template=edited, number=4)
    original = TemplateVersion.objects.get(template=edited, number=1)
    assert (restored.content, restored.variable_specs, restored.author_id) == (
        original.content,
        original.variable_specs,
        user.pk,
    )


def test_restoring_the_current_state_writes_nothing(edited, auth_client):
    response = auth_client.post(version_url(edited, 3) + "restore/")

    assert response.status_code == 200
    assert response.json()["version"] == 3
    assert TemplateVersion.objects.filter(template=edited).count() == 3


def test_only_the_owner_restores(make_template, user, bob_client):
    public = make_template(user, visibility="public")
    services.template_update(template=public, actor=user, content="New {{ text }}")
    private = make_template(user, visibility="private")

    forbidden = bob_client.post(version_url(public, 1) + "restore/")
    hidden = bob_client.post(version_url(private, 1) + "restore/")

    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "No template matches the given id.", "code": "not_found"}
    public.refresh_from_db()
    assert (public.version, public.content) == (2, "New {{ text }}")
    assert TemplateVersion.objects.filter(template=private).count() == 1


@pytest.mark.parametrize("path", ["versions/9/restore/", "versions/0/restore/", "versions/x/restore/"])
def test_a_version_that_does_not_exist_is_a_json_404(edited, auth_client, path):
    response = auth_client.post(f"{URL}{edited.pk}/{path}")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    edited.refresh_from_db()
    assert edited.version == 3


def test_restore_is_a_post_only(edited, auth_client):
    assert auth_client.get(version_url(edited, 1) + "restore/").status_code == 405
    assert PromptTemplate.objects.get(pk=edited.pk).version == 3


def test_a_restored_template_exports_and_reimports_with_its_whole_history(edited, auth_client):
    auth_client.post(version_url(edited, 2) + "restore/")

    document = auth_client.get(f"{URL}{edited.pk}/export/").json()
    copy = auth_client.post(URL + "import/", document, format="json").json()

    assert document["template"]["content"] == "Shorter: {{ text }}"
    assert [v["number"] for v in document["versions"]] == [1, 2, 3, 4]
    assert copy["version"] == 4
    assert copy["content"] == "Shorter: {{ text }}"
