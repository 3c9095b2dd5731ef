import pytest

from game.models import Activity
from prompts.models import Favorite, PromptTemplate, Rating, TemplateVersion

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"


def detail_url(template_or_id) -> str:
    return f"{URL}{getattr(template_or_id, 'pk', template_or_id)}/"


def activities_of(user) -> list[str]:
    return sorted(Activity.objects.filter(user=user).values_list("activity", flat=True))


# --- create / read ------------------------------------------------------------------------------


def test_create_returns_the_template_with_derived_variables_and_version_one(auth_client, user, category):
    payload = {
        "title": "Few-shot classifier",
        "description": "Label a message with examples.",
        "content": "Examples:\n{{ examples }}\n\nLabel this as {{ label_set }}: {{message}}",
        "variable_specs": {
            "label_set": {"type": "enum", "choices": ["positive", "negative"], "default": "positive"},
            "examples": {"type": "long-text", "label": "Worked examples", "help": "One per line."},
        },
        "category": "reasoning",
        "tags": ["few-shot", "classification", "few-shot"],
        "difficulty": "intermediate",
        "visibility": "public",
    }

    response = auth_client.post(URL, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Few-shot classifier"
    assert body["variables"] == [
        {
            "name": "examples",
            "label": "Worked examples",
            "help": "One per line.",
            "type": "long-text",
            "choices": [],
            "default": None,
            "required": True,
        },
        {
            "name": "label_set",
            "label": "Label set",
            "help": "",
            "type": "enum",
            "choices": ["positive", "negative"],
            "default": "positive",
            "required": True,
        },
        {
            "name": "message",
            "label": "Message",
            "help": "",
            "type": "text",
            "choices": [],
            "default": None,
            "required": True,
        },
    ]
    assert body["category"] == "reasoning"
    assert sorted(body["tags"]) == ["classification", "few-shot"]
    assert body["version"] == 1
    assert body["owner"] == {"id": str(user.pk), "username": "alice"}
    assert body["forked_from"] is None
    assert (body["rating_avg"], body["rating_count"], body["favorites_count"], body["usage_count"]) == (0, 0, 0, 0)
    assert (body["is_favorited"], body["my_rating"]) == (False, None)
    template = PromptTemplate.objects.get(pk=body["id"])
    assert list(template.versions.values_list("number", "title", "content")) == [
        (1, payload["title"], payload["content"])
    ]
    assert activities_of(user) == ["template.created", "template.published"]


def test_create_defaults_to_a_private_beginner_template(auth_client, user):
    response = auth_client.post(URL, {"title": "Mine", "content": "Hello {{ name }}"}, format="json")

    assert response.status_code == 201
    assert (response.json()["visibility"], response.json()["difficulty"]) == ("private", "beginner")
    assert activities_of(user) == ["template.created"]


def test_anonymous_requests_are_refused(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {"title": "x", "content": "y"}, format="json").status_code == 401


# --- visibility ---------------------------------------------------------------------------------


def test_private_template_is_404_for_everyone_else_everywhere(make_template, user, bob_client):
    template = make_template(user, visibility="private")
    url = detail_url(template)

    responses = [
        bob_client.get(url),
        bob_client.patch(url, {"title": "Hijacked"}, format="json"),
        bob_client.delete(url),
        bob_client.get(url + "versions/"),
        bob_client.get(url + "versions/1/"),
        bob_client.post(url + "render/", {"variables": {"text": "a", "audience": "b"}}, format="json"),
        bob_client.post(url + "fork/"),
        bob_client.post(url + "rate/", {"score": 5}, format="json"),
        bob_client.post(url + "favorite/"),
        bob_client.delete(url + "favorite/"),
        bob_client.get(url + "export/"),
    ]

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert responses[0].json() == {"detail": "No template matches the given id.", "code": "not_found"}
    assert bob_client.get(URL).json()["count"] == 0
    template.refresh_from_db()
    assert (template.title, template.rating_count, template.favorites_count) == ("Summarise for an audience", 0, 0)
    assert PromptTemplate.objects.count() == 1


def test_unlisted_template_opens_by_id_but_is_never_listed_for_others(make_template, user, auth_client, bob_client):
    template = make_template(user, visibility="unlisted")

    assert bob_client.get(detail_url(template)).status_code == 200
    assert bob_client.get(URL).json()["count"] == 0
    assert bob_client.get(URL, {"search": "summarise"}).json()["count"] == 0
    assert [t["id"] for t in auth_client.get(URL).json()["results"]] == [str(template.pk)]


def test_only_the_owner_edits_or_deletes_a_visible_template(make_template, user, bob_client):
    template = make_template(user)

    patch = bob_client.patch(detail_url(template), {"title": "Mine now"}, format="json")
    delete = bob_client.delete(detail_url(template))

    assert (patch.status_code, delete.status_code) == (403, 403)
    assert patch.json() == {"detail": "Only the owner can change this template.", "code": "permission_denied"}
    template.refresh_from_db()
    assert (template.title, template.version) == ("Summarise for an audience", 1)


def test_owner_deletes_a_template_and_forks_survive(make_template, user, auth_client, bob_client):
    template = make_template(user)
    fork_id = bob_client.post(detail_url(template) + "fork/").json()["id"]

    response = auth_client.delete(detail_url(template))

    assert response.status_code == 204
    assert not PromptTemplate.objects.filter(pk=template.pk).exists()
    assert TemplateVersion.objects.filter(template_id=template.pk).count() == 0
    assert PromptTemplate.objects.get(pk=fork_id).forked_from_id is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
def test_non_uuid_ids_are_json_404s(auth_client, bad_id):
    response = auth_client.get(detail_url(bad_id))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_unpublishes_a_public_template(make_template, make_user, client_for, user, bob_client):
    template = make_template(user)
    moderator = make_user("moderator", is_staff=True)

    response = client_for(moderator).post(detail_url(template) + "unpublish/")

    assert response.status_code == 200
    assert response.json()["visibility"] == "private"
    assert bob_client.get(detail_url(template)).status_code == 404


def test_non_staff_cannot_unpublish(make_template, user, bob_client):
    template = make_template(user)

    response = bob_client.post(detail_url(template) + "unpublish/")

    assert response.status_code == 403
    template.refresh_from_db()
    assert template.visibility == "public"


# --- versions -----------------------------------------------------------------------------------


def test_editing_content_creates_the_next_immutable_version(make_template, user, auth_client):
    template = make_template(user, variable_specs={"audience": {"type": "enum", "choices": ["kids", "experts"]}})

    response = auth_client.patch(
        detail_url(template), {"content": "Summarise {{ text }} in {{ words }} words."}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["variable_specs"] == {}  # the spec of the dropped variable goes with it
    versions = auth_client.get(detail_url(template) + "versions/").json()
    assert versions["count"] == 2
    assert [(v["number"], v["content"]) for v in versions["results"]] == [
        (1, "Summarise {{ text }} for {{ audience }}."),
        (2, "Summarise {{ text }} in {{ words }} words."),
    ]
    assert versions["results"][0]["variables"][1]["choices"] == ["kids", "experts"]
    assert versions["results"][1]["author"] == {"id": str(user.pk), "username": "alice"}


def test_editing_only_metadata_keeps_the_version(make_template, user, auth_client):
    template = make_template(user)

    response = auth_client.patch(
        detail_url(template), {"description": "New words", "difficulty": "expert", "tags": ["summaries"]}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["version"], response.json()["tags"]) == (1, ["summaries"])
    assert TemplateVersion.objects.filter(template=template).count() == 1


def test_put_replaces_the_template(make_template, user, auth_client):
    template = make_template(user)

    response = auth_client.put(detail_url(template), {"title": "Renamed", "content": "Just {{ this }}"}, format="json")

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["version"]) == ("Renamed", 2)


def test_render_fills_the_current_or_a_given_version(make_template, user, auth_client, bob_client):
    template = make_template(user)
    auth_client.patch(detail_url(template), {"content": "TL;DR of {{ text }}"}, format="json")

    current = bob_client.post(
        detail_url(template) + "render/", {"variables": {"text": "{{ audience }}"}}, format="json"
    )
    old = bob_client.post(
        detail_url(template) + "render/?version=1", {"variables": {"text": "war", "audience": "kids"}}, format="json"
    )

    assert current.status_code == 200
    assert current.json() == {"prompt": "TL;DR of {{ audience }}", "version": 2}
    assert old.json() == {"prompt": "Summarise war for kids.", "version": 1}


def test_render_names_the_missing_and_unknown_variables(make_template, user, bob_client):
    template = make_template(user)

    response = bob_client.post(detail_url(template) + "render/", {"variables": {"txt": "oops"}}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "variables": {
            "txt": ["Unknown variable: the template has no such placeholder."],
            "text": ["This variable is required."],
            "audience": ["This variable is required."],
        }
    }


@pytest.mark.parametrize(
    ("query", "body", "errors"),
    [
        ("?version=9", {"variables": {}}, None),
        ("?version=zero", {"variables": {}}, {"version": ["A valid integer is required."]}),
        ("?version=0", {"variables": {}}, {"version": ["Ensure this value is greater than or equal to 1."]}),
        (
            "?version=99999999999",
            {"variables": {}},
            {"version": ["Ensure this value is less than or equal to 2147483647."]},
        ),
        ("", {"variables": ["text"]}, {"variables": ['Expected a dictionary of items but got type "list".']}),
    ],
)
def test_render_rejects_bad_versions_and_bodies(make_template, user, bob_client, query, body, errors):
    template = make_template(user)

    response = bob_client.post(detail_url(template) + "render/" + query, body, format="json")

    if errors is None:
        assert response.status_code == 404
        assert response.json() == {"detail": "Version 9 does not exist.", "code": "not_found"}
    else:
        assert response.status_code == 400
        assert response.json() == errors


# --- fork, rate, favourite ----------------------------------------------------------------------


def test_fork_copies_the_current_version_into_a_private_template(make_template, user, bob, bob_client, category):
    template = make_template(user, category=category, tags=["summaries"], difficulty="advanced")

    response = bob_client.post(detail_url(template) + "fork/")

    assert response.status_code == 201
    body = response.json()
    assert body["owner"]["username"] == "bob"
    assert (body["visibility"], body["forked_from"], body["version"]) == ("private", str(template.pk), 1)
    assert (body["title"], body["content"], body["category"], body["tags"], body["difficulty"]) == (
        template.title,
        template.content,
        "reasoning",
        ["summaries"],
        "advanced",
    )
    assert activities_of(user) == ["template.created", "template.forked", "template.published"]
    assert activities_of(bob) == []


def test_forking_your_own_template_credits_nothing(make_template, user, auth_client):
    template = make_template(user)

    response = auth_client.post(detail_url(template) + "fork/")

    assert response.status_code == 201
    assert activities_of(user) == ["template.created", "template.published"]


def test_rating_twice_changes_the_score_and_keeps_one_rating(make_template, user, bob, bob_client):
    template = make_template(user)

    first = bob_client.post(detail_url(template) + "rate/", {"score": 5}, format="json")
    second = bob_client.post(detail_url(template) + "rate/", {"score": 2}, format="json")

    assert first.json() == {"score": 5, "rating_avg": 5.0, "rating_count": 1}
    assert second.json() == {"score": 2, "rating_avg": 2.0, "rating_count": 1}
    assert Rating.objects.get(template=template).score == 2
    detail = bob_client.get(detail_url(template)).json()
    assert (detail["my_rating"], detail["rating_avg"]) == (2, 2.0)
    assert activities_of(user) == ["template.created", "template.published", "template.rated"]
    assert activities_of(bob) == ["rating.given"]


def test_average_of_several_ratings_is_rounded_to_two_places(make_template, make_user, client_for, user):
    template = make_template(user)
    for score in (5, 4, 4):
        client_for(make_user()).post(detail_url(template) + "rate/", {"score": score}, format="json")

    template.refresh_from_db()

    assert (template.rating_sum, template.rating_count, str(template.rating_avg)) == (13, 3, "4.33")


def test_rating_your_own_template_is_a_400(make_template, user, auth_client):
    template = make_template(user)

    response = auth_client.post(detail_url(template) + "rate/", {"score": 5}, format="json")

    assert response.status_code == 400
    assert response.json() == {"template": ["You cannot rate your own template."]}
    assert Rating.objects.count() == 0


@pytest.mark.parametrize("score", [0, 6, "five", None, 4.5])
def test_scores_outside_one_to_five_are_400s(make_template, user, bob_client, score):
    template = make_template(user)

    response = bob_client.post(detail_url(template) + "rate/", {"score": score}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["score"]
    assert Rating.objects.count() == 0


def test_favourite_add_is_idempotent_and_delete_removes_it(make_template, user, bob, bob_client):
    template = make_template(user)
    url = detail_url(template) + "favorite/"

    first, again = bob_client.post(url), bob_client.post(url)

    assert (first.status_code, first.json()) == (201, {"favorited": True, "favorites_count": 1})
    assert (again.status_code, again.json()) == (200, {"favorited": True, "favorites_count": 1})
    assert bob_client.get(detail_url(template)).json()["is_favorited"] is True
    assert bob_client.delete(url).status_code == 204
    assert bob_client.delete(url).status_code == 204
    template.refresh_from_db()
    assert template.favorites_count == 0
    assert Favorite.objects.count() == 0
    assert activities_of(user) == ["favorite.received", "template.created", "template.published"]


def test_favouriting_your_own_template_counts_but_credits_nothing(make_template, user, auth_client):
    template = make_template(user)

    response = auth_client.post(detail_url(template) + "favorite/")

    assert response.json() == {"favorited": True, "favorites_count": 1}
    assert activities_of(user) == ["template.created", "template.published"]


def test_publishing_is_credited_once_per_template(make_template, user, auth_client):
    template = make_template(user, visibility="private")

    for visibility in ("public", "private", "public"):
        auth_client.patch(detail_url(template), {"visibility": visibility}, format="json")

    assert activities_of(user) == ["template.created", "template.published"]


# --- export / import ----------------------------------------------------------------------------


def test_export_then_import_recreates_the_template_with_its_history(make_template, user, bob_client, category):
    template = make_template(
        user, category=category, tags=["summaries"], variable_specs={"audience": {"type": "enum", "choices": ["kids"]}}
    )
    from prompts import services

    services.template_update(template=template, actor=user, content="Shorter: {{ text }}")

    document = bob_client.get(detail_url(template) + "export/").json()
    imported = bob_client.post(URL + "import/", document, format="json")

    assert document["format"] == "promptcraft.template"
    assert document["template"]["version"] == 2
    assert [v["number"] for v in document["versions"]] == [1, 2]
    assert document["versions"][0]["variable_specs"]["audience"]["choices"] == ["kids"]
    assert imported.status_code == 201
    body = imported.json()
    assert (body["owner"]["username"], body["visibility"], body["version"]) == ("bob", "private", 2)
    assert (body["content"], body["category"], body["tags"]) == ("Shorter: {{ text }}", "reasoning", ["summaries"])
    copy = PromptTemplate.objects.get(pk=body["id"])
    assert list(copy.versions.values_list("number", "content")) == [
        (1, "Summarise {{ text }} for {{ audience }}."),
        (2, "Shorter: {{ text }}"),
    ]


def test_import_validates_like_any_other_input(auth_client):
    document = {
        "format": "promptcraft.template",
        "format_version": 1,
        "template": {"title": "t" * 201, "content": "Hi {{ 1x }}", "category": "nope", "tags": ["Bad Tag!"]},
        "versions": [{"number": 1, "title": "ok", "content": "ok"}, {"number": 1, "title": "ok", "content": "ok"}],
    }

    response = auth_client.post(URL + "import/", document, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"template", "versions"}
    assert set(body["template"]) == {"title", "category", "tags"}
    assert body["versions"] == ["Version numbers must be distinct."]
    assert PromptTemplate.objects.count() == 0


def test_import_rejects_a_bad_placeholder_in_the_history(auth_client):
    document = {
        "format": "promptcraft.template",
        "format_version": 1,
        "template": {"title": "ok", "content": "Hi {{ name }}"},
        "versions": [{"number": 1, "title": "ok", "content": "Hi {{ name"}],
    }

    response = auth_client.post(URL + "import/", document, format="json")

    assert response.status_code == 400
    assert response.json() == {"versions": {"0": {"content": ["Unclosed '{{' at line 1, column 4."]}}}
    assert PromptTemplate.objects.count() == 0


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"title": "t" * 201, "content": "x"}, {"title": ["Ensure this field has no more than 200 characters."]}),
        (
            {"title": "t", "content": "x" * 20_001},
            {"content": ["Ensure this field has no more than 20000 characters."]},
        ),
        (
            {"title": "t", "content": " ".join(f"{{{{ v{i} }}}}" for i in range(51))},
            {"content": ["A template may use at most 50 variables; this one uses 51."]},
        ),
        (
            {"title": "t", "content": "Hi {{ 1x }}"},
            {
                "content": [
                    "Malformed placeholder '{{ 1x }}' at line 1, column 4: a variable name is letters, digits and "
                    "underscores and does not start with a digit."
                ]
            },
        ),
        ({"title": "t", "content": "Hi {{ name"}, {"content": ["Unclosed '{{' at line 1, column 4."]}),
        ({"title": "t", "content": "x", "category": "nope"}, {"category": ["Object with slug=nope does not exist."]}),
        (
            {"title": "t", "content": "x", "tags": ["ok", "Not OK!"]},
            {
                "tags": {
                    "1": ["Tags are lowercase letters and digits, words joined by single hyphens (e.g. 'few-shot')."]
                }
            },
        ),
        (
            {"title": "t", "content": "x", "tags": [f"t{i}" for i in range(11)]},
            {"tags": ["Ensure this field has no more than 10 elements."]},
        ),
        (
            {"title": "t", "content": "Hi {{ name }}", "variable_specs": {"nmae": {"type": "text"}}},
            {"variable_specs": {"nmae": ["The content has no {{ nmae }} placeholder."]}},
        ),
        (
            {"title": "t", "content": "Hi {{ name }}", "variable_specs": ["name"]},
            {"variable_specs": ["Must be an object mapping variable names to specs."]},
        ),
        (
            {"title": "t", "content": "Hi {{ name }}", "variable_specs": {"name": {"label": "a\x00b"}}},
            {"variable_specs": ["Null characters are not allowed."]},
        ),
        ({"title": "t\x00", "content": "x"}, {"title": ["Null characters are not allowed."]}),
        ({"title": "t", "content": "x", "difficulty": "godlike"}, {"difficulty": ['"godlike" is not a valid choice.']}),
        ({"title": "t", "content": "x", "visibility": "secret"}, {"visibility": ['"secret" is not a valid choice.']}),
        ({}, {"title": ["This field is required."], "content": ["This field is required."]}),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(auth_client, category, payload, errors):
    response = auth_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert PromptTemplate.objects.count() == 0
    assert TemplateVersion.objects.count() == 0


def test_non_json_bodies_are_400s(auth_client):
    response = auth_client.generic("POST", URL, "{not json", content_type="application/json")

    assert response.status_code == 400


def test_deeply_nested_specs_are_a_400(auth_client):
    nested = "[" * 900 + "]" * 900
    body = '{"title": "t", "content": "Hi {{ name }}", "variable_specs": {"name": {"default": ' + nested + "}}}"

    response = auth_client.generic("POST", URL, body, content_type="application/json")

    # Refused by the API's JSON parser: nested deeper than it reads.
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - Nested deeper than 64 levels.", "code": "parse_error"}


def test_a_bad_edit_leaves_the_template_and_its_versions_alone(make_template, user, auth_client):
    template = make_template(user)

    response = auth_client.patch(detail_url(template), {"content": "Broken {{"}, format="json")

    assert response.status_code == 400
    template.refresh_from_db()
    assert (template.content, template.version) == ("Summarise {{ text }} for {{ audience }}.", 1)
    assert TemplateVersion.objects.filter(template=template).count() == 1


# --- categories ---------------------------------------------------------------------------------


def test_categories_are_listed_in_order_with_their_public_template_counts(auth_client, user, make_template, category):
    from prompts.models import Category

    Category.objects.create(slug="basics", name="Basics", ordering=0)
    make_template(user, category=category)
    make_template(user, category=category, visibility="private")

    response = auth_client.get("/api/v1/categories/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"slug": "basics", "name": "Basics", "description": "", "ordering": 0, "templates_count": 0},
        {
            "slug": "reasoning",
            "name": "Reasoning",
            "description": "Think step by step.",
            "ordering": 1,
            "templates_count": 1,
        },
    ]


# --- tags ---------------------------------------------------------------------------------------


def test_tags_of_public_templates_are_listed_most_used_first(auth_client, user, bob, make_template):
    make_template(user, tags=["json", "extraction"])
    make_template(bob, tags=["json"])
    make_template(bob, tags=["secret-draft"], visibility="private")

    everything = auth_client.get("/api/v1/tags/")
    by_prefix = auth_client.get("/api/v1/tags/", {"prefix": "ex"})
    bad = auth_client.get("/api/v1/tags/", {"prefix": "Not OK"})

    assert everything.json()["results"] == [
        {"slug": "json", "templates_count": 2},
        {"slug": "extraction", "templates_count": 1},
    ]
    assert by_prefix.json()["results"] == [{"slug": "extraction", "templates_count": 1}]
    assert (bad.status_code, list(bad.json())) == (400, ["prefix"])
