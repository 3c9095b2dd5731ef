"""Authoring over REST: validation naming the case and check, versions, visibility, moderation,
export/import, and others' private challenges staying out of sight."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from challenges.models import Challenge, ChallengeVersion
from tests.challenges.support import PROMPT, case, document, make_challenge
from tests.llm.runs_support import response_json

pytestmark = [pytest.mark.django_db(transaction=True)]


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_posting_a_challenge_creates_it_private_at_version_one(auth_client, user, provider):
    response = auth_client.post("/api/v1/challenges/", document(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "capitals-in-one-word"
    assert (body["visibility"], body["version"], body["author"]["username"]) == ("private", 1, "alice")
    assert (body["public_cases"], body["hidden_cases"], body["variables"]) == (2, 1, ["country"])
    assert body["cases"] == [
        {"id": "c1", "input": {"country": "France"}, "checks": [{"type": "icontains", "value": "paris"}]},
        {"id": "c2", "input": {"country": "Italy"}, "checks": [{"type": "icontains", "value": "rome"}]},
    ]
    assert (body["solved"], body["best_score"], body["solvers_count"]) == (False, None, 0)
    assert ChallengeVersion.objects.get().cases[2] == {
        "id": "c3",
        "input": {"country": "Japan"},
        "checks": [{"type": "icontains", "value": "tokyo"}],
        "hidden": True,
    }


def test_slugs_stay_unique(auth_client, provider):
    first = auth_client.post("/api/v1/challenges/", document(), format="json").json()
    second = auth_client.post("/api/v1/challenges/", document(), format="json").json()

    assert (first["slug"], second["slug"]) == ("capitals-in-one-word", "capitals-in-one-word-2")


def test_a_challenge_titled_import_gets_a_slug_its_own_url_answers(auth_client, provider):
    slug = auth_client.post("/api/v1/challenges/", document(title="Import"), format="json").json()["slug"]

    assert slug == "import-2"
    assert auth_client.get(f"/api/v1/challenges/{slug}/").json()["title"] == "Import"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"cases": [case("France"), {"input": {"country": "Peru"}, "checks": [{"type": "foo"}]}]},
            {
                "cases": {
                    "1": {
                        "checks": {
                            "0": [
                                "unknown check type 'foo'; known: equals, contains, not-contains, "
                                "icontains, not-icontains, starts-with, contains-any, contains-all, "
                                "regex, not-regex, is-json, word-count, llm-rubric."
                            ]
                        }
                    }
                }
            },
        ),
        (
            {"cases": [case("France", checks=[{"type": "contains", "value": "x"}, {"type": "regex", "value": "("}])]},
            {"cases": {"0": {"checks": {"1": ["bad regex: missing ) at position 1."]}}}},
        ),
        (
            {"cases": [case("France", checks=[{"type": "not-regex", "value": "(a|aa)+$"}])]},
            {
                "cases": {
                    "0": {
                        "checks": {
                            "0": [
                                "this regex takes over 50 ms on a few 2,000-character texts (catastrophic "
                                "backtracking): avoid nested or overlapping repeats such as (a+)+ or (a|a)*."
                            ]
                        }
                    }
                }
            },
        ),
        (
            {"cases": [case("France", checks=[{"type": "is-json", "schema": {"type": 5}}])]},
            {
                "cases": {
                    "0": {"checks": {"0": ["bad JSON Schema at type: 5 is not valid under any of the given schemas."]}}
                }
            },
        ),
        (
            {"cases": [case("France", checks=[{"type": "llm-rubric", "rubric": "polite"}])]},
            {"cases": {"0": {"checks": {"0": ["llm-rubric needs a judge model, and none is configured here."]}}}},
        ),
        (
            {"cases": [case("France"), {"input": {"city": "Rome"}, "checks": [{"type": "contains", "value": "x"}]}]},
            {"cases": {"1": {"input": ["Every case gives the same variables: country."]}}},
        ),
        (
            {"cases": [case("France", hidden=True)]},
            {"cases": ["At least one case must be public: learners need an example."]},
        ),
        ({"cases": []}, {"cases": ["Give 1 to 50 cases."]}),
        ({"cases": [case("France")] * 51}, {"cases": ["Give 1 to 50 cases."]}),
        (
            {"cases": [{"input": {"country": "x" * 4001}, "checks": [{"type": "contains", "value": "x"}]}]},
            {"cases": {"0": {"input": {"country": ["Must be at most 4000 characters."]}}}},
        ),
        (
            {"cases": [{"input": {"country": "France"}, "checks": []}]},
            {"cases": {"0": {"checks": ["Give 1 to 10 checks."]}}},
        ),
        ({"models": ["x:y"], "default_model": ""}, {"models": {"0": ["Unknown model 'x:y'."]}}),
        ({"default_model": "local:gemma-3-270m"}, {"default_model": ["Must be one of the challenge's models."]}),
        ({"params": {"top_p": 1}}, {"params": {"top_p": ["Unknown parameter."]}}),
        ({"technique": "magic"}, {"technique": ['"magic" is not a valid choice.']}),
        ({"reference_prompt": "{{nation}}"}, {"reference_prompt": ["Unknown variables: nation."]}),
        ({"samples": 40}, {"samples": ["Ensure this value is less than or equal to 10."]}),
    ],
)
def test_malformed_challenges_are_400_naming_the_case_and_check(auth_client, provider, changes, errors):
    response = auth_client.post("/api/v1/challenges/", document(**changes), format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not Challenge.objects.exists()


def test_llm_rubric_is_accepted_where_a_judge_model_is_configured(auth_client, provider, settings):
    settings.CHALLENGES_JUDGE_MODEL = "test:echo"

    response = auth_client.post(
        "/api/v1/challenges/",
        document(cases=[case("France", checks=[{"type": "llm-rubric", "rubric": "Names Paris."}])]),
        format="json",
    )

    assert response.status_code == 201


def test_others_private_challenges_are_404_everywhere(auth_client, make_user, provider):
    theirs = make_challenge(make_user("mallory"))
    base = f"/api/v1/challenges/{theirs.slug}"

    listing = auth_client.get("/api/v1/challenges/").json()
    answers = [
        auth_client.get(f"{base}/"),
        auth_client.patch(f"{base}/", {"title": "mine now"}, format="json"),
        auth_client.get(f"{base}/export/"),
        auth_client.get(f"{base}/attempts/"),
        auth_client.post(f"{base}/attempts/", {"prompt": PROMPT}, format="json"),
        auth_client.get(f"{base}/leaderboard/"),
    ]

    assert listing["count"] == 0
    assert [answer.status_code for answer in answers] == [404] * 6


def test_only_the_author_edits_or_exports_a_public_challenge(auth_client, user, make_user, provider):
    challenge = make_challenge(user)
    Challenge.objects.filter(pk=challenge.pk).update(visibility="public")
    other = client_for(make_user("mallory"))

    patch = other.patch(f"/api/v1/challenges/{challenge.slug}/", {"title": "mine now"}, format="json")
    bad_patch = other.patch(f"/api/v1/challenges/{challenge.slug}/", {"samples": 99}, format="json")
    export = other.get(f"/api/v1/challenges/{challenge.slug}/export/")
    seen = other.get(f"/api/v1/challenges/{challenge.slug}/")

    assert (patch.status_code, bad_patch.status_code, export.status_code, seen.status_code) == (403, 403, 403, 200)
    assert "Japan" not in seen.content.decode() and "tokyo" not in seen.content.decode()


def test_a_change_to_what_is_graded_saves_a_new_version_and_keeps_case_ids(auth_client, user, provider):
    challenge = make_challenge(user)
    url = f"/api/v1/challenges/{challenge.slug}/"
    current = auth_client.get(f"{url}export/").json()["cases"]

    retitled = auth_client.patch(url, {"title": "Capitals!"}, format="json").json()
    recased = auth_client.patch(url, {"cases": [current[2], current[0], case("Peru")]}, format="json").json()

    assert (retitled["title"], retitled["version"]) == ("Capitals!", 1)
    assert recased["version"] == 2
    assert [item["id"] for item in auth_client.get(f"{url}export/").json()["cases"]] == ["c3", "c1", "c4"]
    assert list(ChallengeVersion.objects.filter(challenge=challenge).values_list("number", flat=True)) == [1, 2]
    assert len(ChallengeVersion.objects.get(challenge=challenge, number=1).cases) == 3


def test_going_public_needs_the_authors_passing_attempt_at_the_current_version(auth_client, user, provider):
    challenge = make_challenge(user)
    url = f"/api/v1/challenges/{challenge.slug}/"

    refused = auth_client.patch(url, {"visibility": "public"}, format="json")
    response_json(auth_client.post(f"{url}attempts/", {"prompt": PROMPT}, format="json"))
    published = auth_client.patch(url, {"visibility": "public"}, format="json")
    changed = auth_client.patch(url, {"par_tokens": 20}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {"visibility": ["Pass version 1 of your challenge yourself before making it public."]}
    assert published.status_code == 200 and published.json()["visibility"] == "public"
    # A new version must be passed again before it is public.
    assert (changed.json()["version"], changed.json()["visibility"]) == (2, "private")


def test_a_failing_attempt_does_not_publish(auth_client, user, provider):
    challenge = make_challenge(user, cases=[case("France", checks=[{"type": "contains", "value": "zzz"}])])
    url = f"/api/v1/challenges/{challenge.slug}/"
    response_json(auth_client.post(f"{url}attempts/", {"prompt": PROMPT}, format="json"))

    assert auth_client.patch(url, {"visibility": "public"}, format="json").status_code == 400


def test_staff_feature_and_unpublish_and_learners_cannot(auth_client, user, staff, provider):
    challenge = make_challenge(user)
    Challenge.objects.filter(pk=challenge.pk).update(visibility="public")
    url = f"/api/v1/challenges/{challenge.slug}/"
    moderator = client_for(staff)

    learner = auth_client.post(f"{url}feature/", {}, format="json")
    featured = moderator.post(f"{url}feature/", {"featured": True}, format="json")
    listed = auth_client.get("/api/v1/challenges/").json()["results"][0]
    unpublished = moderator.post(f"{url}unpublish/", format="json")

    assert learner.status_code == 403
    assert featured.status_code == 200 and featured.json()["featured"] is True
    assert listed["featured"] is True
    assert unpublished.status_code == 200
    assert (unpublished.json()["visibility"], unpublished.json()["featured"]) == ("private", False)
    assert moderator.get(url).status_code == 404


def test_export_then_import_round_trips_every_field(auth_client, user, provider):
    challenge = make_challenge(user, system="Rules.", hints=["a", "b"], reference_prompt=PROMPT)
    exported = auth_client.get(f"/api/v1/challenges/{challenge.slug}/export/").json()

    imported = auth_client.post("/api/v1/challenges/import/", exported, format="json")
    again = auth_client.get(f"/api/v1/challenges/{imported.json()['slug']}/export/").json()

    assert imported.status_code == 201
    assert imported.json()["visibility"] == "private"
    assert again == {**exported, "slug": "capitals-in-one-word-2"}
    assert exported["cases"][2]["hidden"] is True and exported["system"] == "Rules."


def test_a_malformed_import_is_400_and_writes_nothing(auth_client, provider):
    response = auth_client.post("/api/v1/challenges/import/", {"title": "x"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"brief", "technique", "difficulty", "cases"}
    assert not Challenge.objects.exists()


def test_the_list_filters_and_searches(auth_client, user, provider):
    make_challenge(user, title="Capitals", technique="instructions", difficulty="beginner", track="foundations")
    make_challenge(user, title="JSON people", technique="json-output", difficulty="advanced", track="structured-output")

    def slugs(query: str) -> list[str]:
        return [item["slug"] for item in auth_client.get(f"/api/v1/challenges/?{query}").json()["results"]]

    assert slugs("track=structured-output") == ["json-people"]
    assert slugs("technique=instructions") == ["capitals"]
    assert slugs("difficulty=advanced") == ["json-people"]
    assert slugs("search=json") == ["json-people"]
    assert slugs("solved=false") == ["capitals", "json-people"]
    assert slugs("solved=true") == []
    assert auth_client.get("/api/v1/challenges/?technique=magic").status_code == 400


def test_solved_and_best_score_follow_your_passing_attempts(auth_client, user, make_user, provider):
    challenge = make_challenge(None, builtin=True)
    response_json(auth_client.post(f"/api/v1/challenges/{challenge.slug}/attempts/", {"prompt": PROMPT}, format="json"))

    item = auth_client.get("/api/v1/challenges/?solved=true").json()["results"][0]

    assert (item["slug"], item["solved"], item["best_score"], item["solvers_count"]) == (
        challenge.slug,
        True,
        1000,
        1,
    )


def test_the_list_and_attempt_history_take_a_fixed_number_of_queries(
    auth_client, user, provider, django_assert_num_queries
):
    challenges = [make_challenge(None, builtin=True, title=f"Capitals {n}") for n in range(3)]
    for challenge in challenges[:2]:
        response_json(auth_client.post(f"/api/v1/challenges/{challenge.slug}/attempts/", {"prompt": PROMPT}))

    with django_assert_num_queries(5):  # the token's user, the count, the page, your bests, the solvers
        listing = auth_client.get("/api/v1/challenges/")
    with django_assert_num_queries(5):  # the user, the challenge, the count, the page, its samples
        history = auth_client.get(f"/api/v1/challenges/{challenges[0].slug}/attempts/")

    assert listing.json()["count"] == 3
    assert history.json()["count"] == 1


def test_an_anonymous_visitor_sees_no_private_built_in_challenge(user, provider):
    from django.contrib.auth.models import AnonymousUser

    from challenges.selectors import challenge_list

    public = make_challenge(user, slug="public-one", title="Public one")
    Challenge.objects.filter(pk=public.pk).update(visibility="public", author=None, builtin=True)
    private = make_challenge(user, slug="private-one", title="Private one")
    Challenge.objects.filter(pk=private.pk).update(author=None, builtin=True)  # a built-in, unpublished

    assert [challenge.slug for challenge in challenge_list(user=AnonymousUser())] == ["public-one"]
