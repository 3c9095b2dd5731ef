"""Connections as data: several servers at once, discovery, measured availability, learners' own keys.

Two fake OpenAI-compatible servers and the fake Anthropic server run at once, each listing its
own models on `GET /v1/models`; the real SDKs talk to them over sockets.
"""

import logging
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from llm import connection_services, registry, secrets
from llm.models import Connection, ConnectionModel, LLMRun
from llm.tasks import connections_probe
from tests.fakes import FakeLLMServer, fake_anthropic_server, fake_openai_server
from tests.llm.providers_support import closed_http_clients  # noqa: F401  (fixture)
from tests.llm.runs_support import playground, receive_until_end, run_ledger

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closed_http_clients")]

KEY_A = "sk-lab-a-7Qd9secret"
KEY_B = "sk-lab-b-Xf3psecret"
KEY_ANTHROPIC = "sk-ant-claude-Lm2secret"
OWN_KEY = "sk-learner-own-Zr8secret"
TOKENS = [f"w{i} " for i in range(24)]  # enough output for a run's XP (RUN_MIN_OUTPUT_TOKENS)


@pytest.fixture
def servers() -> Iterator[dict[str, FakeLLMServer]]:
    started = {
        "lab-a": fake_openai_server(models=["alpha-1", "alpha-2"]).start(),
        "lab-b": fake_openai_server(models=["beta-1"]).start(),
        "claude": fake_anthropic_server(models=["claude-x"]).start(),
    }
    try:
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(autouse=True)
def no_retries(settings):
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_PROBE_TIMEOUT_SECONDS = 1.0


def staff_client(make_user) -> APIClient:
    staff = make_user("staffer")
    staff.is_staff = True
    staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    return client_for(staff)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def connect_all(staff: APIClient, servers: dict[str, FakeLLMServer], **lab_a_options) -> None:
    """Create the three connections over staff REST, discover their models, price and enable them."""
    bodies = {
        "lab-a": {"kind": "openai-compatible", "base_url": f"{servers['lab-a'].url}/v1", "api_key": KEY_A},
        "lab-b": {"kind": "openai-compatible", "base_url": f"{servers['lab-b'].url}/v1", "api_key": KEY_B},
        "claude": {"kind": "anthropic", "base_url": servers["claude"].url, "api_key": KEY_ANTHROPIC},
    }
    for name, body in bodies.items():
        extra = lab_a_options if name == "lab-a" else {}
        response = staff.post("/api/v1/llm/connections/", {"name": name, **body, **extra}, format="json")
        assert response.status_code == 201, response.content
        assert staff.post(f"/api/v1/llm/connections/{name}/discover/").status_code == 200
    for model in ConnectionModel.objects.select_related("connection"):
        # One credit per token, short runs: each reservation fits a new learner's 100 credits.
        price = {"credits_per_1k_input": 1000, "credits_per_1k_output": 1000, "default_max_tokens": 16, "enabled": True}
        url = f"/api/v1/llm/connections/{model.connection.name}/models/{model.name}/"
        assert staff.patch(url, price, format="json").status_code == 200


def listed(client) -> dict[str, dict]:
    return {model["id"]: model for model in client.get("/api/v1/llm/models/").json()}


async def run(user, model: str) -> dict:
    """The terminal frame of a playground run (a refusal's `run.failed` included)."""
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": model, "prompt": "Count to ten"})
        frames = await receive_until_end(ws, timeout=15)
    finally:
        await ws.disconnect()
    return frames[-1]


def chat_requests(server: FakeLLMServer) -> list:
    return [r for r in server.requests if r.method == "POST"]


def credits_of(user) -> int:
    user.refresh_from_db()
    return user.credits


# --- staff REST and the admin ------------------------------------------------------------------


def test_staff_manage_connections_and_the_key_is_never_returned(make_user, api_client):
    staff = staff_client(make_user)
    learner = client_for(make_user("learner"))
    body = {"name": "lab-a", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "api_key": KEY_A}

    created = staff.post("/api/v1/llm/connections/", body, format="json")
    listed_ = staff.get("/api/v1/llm/connections/")
    detail = staff.get("/api/v1/llm/connections/lab-a/")
    patched = staff.patch("/api/v1/llm/connections/lab-a/", {"read_timeout_seconds": 12}, format="json")

    assert created.status_code == 201
    assert created.json()["has_api_key"] is True and "api_key" not in created.json()
    assert listed_.json()["count"] == 1
    assert detail.json()["read_timeout_seconds"] == 60.0
    assert patched.json()["read_timeout_seconds"] == 12.0 and patched.json()["has_api_key"] is True
    for response in (created, listed_, detail, patched):
        assert KEY_A not in response.content.decode()
    row = Connection.objects.get(name="lab-a")
    assert KEY_A not in row.api_key_encrypted and secrets.decrypt(row.api_key_encrypted) == KEY_A
    assert learner.get("/api/v1/llm/connections/").status_code == 403
    assert api_client.get("/api/v1/llm/connections/").status_code == 401
    removed = staff.patch("/api/v1/llm/connections/lab-a/", {"api_key": ""}, format="json")
    assert removed.json()["has_api_key"] is False


def test_bad_connection_input_is_a_400_naming_the_field(make_user):
    staff = staff_client(make_user)

    bad_name = staff.post("/api/v1/llm/connections/", {"name": "Lab A", "kind": "openai-compatible"}, format="json")
    bad_kind = staff.post("/api/v1/llm/connections/", {"name": "lab", "kind": "gemini"}, format="json")

    assert bad_name.status_code == 400 and "name" in bad_name.json()
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()


def test_the_admin_says_set_or_not_set_and_never_shows_the_key(make_user):
    staff = make_user("admin")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    browser = Client()
    browser.force_login(staff)
    connection_services.connection_create(name="lab-a", kind="openai-compatible", api_key=KEY_A)
    connection_services.connection_create(name="lab-b", kind="openai-compatible", base_url="http://127.0.0.1:9/v1")
    pk = Connection.objects.get(name="lab-a").pk

    changelist = browser.get("/admin/llm/connection/")
    change = browser.get(f"/admin/llm/connection/{pk}/change/")

    assert changelist.status_code == change.status_code == 200
    for page in (changelist, change):
        assert KEY_A not in page.content.decode()
    assert '<td class="field-api_key_state">set</td>' in changelist.content.decode()
    assert '<td class="field-api_key_state">not set</td>' in changelist.content.decode()
    form = {
        "name": "lab-a",
        "kind": "openai-compatible",
        "base_url": "",
        "api_key": "",  # left empty: the stored key stays
        "connect_timeout_seconds": "5",
        "read_timeout_seconds": "30",
        "enabled": "on",
        "models-TOTAL_FORMS": "0",
        "models-INITIAL_FORMS": "0",
    }
    saved = browser.post(f"/admin/llm/connection/{pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    row = Connection.objects.get(pk=pk)
    assert (row.read_timeout_seconds, secrets.decrypt(row.api_key_encrypted)) == (30.0, KEY_A)


def test_the_admin_discovers_models(make_user, servers):
    staff = make_user("admin")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    browser = Client()
    browser.force_login(staff)
    connection = connection_services.connection_create(
        name="lab-b", kind="openai-compatible", base_url=f"{servers['lab-b'].url}/v1"
    )

    response = browser.post(
        "/admin/llm/connection/", {"action": "discover_models", "_selected_action": [connection.pk]}, follow=True
    )

    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["lab-b: new models beta-1 (disabled until priced)."], response.content.decode()[-3000:]
    assert list(ConnectionModel.objects.values_list("name", "enabled")) == [("beta-1", False)]


# --- several servers at once, discovery -------------------------------------------------------


async def test_three_servers_at_once_each_serve_their_own_models_with_their_own_keys(make_user, servers):
    staff, learner = await database_sync_to_async(lambda: (staff_client(make_user), make_user("learner")))()
    await database_sync_to_async(connect_all)(staff, servers)

    models = await database_sync_to_async(listed)(staff)
    frames = {model: await run(learner, model) for model in ("lab-a:alpha-2", "lab-b:beta-1", "claude:claude-x")}

    expected = {"lab-a:alpha-1", "lab-a:alpha-2", "lab-b:beta-1", "claude:claude-x"}
    assert expected <= set(models)
    assert models["lab-b:beta-1"]["provider"] == models["lab-b:beta-1"]["connection"] == "lab-b"
    assert (models["claude:claude-x"]["kind"], models["claude:claude-x"]["credits_per_1k_tokens"]) == (
        "anthropic",
        1000.0,
    )
    assert {model: frame["type"] for model, frame in frames.items()} == dict.fromkeys(frames, "run.completed")
    a, b, claude = (chat_requests(servers[name]) for name in ("lab-a", "lab-b", "claude"))
    assert [(r.path, r.body["model"], r.headers["authorization"]) for r in a] == [
        ("/v1/chat/completions", "alpha-2", f"Bearer {KEY_A}")
    ]
    assert [(r.path, r.body["model"], r.headers["authorization"]) for r in b] == [
        ("/v1/chat/completions", "beta-1", f"Bearer {KEY_B}")
    ]
    assert [(r.path, r.body["model"], servers["claude"].dialect.credential(r.headers)) for r in claude] == [
        ("/v1/messages", "claude-x", KEY_ANTHROPIC)
    ]


def test_discovery_adds_new_models_disabled_until_priced(make_user, servers):
    staff = staff_client(make_user)
    staff.post(
        "/api/v1/llm/connections/",
        {"name": "lab-a", "kind": "openai-compatible", "base_url": f"{servers['lab-a'].url}/v1"},
        format="json",
    )

    first = staff.post("/api/v1/llm/connections/lab-a/discover/")
    hidden = listed(staff)
    servers["lab-a"].models.append("alpha-3")
    second = staff.post("/api/v1/llm/connections/lab-a/discover/")
    priced = staff.patch(
        "/api/v1/llm/connections/lab-a/models/alpha-3/",
        {"credits_per_1k_input": 2, "credits_per_1k_output": 6, "enabled": True},
        format="json",
    )

    assert first.json() == {"added": ["alpha-1", "alpha-2"], "known": []}
    assert not any(model_id.startswith("lab-a:") for model_id in hidden)
    assert second.json() == {"added": ["alpha-3"], "known": ["alpha-1", "alpha-2"]}
    assert priced.status_code == 200 and priced.json()["id"] == "lab-a:alpha-3"
    assert [(m["id"], m["credits_per_1k_input"], m["credits_per_1k_output"]) for m in listed(staff).values()][-1:] == [
        ("lab-a:alpha-3", 2.0, 6.0)
    ]
    assert [request.path for request in servers["lab-a"].requests] == ["/v1/models", "/v1/models"]


def test_discovery_of_a_server_that_does_not_answer_is_a_502_and_adds_nothing(make_user):
    staff = staff_client(make_user)
    staff.post(
        "/api/v1/llm/connections/",
        {"name": "gone", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"},
        format="json",
    )

    response = staff.post("/api/v1/llm/connections/gone/discover/")

    assert response.status_code == 502 and response.json()["code"] == "provider_error"
    assert not ConnectionModel.objects.exists()
    assert staff.post("/api/v1/llm/connections/nope/discover/").status_code == 404


# --- availability measured ---------------------------------------------------------------------


async def test_a_connection_going_down_fails_runs_fast_for_free_and_comes_back(make_user, servers):
    staff, learner = await database_sync_to_async(lambda: (staff_client(make_user), make_user("learner")))()
    await database_sync_to_async(connect_all)(staff, servers)
    lab_b = servers["lab-b"]

    up = await database_sync_to_async(connections_probe)()
    before = (await database_sync_to_async(listed)(staff))["lab-b:beta-1"]
    lab_b.stop()
    down = await database_sync_to_async(connections_probe)()
    while_down = await database_sync_to_async(listed)(staff)
    balance = await database_sync_to_async(credits_of)(learner)
    refused = await run(learner, "lab-b:beta-1")
    other = await run(learner, "lab-a:alpha-1")
    balance_after_refusal = await database_sync_to_async(credits_of)(learner)
    back = fake_openai_server(port=lab_b.port, models=["beta-1"]).start()
    try:
        again = await database_sync_to_async(connections_probe)()
        after = (await database_sync_to_async(listed)(staff))["lab-b:beta-1"]
        completed = await run(learner, "lab-b:beta-1")
    finally:
        back.stop()

    assert up["lab-b"] is True and down["lab-b"] is False and again["lab-b"] is True
    assert (before["available"], before["status"]["state"]) == (True, "up")
    assert isinstance(before["status"]["latency_ms"], int)
    assert (while_down["lab-b:beta-1"]["available"], while_down["lab-b:beta-1"]["status"]["state"]) == (False, "down")
    assert while_down["lab-a:alpha-1"]["available"] is True  # the other connections are unaffected
    assert (refused["type"], refused["run_id"], refused["error"]["code"]) == (
        "run.failed",
        None,
        "provider_unavailable",
    )
    assert other["type"] == "run.completed"
    assert balance_after_refusal == balance - other["cost_credits"]  # the refused run charged nothing
    assert [r.path for r in back.requests if r.method == "POST"] == ["/v1/chat/completions"]
    assert (after["available"], after["status"]["state"]) == (True, "up")
    assert completed["type"] == "run.completed"
    assert await database_sync_to_async(LLMRun.objects.filter(model="lab-b:beta-1").count)() == 1


def test_a_rest_run_on_a_down_connection_is_a_503_with_retry_after(make_user):
    staff = staff_client(make_user)
    learner = make_user("learner")
    staff.post(
        "/api/v1/llm/connections/",
        {"name": "gone", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"},
        format="json",
    )
    connection = Connection.objects.get(name="gone")
    ConnectionModel.objects.create(connection=connection, name="m", credits_per_1k_output=1)
    registry.registry_changed()
    connections_probe()

    response = client_for(learner).post("/api/v1/llm/runs/", {"model": "gone:m", "prompt": "Hi"}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable" and "Retry-After" in response.headers
    assert not LLMRun.objects.exists()
    assert credits_of(learner) == 100


# --- learners' own keys --------------------------------------------------------------------------


async def test_a_learners_own_key_reaches_the_server_and_costs_no_credits(make_user, servers, caplog):
    caplog.set_level(logging.DEBUG)
    lab_a = servers["lab-a"]
    lab_a.accepted_keys = {KEY_A, OWN_KEY}
    lab_a.script(tokens=TOKENS)
    staff, learner, payer = await database_sync_to_async(
        lambda: (staff_client(make_user), make_user("learner"), make_user("payer"))
    )()
    await database_sync_to_async(connect_all)(staff, servers, allow_user_keys=True)
    learner_client = await database_sync_to_async(client_for)(learner)

    stored = await database_sync_to_async(learner_client.post)(
        "/api/v1/llm/my-keys/", {"connection": "lab-a", "api_key": OWN_KEY}, format="json"
    )
    keys = await database_sync_to_async(learner_client.get)("/api/v1/llm/my-keys/")
    own = await run(learner, "lab-a:alpha-1")
    own_request = lab_a.requests[-1]
    paid = await run(payer, "lab-a:alpha-1")
    paid_request = lab_a.requests[-1]

    def state():
        learner.refresh_from_db()
        payer.refresh_from_db()
        return learner.credits, learner.experience_points, payer.credits, payer.experience_points

    learner_credits, learner_xp, payer_credits, payer_xp = await database_sync_to_async(state)()
    assert stored.status_code == 201 and set(stored.json()) == {"id", "connection", "created_at"}
    assert [key["connection"] for key in keys.json()["results"]] == ["lab-a"]
    assert own_request.headers["authorization"] == f"Bearer {OWN_KEY}"
    assert paid_request.headers["authorization"] == f"Bearer {KEY_A}"
    assert (own["type"], own["cost_credits"]) == ("run.completed", 0)
    assert paid["type"] == "run.completed" and paid["cost_credits"] > 0
    # Both earned the same rewards; only the payer paid for the run, and the own-key run has no ledger entry.
    assert learner_credits == payer_credits + paid["cost_credits"]
    assert await database_sync_to_async(run_ledger)(own["run_id"]) == {}
    assert learner_xp == payer_xp > 0  # the same XP for the same run
    for response in (stored, keys):
        assert OWN_KEY not in response.content.decode()
    for secret in (KEY_A, KEY_B, KEY_ANTHROPIC, OWN_KEY):
        assert secret not in caplog.text


async def test_a_wrong_own_key_is_a_clear_provider_error_and_costs_nothing(make_user, servers, caplog):
    caplog.set_level(logging.DEBUG)
    servers["lab-a"].accepted_keys = {KEY_A}
    staff, learner = await database_sync_to_async(lambda: (staff_client(make_user), make_user("learner")))()
    await database_sync_to_async(connect_all)(staff, servers, allow_user_keys=True)
    await database_sync_to_async(connection_services.provider_key_set)(
        user=learner, connection_name="lab-a", api_key="sk-wrong-Qq1secret"
    )

    failed = await run(learner, "lab-a:alpha-1")

    assert failed["type"] == "run.failed"
    assert (failed["error"]["code"], failed["error"]["message"]) == (
        "provider_error",
        "The provider refused your API key for this connection: check it, or replace it under llm/my-keys/.",
    )
    assert servers["lab-a"].requests[-1].headers["authorization"] == "Bearer sk-wrong-Qq1secret"
    assert await database_sync_to_async(credits_of)(learner) == 100
    assert "sk-wrong-Qq1secret" not in caplog.text


def test_own_keys_only_for_connections_that_allow_them_and_only_your_own(make_user):
    connection_services.connection_create(name="closed", kind="openai-compatible", base_url="http://127.0.0.1:9/v1")
    connection_services.connection_create(
        name="open", kind="openai-compatible", base_url="http://127.0.0.1:9/v1", allow_user_keys=True
    )
    alice, bob = client_for(make_user("alice")), client_for(make_user("bob"))

    refused = alice.post("/api/v1/llm/my-keys/", {"connection": "closed", "api_key": OWN_KEY}, format="json")
    blank = alice.post("/api/v1/llm/my-keys/", {"connection": "open", "api_key": "  "}, format="json")
    stored = alice.post("/api/v1/llm/my-keys/", {"connection": "open", "api_key": OWN_KEY}, format="json")
    key_id = stored.json()["id"]

    assert refused.status_code == 400 and "connection" in refused.json()
    assert blank.status_code == 400 and "api_key" in blank.json()
    assert bob.get("/api/v1/llm/my-keys/").json()["count"] == 0
    assert bob.delete(f"/api/v1/llm/my-keys/{key_id}/").status_code == 404
    assert alice.delete(f"/api/v1/llm/my-keys/{key_id}/").status_code == 204
    assert alice.get("/api/v1/llm/my-keys/").json()["count"] == 0


# --- the environment's variables, seeding, encryption ------------------------------------------


TODAY = [
    ("local:smollm2-135m-instruct", 0.2, 0.5),
    ("local:gemma-3-270m", 0.2, 0.5),
    ("openai:gpt-4o-mini", 1.0, 4.0),
    ("openai:gpt-4o", 5.0, 20.0),
    ("anthropic:claude-haiku-4-5", 2.0, 10.0),
    ("anthropic:claude-sonnet-4-5", 6.0, 30.0),
]


def prices(client) -> list[tuple[str, float, float]]:
    return [(m["id"], m["credits_per_1k_input"], m["credits_per_1k_output"]) for m in listed(client).values()]


def test_the_old_variables_still_produce_todays_registry_and_seed_rows_that_keep_it(make_user, settings):
    settings.OPENAI_API_KEY = "sk-env-openai"
    settings.ANTHROPIC_API_KEY = "sk-env-anthropic"
    staff = staff_client(make_user)

    from_environment = prices(staff)
    added = connection_services.connections_seed()
    seeded = prices(staff)
    again = connection_services.connections_seed()
    row = ConnectionModel.objects.get(connection__name="openai", name="gpt-4o")
    connection_services.model_update(model=row, credits_per_1k_output=25)

    assert from_environment == seeded == TODAY
    assert added == ["local", "openai", "anthropic", *(model_id for model_id, _, _ in TODAY)]
    assert again == []
    assert secrets.decrypt(Connection.objects.get(name="openai").api_key_encrypted) == "sk-env-openai"
    assert {m: out for m, _, out in prices(staff)}["openai:gpt-4o"] == 25.0  # the row now wins


def test_llm_models_json_entries_still_replace_the_catalogue_with_a_database(api_client, db, settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.LLM_MODELS = [
        {
            "id": "openai:llama3.2",
            "display_name": "Llama 3.2",
            "context_limit": 8192,
            "max_output_tokens": 1024,
            "credits_per_1k_input": 0.5,
            "credits_per_1k_output": 1.5,
        }
    ]

    assert prices(api_client) == [("openai:llama3.2", 0.5, 1.5)]


def test_a_disabled_row_hides_the_environments_model_and_a_disabled_connection_all_of_its(db, settings):
    settings.OPENAI_API_KEY = "sk-env-openai"
    settings.ANTHROPIC_API_KEY = "sk-env-anthropic"
    connection_services.connections_seed()

    connection_services.model_update(model=ConnectionModel.objects.get(name="gpt-4o"), enabled=False)
    without_model = [spec.id for spec in registry.models_all()]
    connection_services.connection_update(connection=Connection.objects.get(name="anthropic"), enabled=False)
    without_connection = [spec.id for spec in registry.models_all()]

    assert "openai:gpt-4o" not in without_model and "openai:gpt-4o-mini" in without_model
    assert not any(model_id.startswith("anthropic:") for model_id in without_connection)


def test_keys_rotate_to_a_new_encryption_key_and_old_tokens_still_read(db, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.LLM_ENCRYPTION_KEY = old
    connection_services.connection_create(name="lab-a", kind="openai-compatible", api_key=KEY_A)

    settings.LLM_ENCRYPTION_KEY = f"{new},{old}"
    readable_during_rotation = secrets.decrypt(Connection.objects.get(name="lab-a").api_key_encrypted)
    rotated = connection_services.keys_rotate()
    settings.LLM_ENCRYPTION_KEY = new

    assert readable_during_rotation == KEY_A and rotated == 1
    assert secrets.decrypt(Connection.objects.get(name="lab-a").api_key_encrypted) == KEY_A


def test_the_default_encryption_key_is_derived_from_the_secret_key(settings):
    token = secrets.encrypt(KEY_A)

    settings.SECRET_KEY = "another-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"

    assert KEY_A not in token
    with pytest.raises(secrets.SecretUnreadable):
        secrets.decrypt(token)


def test_the_environments_connections_are_probed_too(api_client, fake_openai):
    probed = connections_probe()
    models = listed(api_client)

    assert probed["openai"] is True and "anthropic" not in probed  # not configured: not probed
    assert models["openai:gpt-4o-mini"]["status"]["state"] == "up"
    assert models["anthropic:claude-haiku-4-5"]["status"]["state"] == "unknown"
    assert [request.path for request in fake_openai.requests] == ["/v1/models"]


def test_the_beat_probes_every_minute(settings):
    assert settings.CELERY_BEAT_SCHEDULE["llm-connections-probe"] == {
        "task": "llm.connections_probe",
        "schedule": 60.0,
    }


def test_bad_model_changes_are_a_400_naming_the_field(make_user, servers):
    staff = staff_client(make_user)
    staff.post(
        "/api/v1/llm/connections/",
        {"name": "lab-b", "kind": "openai-compatible", "base_url": f"{servers['lab-b'].url}/v1"},
        format="json",
    )
    staff.post("/api/v1/llm/connections/lab-b/discover/")
    url = "/api/v1/llm/connections/lab-b/models/beta-1/"

    negative = staff.patch(url, {"credits_per_1k_output": -1}, format="json")
    too_long = staff.patch(url, {"max_output_tokens": 100, "default_max_tokens": 200, "enabled": True}, format="json")
    timeouts = staff.patch("/api/v1/llm/connections/lab-b/", {"read_timeout_seconds": "soon"}, format="json")

    assert negative.status_code == 400 and "credits_per_1k_output" in negative.json()
    assert too_long.status_code == 400 and "default_max_tokens" in too_long.json()
    assert timeouts.status_code == 400 and "read_timeout_seconds" in timeouts.json()
    assert staff.get("/api/v1/llm/connections/lab-b/models/nope/").status_code == 404


def test_a_connection_spec_never_shows_its_key():
    from llm.connections import ConnectionSpec
    from llm.providers.base import GenerationRequest

    spec = ConnectionSpec(name="lab-a", kind="openai-compatible", api_key=KEY_A)
    request = GenerationRequest(model="alpha-1", prompt="Hi", credential=OWN_KEY)

    assert KEY_A not in repr(spec) and KEY_A not in str(spec)
    assert OWN_KEY not in repr(request)
    assert request == GenerationRequest(model="alpha-1", prompt="Hi")  # the key is not part of the request's value


def test_a_connection_added_in_the_admin_stores_its_key_encrypted_and_never_shows_it(make_user):
    staff = make_user("admin")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    browser = Client()
    browser.force_login(staff)
    form = {
        "name": "lab-c",
        "kind": "openai-compatible",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": KEY_B,
        "connect_timeout_seconds": "5",
        "read_timeout_seconds": "60",
        "enabled": "on",
        "models-TOTAL_FORMS": "1",
        "models-INITIAL_FORMS": "0",
        "models-0-name": "gamma-1",
        "models-0-display_name": "Gamma 1",
        "models-0-context_limit": "4096",
        "models-0-max_output_tokens": "512",
        "models-0-default_temperature": "0.5",
        "models-0-default_max_tokens": "64",
        "models-0-credits_per_1k_input": "1",
        "models-0-credits_per_1k_output": "3",
        "models-0-enabled": "on",
        "models-0-position": "0",
    }

    added = browser.post("/admin/llm/connection/add/", form)
    row = Connection.objects.get(name="lab-c")
    page = browser.get(f"/admin/llm/connection/{row.pk}/change/")

    assert added.status_code == 302, added.content.decode()[:3000]
    assert secrets.decrypt(row.api_key_encrypted) == KEY_B and KEY_B not in row.api_key_encrypted
    assert KEY_B not in page.content.decode()
    assert ("lab-c:gamma-1", 3.0) in [(spec.id, spec.credits_per_1k_output) for spec in registry.models_all()]
