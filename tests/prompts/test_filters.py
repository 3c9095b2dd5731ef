import pytest

from prompts import services
from prompts.models import Category, PromptTemplate

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates/"


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


@pytest.fixture
def library(user, bob, make_template, category):
    """Alice's and Bob's templates of every visibility, with tags, difficulties and counters."""
    writing = Category.objects.create(slug="writing", name="Writing", ordering=2)
    made = {
        "cot": make_template(
            user,
            title="Chain of thought maths tutor",
            description="Reason step by step before answering.",
            content="Solve {{ problem }}. Think step by step, then give the answer.",
            category=category,
            tags=["chain-of-thought", "maths"],
            difficulty="intermediate",
        ),
        "json": make_template(
            user,
            title="Structured JSON extractor",
            description="Extract fields as JSON.",
            content="Return JSON with keys name and email from: {{ text }}",
            category=writing,
            tags=["json", "extraction"],
            difficulty="advanced",
        ),
        "alice_private": make_template(user, title="Alice private draft", visibility="private", tags=["maths"]),
        "alice_unlisted": make_template(user, title="Alice unlisted", visibility="unlisted"),
        "bob_public": make_template(
            bob, title="Bob few-shot poet", content="Write a poem about {{ theme }}.", tags=["few-shot", "maths"]
        ),
        "bob_private": make_template(bob, title="Bob private", visibility="private"),
    }
    PromptTemplate.objects.filter(pk=made["json"].pk).update(usage_count=7, favorites_count=1, rating_avg=4.5)
    PromptTemplate.objects.filter(pk=made["bob_public"].pk).update(usage_count=3, favorites_count=2, rating_avg=3)
    return made


def test_default_list_is_public_templates_and_your_own_newest_first(auth_client, library):
    assert titles(auth_client.get(URL)) == [
        "Bob few-shot poet",
        "Alice unlisted",
        "Alice private draft",
        "Structured JSON extractor",
        "Chain of thought maths tutor",
    ]


def test_others_see_only_public_templates(bob_client, library):
    assert titles(bob_client.get(URL)) == [
        "Bob private",
        "Bob few-shot poet",
        "Structured JSON extractor",
        "Chain of thought maths tutor",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "reasoning"}, ["Chain of thought maths tutor"]),
        ({"difficulty": "advanced"}, ["Structured JSON extractor"]),
        ({"tag": "maths"}, ["Bob few-shot poet", "Alice private draft", "Chain of thought maths tutor"]),
        ({"tag": ["maths", "few-shot"]}, ["Bob few-shot poet"]),
        ({"tag": "no-such-tag"}, []),
        (
            {"owner": "me"},
            ["Alice unlisted", "Alice private draft", "Structured JSON extractor", "Chain of thought maths tutor"],
        ),
        ({"visibility": "private"}, ["Alice private draft"]),
        ({"visibility": "unlisted"}, ["Alice unlisted"]),
        ({"ordering": "-usage_count"}, None),
    ],
)
def test_list_filters(auth_client, library, params, expected):
    response = auth_client.get(URL, params)

    if expected is None:
        assert titles(response)[:2] == ["Structured JSON extractor", "Bob few-shot poet"]
    else:
        assert titles(response) == expected


def test_favorited_true_lists_your_favourites(auth_client, user, library):
    services.template_favorite_add(template=library["bob_public"], user=user)

    assert titles(auth_client.get(URL, {"favorited": "true"})) == ["Bob few-shot poet"]
    assert "Bob few-shot poet" not in titles(auth_client.get(URL, {"favorited": "false"}))


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-favorites_count", ["Bob few-shot poet", "Structured JSON extractor"]),
        ("-rating_avg", ["Structured JSON extractor", "Bob few-shot poet"]),
        ("created_at", ["Chain of thought maths tutor", "Structured JSON extractor"]),
        ("-updated_at", ["Bob few-shot poet", "Alice unlisted"]),
    ],
)
def test_ordering_by_each_allowed_field(auth_client, library, ordering, expected):
    assert titles(auth_client.get(URL, {"ordering": ordering}))[:2] == expected


def test_search_ranks_title_matches_above_content_matches(auth_client, user, make_template):
    make_template(user, title="Poem helper", content="Answer in JSON please: {{ x }}")
    make_template(user, title="JSON schema drafter", content="Draft a schema for {{ thing }}")
    make_template(user, title="Unrelated", content="Nothing to see {{ here }}")

    assert titles(auth_client.get(URL, {"search": "json"})) == ["JSON schema drafter", "Poem helper"]


def test_search_understands_word_forms_and_combines_with_filters(auth_client, library):
    assert titles(auth_client.get(URL, {"search": "extracting"})) == ["Structured JSON extractor"]
    assert titles(auth_client.get(URL, {"search": "step", "difficulty": "intermediate"})) == [
        "Chain of thought maths tutor"
    ]
    assert titles(auth_client.get(URL, {"search": "step", "difficulty": "advanced"})) == []


def test_search_with_explicit_ordering_uses_the_ordering(auth_client, user, make_template):
    older = make_template(user, title="JSON one", content="json json json {{ a }}")
    make_template(user, title="Another", content="Mentions JSON once {{ b }}")
    PromptTemplate.objects.filter(pk=older.pk).update(usage_count=1)

    assert titles(auth_client.get(URL, {"search": "json", "ordering": "usage_count"})) == ["Another", "JSON one"]


def test_search_of_punctuation_only_is_an_empty_result_not_an_error(auth_client, library):
    assert titles(auth_client.get(URL, {"search": "!!! & | :*"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "title"}, "ordering"),
        ({"ordering": "-password"}, "ordering"),
        ({"category": "nope"}, "category"),
        ({"difficulty": "godlike"}, "difficulty"),
        ({"tag": "Bad Tag!"}, "tag"),
        ({"owner": "bob"}, "owner"),
        ({"visibility": "secret"}, "visibility"),
        ({"favorited": "maybe"}, "favorited"),
        ({"search": "x" * 201}, "search"),
        ({"page_size": "100000"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_list_parameters_are_400s_naming_the_parameter(auth_client, library, params, field):
    response = auth_client.get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_page_beyond_the_last_is_a_404(auth_client, library):
    response = auth_client.get(URL, {"page": 99})

    assert response.status_code == 404


def test_page_size_is_honoured_up_to_the_cap(auth_client, library):
    body = auth_client.get(URL, {"page_size": 2}).json()

    assert (body["count"], len(body["results"])) == (5, 2)
    assert body["next"].endswith("page=2&page_size=2")


def test_list_runs_a_constant_number_of_queries_whatever_the_page_size(
    client_for, make_user, make_template, category, django_assert_num_queries
):
    owner = make_user("prolific")
    reader = make_user("reader")
    for index in range(30):
        template = make_template(owner, title=f"Template {index}", category=category, tags=["a", f"t{index}"])
        services.template_favorite_add(template=template, user=reader)
    client = client_for(reader)

    # user (auth), count, page, tags prefetch
    with django_assert_num_queries(4):
        small = client.get(URL, {"page_size": 1, "tag": "a", "ordering": "-rating_avg"})
    with django_assert_num_queries(4):
        large = client.get(URL, {"page_size": 30, "tag": "a", "ordering": "-rating_avg"})

    assert (len(small.json()["results"]), len(large.json()["results"])) == (1, 30)
    assert all(item["is_favorited"] for item in large.json()["results"])
    assert {len(item["tags"]) for item in large.json()["results"]} == {2}
