import json
import threading
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient

LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
ME = "/api/v1/auth/me/"
HIGH = "1000/day"


@pytest.fixture
def rates(settings):
    """Set throttle rates for one test (per day, so no window boundary falls inside a test)."""

    def apply(**overrides: str) -> None:
        base = {"anon": HIGH, "user": HIGH, "ai_requests": HIGH, "auth_ip": HIGH, "auth_account": HIGH}
        settings.REST_FRAMEWORK = {
            **django_settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**base, **overrides},
        }

    return apply


def login(client: APIClient, identifier: str, **extra):
    return client.post(LOGIN, {"username_or_email": identifier, "password": "wrong-pass-1"}, format="json", **extra)


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 86400


@pytest.mark.django_db
def test_anonymous_requests_are_limited_per_ip(rates):
    rates(anon="3/day")
    client = APIClient()

    statuses = [client.post(REFRESH, {"refresh": "x"}, format="json").status_code for _ in range(3)]
    fourth = client.post(REFRESH, {"refresh": "x"}, format="json")
    other_ip = client.post(REFRESH, {"refresh": "x"}, format="json", REMOTE_ADDR="10.0.0.7")

    assert statuses == [401, 401, 401]
    assert_throttled(fourth)
    assert other_ip.status_code == 401


@pytest.mark.django_db
def test_authenticated_requests_are_limited_per_user(rates, auth_client):
    rates(user="2/day")

    statuses = [auth_client.get(ME).status_code for _ in range(2)]
    third = auth_client.get(ME)

    assert statuses == [200, 200]
    assert_throttled(third)


@pytest.mark.django_db
def test_login_attempts_are_limited_per_ip_across_accounts(rates, user):
    rates(auth_ip="3/day")
    client = APIClient()

    statuses = [login(client, name).status_code for name in ("alice", "bob", "carol")]
    fourth = login(client, "dave")

    assert statuses == [401, 401, 401]
    assert_throttled(fourth)


@pytest.mark.django_db
def test_login_attempts_are_limited_per_account_across_ips(rates, user):
    rates(auth_account="2/day")
    client = APIClient()

    statuses = [login(client, "alice", REMOTE_ADDR=f"10.0.0.{n}").status_code for n in (1, 2)]
    third = login(client, "ALICE ", REMOTE_ADDR="10.0.0.3")
    other_account = login(client, "bob", REMOTE_ADDR="10.0.0.4")

    assert statuses == [401, 401]
    assert_throttled(third)
    assert other_account.status_code == 401


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_escape_the_ip_limit(rates):
    rates(auth_ip="2/day")
    client = APIClient()

    statuses = [login(client, f"user{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(2)]
    third = login(client, "user9", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert statuses == [401, 401]
    assert_throttled(third)


@pytest.mark.django_db
def test_registration_and_reset_requests_share_the_brute_force_limit(rates):
    rates(auth_ip="2/day")
    client = APIClient()

    register = client.post("/api/v1/auth/register/", {}, format="json")
    reset = client.post("/api/v1/auth/password/reset/", {"email": "a@example.com"}, format="json")
    third = client.post("/api/v1/auth/password/reset/", {"email": "a@example.com"}, format="json")

    assert (register.status_code, reset.status_code) == (400, 202)
    assert_throttled(third)


@pytest.mark.django_db
def test_throttle_counters_live_in_redis(rates):
    rates()

    login(APIClient(), "alice")

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        # Keys look like "pc:1:throttle_<scope>_<ident>:<window>".
        scopes = sorted(key.decode().split(":")[2].rsplit("_", 1)[0] for key in client.keys("*throttle_*"))
    finally:
        client.close()
    assert scopes == ["throttle_anon", "throttle_auth_account", "throttle_auth_ip"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_exceed_the_limit(rates):
    rates(anon="5/day")
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    lock = threading.Lock()

    def hit():
        try:
            barrier.wait()
            status = APIClient().post(REFRESH, {"refresh": "x"}, format="json").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401] * 5 + [429] * 7


def _post_json(url: str, body: dict, **headers: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_limits_hold_across_server_processes(daphne):
    first = daphne(THROTTLE_AUTH_IP="3/day")
    second = daphne(THROTTLE_AUTH_IP="3/day")
    attempt = {"username_or_email": "alice", "password": "wrong-pass-1"}

    statuses = [
        _post_json(f"{first.http_url}{LOGIN}", attempt)[0],
        _post_json(f"{second.http_url}{LOGIN}", attempt)[0],
        _post_json(f"{first.http_url}{LOGIN}", attempt)[0],
    ]
    fourth_status, fourth_headers = _post_json(f"{second.http_url}{LOGIN}", attempt)

    assert statuses == [401, 401, 401]
    assert fourth_status == 429
    assert 1 <= int(fourth_headers["Retry-After"]) <= 86400


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_behind_one_proxy_each_client_has_its_own_buckets(daphne):
    # given a server behind one proxy, which appends each client's address to X-Forwarded-For
    server = daphne(NUM_PROXIES="1", THROTTLE_AUTH_IP="3/day")
    url = f"{server.http_url}{LOGIN}"

    def attempt(forwarded_for: str) -> int:
        return _post_json(url, {"username_or_email": "x", "password": "p"}, **{"X-Forwarded-For": forwarded_for})[0]

    # when one client uses up its sign-in attempts
    first = [attempt("203.0.113.5") for _ in range(3)]
    # then it is limited, even sending a made-up address of its own before the proxy's
    limited = [attempt("203.0.113.5"), attempt("198.51.100.77, 203.0.113.5")]
    # while another client behind the same proxy is not
    other = attempt("203.0.113.6")

    assert (first, limited, other) == ([401, 401, 401], [429, 429], 401)
