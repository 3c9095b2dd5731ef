"""The notification list: which events are kept, in the same transaction; the API; read marks on every socket."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from game.models import Notification
from game.notifications import notifications_mark_read
from game.services import activity_record, credits_grant, credits_spend, xp_award
from tests.game.test_consumers import events_socket
from tests.game.test_views import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/game/notifications/"
RUN = {"output_tokens": 20}


def kinds(user) -> list[tuple[str, dict]]:
    return [(row.kind, row.payload) for row in Notification.objects.filter(user=user).order_by("id")]


@pytest.fixture
def fresh(make_user):
    """A user whose sign-up notifications (the welcome credits) are cleared away."""
    user = make_user("alice")
    Notification.objects.filter(user=user).delete()
    return user


def test_sign_up_credits_are_a_notification(make_user):
    user = make_user("alice")

    assert [kind for kind, _ in kinds(user)] == ["credits.changed"]


def test_a_run_keeps_its_xp_and_badge_but_not_the_credit_bookkeeping(fresh):
    credits_spend(user_id=fresh.pk, amount=5, reason="run.reserve", idempotency_key="r:1")
    credits_grant(user_id=fresh.pk, amount=3, reason="run.refund", idempotency_key="r:1:refund")
    activity_record(user_id=fresh.pk, activity="run.completed", idempotency_key="run:1", data=RUN)

    kept = kinds(fresh)

    assert [(kind, payload.get("reason")) for kind, payload in kept] == [
        ("xp.awarded", "run.first_of_day"),
        ("xp.awarded", "run.completed"),
        ("badge.unlocked", None),
        ("xp.awarded", "badge.unlocked"),
        ("credits.changed", "badge.unlocked"),
    ]
    assert kept[2][1]["badge"]["slug"] == "first-run"
    assert kept[4][1]["delta"] > 0


def test_a_level_up_keeps_xp_credits_and_level(fresh):
    xp_award(user_id=fresh.pk, amount=100, reason="bonus", idempotency_key="b:1")

    assert [kind for kind, _ in kinds(fresh)] == ["xp.awarded", "credits.changed", "level.up"]
    # A used key awards nothing again, and keeps nothing again.
    xp_award(user_id=fresh.pk, amount=100, reason="bonus", idempotency_key="b:1")
    assert len(kinds(fresh)) == 3


def test_a_rolled_back_award_keeps_no_notification(fresh):
    with pytest.raises(RuntimeError), transaction.atomic():
        xp_award(user_id=fresh.pk, amount=40, reason="bonus", idempotency_key="b:1")
        raise RuntimeError("the caller fails after the award")

    assert kinds(fresh) == []


def test_only_the_newest_are_kept(fresh, settings):
    settings.GAME_NOTIFICATIONS_KEPT = 3
    for i in range(5):
        credits_grant(user_id=fresh.pk, amount=i + 1, reason="gift", idempotency_key=f"g:{i}")

    assert [payload["delta"] for _, payload in kinds(fresh)] == [3, 4, 5]


def test_list_is_newest_first_with_the_unread_count_and_only_yours(fresh, make_user):
    other = make_user("bob")
    for i in range(3):
        credits_grant(user_id=fresh.pk, amount=i + 1, reason="gift", idempotency_key=f"g:{i}")
    oldest = Notification.objects.filter(user=fresh).order_by("id").first()
    notifications_mark_read(user_id=fresh.pk, ids=[oldest.pk])

    body = client_for(fresh).get(URL).json()
    unread = client_for(fresh).get(URL, {"unread": "true"}).json()
    count = client_for(fresh).get(f"{URL}unread-count/").json()

    assert [row["payload"]["delta"] for row in body["results"]] == [3, 2, 1]
    assert set(body["results"][0]) == {"id", "kind", "payload", "created_at", "read_at", "read"}
    assert [row["read"] for row in body["results"]] == [False, False, True]
    assert body["unread"] == 2 and body["count"] == 3
    assert [row["payload"]["delta"] for row in unread["results"]] == [3, 2]
    assert count == {"unread": 2}
    assert client_for(other).get(URL).json()["count"] == 1  # bob's own welcome credits only


def test_list_pages(fresh):
    for i in range(5):
        credits_grant(user_id=fresh.pk, amount=i + 1, reason="gift", idempotency_key=f"g:{i}")

    first = client_for(fresh).get(URL, {"page_size": 2}).json()

    assert [row["payload"]["delta"] for row in first["results"]] == [5, 4]
    assert first["next"] and first["unread"] == 5


def test_mark_read_by_ids_ignores_other_users_ids(fresh, make_user):
    other = make_user("bob")
    credits_grant(user_id=fresh.pk, amount=1, reason="gift", idempotency_key="g:1")
    mine = Notification.objects.get(user=fresh)
    theirs = Notification.objects.get(user=other)

    response = client_for(fresh).post(f"{URL}read/", {"ids": [mine.pk, theirs.pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 0}
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.read_at is None and mine.read_at is not None


def test_mark_all_read(fresh):
    for i in range(3):
        credits_grant(user_id=fresh.pk, amount=1, reason="gift", idempotency_key=f"g:{i}")

    response = client_for(fresh).post(f"{URL}read/", {"all": True}, format="json")
    again = client_for(fresh).post(f"{URL}read/", {"all": True}, format="json")

    assert response.json() == {"marked": 3, "unread": 0}
    assert again.json() == {"marked": 0, "unread": 0}


def test_bad_requests_are_400_naming_the_field(fresh, api_client):
    client = client_for(fresh)
    cases = [
        ({}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": [1], "all": True}, "ids"),
        ({"ids": ["x"]}, "ids"),
        ({"ids": list(range(1, 202))}, "ids"),
        ({"all": "maybe"}, "all"),
    ]
    for body, field in cases:
        response = client.post(f"{URL}read/", body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()) == [field], body
    assert client.get(URL, {"unread": "perhaps"}).status_code == 400
    assert api_client.get(URL).status_code == 401
    assert api_client.post(f"{URL}read/", {"all": True}, format="json").status_code == 401


@pytest.mark.django_db(transaction=True)
async def test_marking_read_tells_every_socket_of_the_user(make_user):
    alice = await database_sync_to_async(make_user)("alice")
    bob = await database_sync_to_async(make_user)("bob")
    phone, laptop, other = await events_socket(alice), await events_socket(alice), await events_socket(bob)
    try:
        await database_sync_to_async(credits_grant)(user_id=alice.pk, amount=2, reason="gift", idempotency_key="g")
        for socket in (phone, laptop):
            assert (await socket.receive_json_from(timeout=3))["type"] == "credits.changed"
        ids = await database_sync_to_async(
            lambda: sorted(Notification.objects.filter(user=alice).values_list("pk", flat=True))
        )()

        marked = await database_sync_to_async(notifications_mark_read)(user_id=alice.pk, ids=ids[:1])

        assert marked == (1, 1)
        expected = {"type": "notifications.read", "ids": ids[:1], "all": False, "unread": 1}
        assert await phone.receive_json_from(timeout=3) == expected
        assert await laptop.receive_json_from(timeout=3) == expected

        await database_sync_to_async(notifications_mark_read)(user_id=alice.pk, everything=True)
        expected = {"type": "notifications.read", "ids": [], "all": True, "unread": 0}
        assert await phone.receive_json_from(timeout=3) == expected
        assert await laptop.receive_json_from(timeout=3) == expected
        # Nothing left to mark: no frame; and never to another user.
        await database_sync_to_async(notifications_mark_read)(user_id=alice.pk, everything=True)
        assert await phone.receive_nothing(timeout=0.3)
        assert await other.receive_nothing(timeout=0.3)
    finally:
        for socket in (phone, laptop, other):
            await socket.disconnect()
