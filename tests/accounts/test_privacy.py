"""Data export (GET auth/me/export/) and account deletion (DELETE auth/me/): what leaves, what stays."""

import io
import json

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import privacy, services
from challenges.models import Attempt, AttemptSample, AttemptStatus, Challenge
from core.redis import redis_client
from game import services as game_services
from game.leaderboards.boards import board_key
from game.models import CreditEntry, XPEvent
from llm.models import LLMRun, RunStatus
from prompts.models import Favorite, PromptTemplate, Rating, TemplateVersion, Visibility
from prompts.services import template_create, template_favorite_add, template_rate, template_update
from tests.challenges.support import make_challenge

User = get_user_model()
PASSWORD = "Str0ng-pass-phrase!"
ME = "/api/v1/auth/me/"
EXPORT = "/api/v1/auth/me/export/"
HIDDEN_OUTPUT = "HIDDEN-CASE-OUTPUT-Tokyo"
SEALED_PROMPT = "HIDDEN-CASE-PROMPT Japan"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def world(make_user):
    """alice (to be deleted) and bob, each with a footprint in every app."""
    alice = make_user("alice", first_name="Alice", last_name="Liddell")
    User.objects.filter(pk=alice.pk).update(bio="Down the rabbit hole", timezone="Europe/Paris")
    bob = make_user("bob")
    private = template_create(owner=alice, title="Alice private", content="Secret {{thing}}")
    template_update(template=private, actor=alice, content="Secret {{thing}} v2")
    public = template_create(owner=alice, title="Alice public", content="Hello {{name}}", visibility=Visibility.PUBLIC)
    bobs = template_create(owner=bob, title="Bob public", content="Hi {{who}}", visibility=Visibility.PUBLIC)
    template_rate(template=bobs, user=alice, score=4)
    template_favorite_add(template=bobs, user=alice)
    template_rate(template=public, user=bob, score=5)
    LLMRun.objects.create(
        user=alice, model="local:gemma-3-270m", prompt="Tell me a story", output="Once upon a time",
        status=RunStatus.COMPLETED, template=private, variables={"thing": "x"}, input_tokens=4, output_tokens=5,
    )  # fmt: skip
    LLMRun.objects.create(
        user=alice, model="local:gemma-3-270m", prompt=SEALED_PROMPT, output=HIDDEN_OUTPUT,
        status=RunStatus.COMPLETED, sealed=True,
    )  # fmt: skip
    builtin = make_challenge(None, builtin=True, title="Capitals builtin", models=[], default_model="")
    own = make_challenge(alice, title="Alice's own challenge", models=[], default_model="")
    attempt = Attempt.objects.create(
        user=alice, challenge=builtin, version=builtin.versions.get(), model="test:echo", prompt="Capital?",
        status=AttemptStatus.COMPLETED, passed=True, score=800, prompt_tokens=3,
    )  # fmt: skip
    public_case, hidden_case = builtin.cases[0]["id"], builtin.cases[2]["id"]
    AttemptSample.objects.create(attempt=attempt, case_id=public_case, passed=True, output="Paris")
    AttemptSample.objects.create(attempt=attempt, case_id=hidden_case, passed=True, output=HIDDEN_OUTPUT)
    game_services.xp_award(user_id=alice.pk, amount=50, reason="test.award", idempotency_key="a1")
    game_services.xp_award(user_id=bob.pk, amount=30, reason="test.award", idempotency_key="b1")
    key = services.api_key_create(user=alice, name="laptop")
    SocialAccount.objects.create(user=alice, provider="fakeid", uid="alice-sub", extra_data={"email": "a@x.org"})
    alice.refresh_from_db()
    return {"alice": alice, "bob": bob, "private": private, "public": public, "bobs": bobs, "own": own,
            "builtin": builtin, "key": key}  # fmt: skip


# --- export ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_is_an_attachment_with_every_part_and_nothing_hidden(world):
    alice = world["alice"]

    response = client_for(alice).get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="promptcraft-alice-')
    text = response.content.decode()
    doc = json.loads(text)
    assert set(doc) == {"format", "exported_at", "account", "game", "prompts", "llm", "challenges"}
    profile = doc["account"]["profile"]
    assert (profile["username"], profile["email"], profile["first_name"], profile["bio"], profile["timezone"]) == (
        "alice", "alice@example.com", "Alice", "Down the rabbit hole", "Europe/Paris",
    )  # fmt: skip
    templates = {t["title"]: t for t in doc["prompts"]["templates"]}
    assert set(templates) == {"Alice private", "Alice public"}
    assert [v["number"] for v in templates["Alice private"]["versions"]] == [1, 2]
    assert templates["Alice private"]["versions"][1]["content"] == "Secret {{thing}} v2"
    assert [(r["title"], r["score"]) for r in doc["prompts"]["ratings"]] == [("Bob public", 4)]
    assert [f["title"] for f in doc["prompts"]["favorites"]] == ["Bob public"]
    assert [(r["prompt"], r["output"]) for r in doc["llm"]["runs"]] == [("Tell me a story", "Once upon a time")]
    assert [c["title"] for c in doc["challenges"]["challenges"]] == ["Alice's own challenge"]
    (attempt,) = doc["challenges"]["attempts"]
    cases = {case["id"]: case for case in attempt["cases"]}
    france, _, japan = (case["id"] for case in world["builtin"].cases)
    assert cases[france]["samples"][0]["output"] == "Paris"
    assert cases[japan]["hidden"] is True and cases[japan]["passed"] is True
    assert set(cases[japan]["samples"][0]) == {"sample", "passed", "stopped_early"}
    assert HIDDEN_OUTPUT not in text and SEALED_PROMPT not in text  # hidden case data, anywhere
    amounts = list(XPEvent.objects.filter(user=alice).order_by("id").values_list("amount", flat=True))
    assert [e["amount"] for e in doc["game"]["xp_events"]] == amounts and 50 in amounts
    assert sum(amounts) == alice.experience_points
    assert sum(e["delta"] for e in doc["game"]["credit_entries"]) == alice.credits
    (key,) = doc["account"]["api_keys"]
    assert set(key) == {"id", "name", "prefix", "created_at", "expires_at", "revoked_at"}
    assert world["key"].key not in text and world["key"].api_key.key_hash not in text
    assert doc["account"]["social_accounts"] == [
        {"provider": "fakeid", "uid": "alice-sub", "linked_at": doc["account"]["social_accounts"][0]["linked_at"]}
    ]
    assert "Bob public" not in [t["title"] for t in doc["prompts"]["templates"]]


@pytest.mark.django_db
def test_the_export_needs_a_sign_in(api_client):
    assert api_client.get(EXPORT).status_code == 401


# --- deletion: refusals --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": "wrong-password"}])
def test_a_missing_or_wrong_password_is_a_400_naming_it_and_changes_nothing(world, body):
    alice = world["alice"]

    response = client_for(alice).delete(ME, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    alice.refresh_from_db()
    assert alice.is_active and alice.deleted_at is None and alice.username == "alice"


@pytest.mark.django_db
def test_a_malformed_body_is_a_400(world):
    response = client_for(world["alice"]).delete(ME, {"password": ["x"]}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


# --- deletion: what remains --------------------------------------------------------------


def _delete(alice, django_capture_on_commit_callbacks, password=PASSWORD):
    with django_capture_on_commit_callbacks(execute=True):
        return client_for(alice).delete(ME, {"password": password}, format="json")


@pytest.mark.django_db
def test_deletion_deactivates_at_once_and_the_erasure_keeps_exactly_what_it_should(
    world, django_capture_on_commit_callbacks
):
    alice, bob = world["alice"], world["bob"]
    refresh = str(services.token_pair_issue(user=alice).refresh)
    xp_before = XPEvent.objects.filter(user=alice).aggregate(s=Sum("amount"))["s"]
    credit_rows, credits_before = CreditEntry.objects.filter(user=alice).count(), alice.credits
    users_before = User.objects.count()

    response = _delete(alice, django_capture_on_commit_callbacks)

    assert response.status_code == 204
    alice.refresh_from_db()
    # The account row stays, anonymised; one system account inherits what was published.
    heir = User.objects.get(username=privacy.DELETED_OWNER_USERNAME)
    assert User.objects.count() == users_before + 1
    assert not heir.is_active and not heir.has_usable_password()
    assert alice.username == f"deleted-{alice.pk.hex[:12]}"
    assert alice.email == f"{alice.username}@deleted.invalid"
    assert (alice.first_name, alice.last_name, alice.bio, alice.timezone) == ("", "", "", "UTC")
    assert not alice.is_active and alice.deleted_at is not None and not alice.has_usable_password()
    # Sign-in is over: refresh tokens, personal keys, password.
    assert APIClient().post("/api/v1/auth/refresh/", {"refresh": refresh}, format="json").status_code == 401
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {world['key'].key}")
    assert keyed.get(ME).status_code == 401
    login = {"username_or_email": "alice", "password": PASSWORD}
    assert APIClient().post("/api/v1/auth/login/", login, format="json").status_code == 401
    # Templates: the private one and its versions gone, the public one the heir's.
    assert PromptTemplate.objects.filter(owner=alice).count() == 0
    assert list(PromptTemplate.objects.filter(owner=heir).values_list("title", flat=True)) == ["Alice public"]
    assert TemplateVersion.objects.filter(template_id=world["private"].pk).count() == 0
    assert list(TemplateVersion.objects.filter(template=world["public"]).values_list("author", flat=True)) == [heir.pk]
    assert Rating.objects.filter(template=world["public"], user=bob).count() == 1  # bob's rating of it stays
    # Her ratings and favourites of others stay (their counts stay true), with the anonymised row.
    assert Rating.objects.filter(user=alice).count() == 1 and Favorite.objects.filter(user=alice).count() == 1
    assert PromptTemplate.objects.get(pk=world["bobs"].pk).rating_count == 1
    # Runs and attempts keep their numbers, lose their words.
    runs = LLMRun.objects.filter(user=alice)
    assert runs.count() == 2
    assert set(runs.values_list("prompt", "output", "system")) == {("", "", "")}
    assert list(runs.values_list("variables", flat=True)) == [{}, {}]
    assert runs.aggregate(s=Sum("output_tokens"))["s"] == 5
    attempt = Attempt.objects.get(user=alice)
    assert (attempt.prompt, attempt.score, attempt.passed) == ("", 800, True)
    assert set(AttemptSample.objects.filter(attempt=attempt).values_list("output", flat=True)) == {""}
    # Challenges: her private one gone, the curriculum untouched.
    assert not Challenge.objects.filter(pk=world["own"].pk).exists()
    assert Challenge.objects.filter(pk=world["builtin"].pk).exists()
    # Ledgers: every row kept, pointing at the anonymised row, totals true.
    assert XPEvent.objects.filter(user=alice).aggregate(s=Sum("amount"))["s"] == xp_before == alice.experience_points
    assert CreditEntry.objects.filter(user=alice).count() == credit_rows
    assert alice.credits == credits_before
    # Gone: linked providers, keys, tokens.
    assert SocialAccount.objects.filter(user=alice).count() == 0
    assert alice.api_keys.count() == 0

    # A second run changes nothing.
    assert privacy.account_erase(user_id=alice.pk) is True
    assert User.objects.count() == users_before + 1
    assert PromptTemplate.objects.filter(owner=heir).count() == 1
    assert XPEvent.objects.filter(user=alice).aggregate(s=Sum("amount"))["s"] == xp_before


@pytest.mark.django_db
def test_the_erasure_of_an_account_not_deleted_does_nothing(world):
    assert privacy.account_erase(user_id=world["alice"].pk) is False
    world["alice"].refresh_from_db()
    assert world["alice"].username == "alice"


@pytest.mark.django_db
def test_registration_refuses_the_names_of_deleted_accounts(api_client):
    body = {"username": "Deleted-abc", "email": "d@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
    response = api_client.post("/api/v1/auth/register/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["username"]


@pytest.mark.django_db
def test_a_deleted_learner_leaves_the_leaderboards_in_redis_and_sql(world, django_capture_on_commit_callbacks):
    alice, bob = world["alice"], world["bob"]
    game_services.leaderboards_rebuild()
    client = redis_client(role="leaderboards")
    from django.utils import timezone

    now = timezone.now()
    assert client.zscore(board_key("all-time", now), str(alice.pk)) is not None
    assert client.zscore(board_key("weekly", now), str(alice.pk)) is not None

    assert _delete(alice, django_capture_on_commit_callbacks).status_code == 204

    for board in ("all-time", "weekly", "monthly"):
        assert client.zscore(board_key(board, now), str(alice.pk)) is None
        body = client_for(bob).get("/api/v1/game/leaderboard/", {"board": board}).json()
        assert [e["user"]["username"] for e in body["results"]] == ["bob"]
    assert client.hget("lb:names", str(alice.pk)) is None
    # The SQL the boards are rebuilt from leaves her out too.
    client.flushdb()
    body = client_for(bob).get("/api/v1/game/leaderboard/", {"board": "all-time"}).json()
    assert [e["user"]["username"] for e in body["results"]] == ["bob"]
    assert game_services.leaderboards_rebuild()["all-time"] == 1


@pytest.mark.django_db
def test_the_avatar_is_exported_and_its_file_erased_with_the_account(
    world, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    alice = world["alice"]
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(picture, "PNG")
    upload = SimpleUploadedFile("me.png", picture.getvalue(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        url = client_for(alice).put(f"{ME}avatar/", {"avatar": upload}, format="multipart").json()["avatar_url"]
    [stored] = list(tmp_path.rglob("*.webp"))

    exported = json.loads(client_for(alice).get(EXPORT).content)
    assert exported["account"]["profile"]["avatar_url"] == url

    assert _delete(alice, django_capture_on_commit_callbacks).status_code == 204

    alice.refresh_from_db()
    assert not alice.avatar
    assert not stored.exists()
    assert list(tmp_path.rglob("*.webp")) == []
