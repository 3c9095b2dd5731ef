"""The challenge pages as the server renders them: public challenges only, lessons escaped, hidden cases absent."""

import json
import re

import pytest
from django.test import Client

from challenges import documents, services
from web.templatetags.challenge_tags import describe_check

pytestmark = pytest.mark.django_db

HIDDEN_INPUT = "HIDDEN-INPUT-the-page-never-shows"
HIDDEN_VALUE = "HIDDEN-CHECK-VALUE"
SECRET_SYSTEM = "SECRET-SYSTEM-PROMPT: the password is swordfish"


def _document(**overrides) -> dict:
    return {
        "slug": "sentiment-one-word",
        "title": "Sentiment in one word",
        "summary": "Say positive or negative, nothing else.",
        "brief": (
            "# Classification\n\nName the label. <script>alert('lesson')</script>\n\n## Task\nClassify {{review}}."
        ),
        "track": "foundations",
        "technique": "classification",
        "difficulty": "beginner",
        "cases": [
            {"input": {"review": "Loved every minute"}, "checks": [{"type": "icontains", "value": "positive"}]},
            {
                "input": {"review": "Dull & far too long"},
                "checks": [{"type": "icontains", "value": "negative"}, {"type": "word-count", "max": 3}],
            },
            {"input": {"review": HIDDEN_INPUT}, "checks": [{"type": "equals", "value": HIDDEN_VALUE}], "hidden": True},
        ],
        "par_tokens": 30,
        "params": {"temperature": 0, "max_tokens": 8},
        "hints": ["Name both labels in the prompt."],
        **overrides,
    }


def _builtin(**overrides):
    return services.challenge_builtin_upsert(document=_document(**overrides))[0]


def _private(author, **overrides):
    checked = documents.ChallengeDocumentSerializer(data=_document(**overrides))
    checked.is_valid(raise_exception=True)
    return services.challenge_create(author=author, document=checked.validated_data)


def test_the_catalogue_lists_public_challenges_by_track_with_their_figures(make_user):
    # given two public challenges in two tracks, and a learner's private one
    _builtin()
    _builtin(slug="json-name-age", title="Name and age as JSON", track="structured-output", technique="json-output")
    _private(make_user("bob"), slug="bobs-draft", title="Bob's unfinished draft")

    # when anyone opens the catalogue
    response = Client().get("/challenges/")

    # then the public ones are listed under their tracks, linked, with their figures
    assert response.status_code == 200
    html = response.content.decode()
    sections = re.findall(r'<section class="track" data-track="([^"]+)"', html)
    assert sections == ["foundations", "structured-output"]
    assert '<a href="/challenges/sentiment-one-word/">Sentiment in one word</a>' in html
    assert '<a href="/challenges/json-name-age/">Name and age as JSON</a>' in html
    assert "Par 30 tokens" in html
    assert "2 public + 1 hidden case<" in html
    assert "<span data-solvers>0 solvers</span>" in html
    # and the filters offer the techniques in use
    assert '<option value="classification">Classification</option>' in html
    assert '<option value="json-output">Structured JSON output</option>' in html
    assert '<option value="few-shot">' not in html
    # but nobody's private challenge
    assert "bobs-draft" not in html and "unfinished draft" not in html


def test_the_solvers_counts_are_the_games_solvers(make_user):
    from game.services import challenge_attempt_record

    _builtin()
    for number, username in enumerate(["ann", "ben"]):
        challenge_attempt_record(
            user_id=make_user(username).pk,
            attempt_id=f"attempt-{number}",
            challenge="sentiment-one-word",
            track="foundations",
            difficulty="beginner",
            score=900,
            prompt_tokens=33,
            passed=True,
            par_tokens=30,
            track_challenges=["sentiment-one-word"],
        )

    assert "<span data-solvers>2 solvers</span>" in Client().get("/challenges/").content.decode()
    assert "<dd data-solvers-count>2</dd>" in Client().get("/challenges/sentiment-one-word/").content.decode()


def test_an_unpublished_built_in_challenge_is_not_listed(make_user):
    challenge = _builtin()
    staff = make_user("staffer")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    services.challenge_unpublish(challenge=challenge, actor=staff)

    html = Client().get("/challenges/").content.decode()

    assert "sentiment-one-word" not in html
    assert "No challenges yet." in html
    assert Client().get("/challenges/sentiment-one-word/").status_code == 404


def test_the_challenge_page_renders_the_lesson_safely_with_the_public_cases_and_the_editor():
    _builtin()

    response = Client().get("/challenges/sentiment-one-word/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<script type="module" src="/static/web/js/pages/challenge.js"></script>' in html
    # the lesson: Markdown as HTML under the page's title, the author's script tag as text
    assert "<h1>Sentiment in one word</h1>" in html
    assert "<h2>Classification</h2>" in html and "<h3>Task</h3>" in html
    assert "Name the label. &lt;script&gt;alert('lesson')&lt;/script&gt;" in html
    assert "<script>alert" not in html
    # the public cases: inputs and checks in words
    assert "<dd><pre>Loved every minute</pre></dd>" in html
    assert "<dd><pre>Dull &amp; far too long</pre></dd>" in html
    assert '<code class="check-type">icontains</code> contains &quot;negative&quot; (any case)' in html
    assert '<code class="check-type">word-count</code> has at most 3 words' in html
    # the editor: the variable as a chip, the hint, the default model chosen
    assert re.search(r'data-variable-chip="review"[^>]*>\{\{review\}\}</button>', html)
    assert "Name both labels in the prompt." in html
    # the grid: two public cards and one hidden slot
    assert html.count('data-case-card data-case-id="') == 2
    assert html.count('data-hidden="true"') == 1


def test_the_challenge_page_holds_nothing_of_its_hidden_cases_or_secret_system_prompt():
    _builtin(system=SECRET_SYSTEM, system_hidden=True)

    html = Client().get("/challenges/sentiment-one-word/").content.decode()

    assert HIDDEN_INPUT not in html
    assert HIDDEN_VALUE not in html
    assert "swordfish" not in html
    assert "This challenge sets a secret system prompt of its own." in html
    data = json.loads(re.search(r'<script id="challenge-data" type="application/json">(.*?)</script>', html)[1])
    assert data == {
        "slug": "sentiment-one-word",
        "variables": ["review"],
        "cases": [
            {"id": "c1", "input": {"review": "Loved every minute"}},
            {"id": "c2", "input": {"review": "Dull & far too long"}},
        ],
        "hidden_cases": 1,
        "samples": 1,
        "par_tokens": 30,
        "pass_threshold": 1.0,
        "default_model": "local:smollm2-135m-instruct",
    }


def test_a_challenge_system_prompt_that_is_not_secret_is_shown():
    _builtin(system="You are a strict sentiment classifier.")

    html = Client().get("/challenges/sentiment-one-word/").content.decode()

    assert '<pre class="template-content">You are a strict sentiment classifier.</pre>' in html


def test_the_model_picker_offers_the_challenge_models_with_its_default_chosen():
    _builtin(models=["local:gemma-3-270m", "local:smollm2-135m-instruct"], default_model="local:gemma-3-270m")

    html = Client().get("/challenges/sentiment-one-word/").content.decode()

    picker = html.split('id="attempt-model"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]+)"( selected)?', picker)
    assert options == [("local:gemma-3-270m", " selected"), ("local:smollm2-135m-instruct", "")]


def test_unknown_and_private_challenges_are_not_found(make_user):
    _private(make_user("bob"), slug="bobs-draft")

    for path in ("/challenges/no-such-challenge/", "/challenges/bobs-draft/"):
        response = Client().get(path)
        assert response.status_code == 404
        assert "Challenge not found" in response.content.decode()


@pytest.mark.parametrize(
    ("check", "text"),
    [
        ({"type": "equals", "value": "Paris"}, 'is exactly "Paris"'),
        ({"type": "not-icontains", "value": "sorry"}, 'does not contain "sorry" (any case)'),
        ({"type": "regex", "value": "^\\d+$", "flags": "i"}, 'matches the pattern "^\\\\d+$" (flags i)'),
        ({"type": "contains-any", "value": ["yes", "no"]}, 'contains one of "yes", "no"'),
        ({"type": "contains-all", "value": ["a", "b"]}, 'contains all of "a", "b"'),
        ({"type": "starts-with", "value": "{"}, 'starts with "{"'),
        ({"type": "is-json"}, "is valid JSON"),
        ({"type": "is-json", "schema": {"type": "object"}}, "is valid JSON matching a schema"),
        ({"type": "word-count", "min": 2, "max": 5}, "has 2 to 5 words"),
        ({"type": "word-count", "min": 2}, "has at least 2 words"),
        ({"type": "llm-rubric", "rubric": "polite"}, 'a judge model agrees: "polite"'),
        ({"type": "something-new"}, "something-new"),
    ],
)
def test_every_check_is_described_in_words(check, text):
    assert describe_check(check) == text


def test_an_authors_page_script_gets_the_body_of_their_private_challenge(make_user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    bob, eve = make_user("bob"), make_user("eve")
    _private(bob, slug="bobs-draft", title="Bob's draft")

    def get(user=None):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client.get("/challenges/bobs-draft/body/")

    assert get().status_code == 401
    assert get(eve).status_code == 404
    response = get(bob)
    assert response.status_code == 200
    assert response.json()["title"] == "Bob's draft"
    html = response.json()["html"]
    assert "<h1>Bob&#x27;s draft</h1>" in html and "<h2>Classification</h2>" in html
    assert '<script id="challenge-data" type="application/json">' in html
    assert "<dd><pre>Loved every minute</pre></dd>" in html
    assert HIDDEN_INPUT not in html and HIDDEN_VALUE not in html
