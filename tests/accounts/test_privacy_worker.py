"""The erasure of a deleted account in a real Celery worker, queued as the deletion commits."""

import time

import pytest
from celery import current_app
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.privacy import ACCOUNT_ERASE_TASK
from prompts.models import PromptTemplate, Visibility
from prompts.services import template_create
from tests.support import processes

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def _wait_for(predicate, log_path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, log_path.read_text(errors="replace")
        time.sleep(0.2)


def _erasures_done(log_path) -> int:
    lines = log_path.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if f"{ACCOUNT_ERASE_TASK}[" in line and "succeeded" in line)


def test_the_worker_erases_a_deleted_account_once_and_a_second_delivery_changes_nothing(make_user, tmp_path):
    alice = make_user("alice")
    template_create(owner=alice, title="Private notes", content="Notes {{x}}")
    template_create(owner=alice, title="Shared", content="Share {{x}}", visibility=Visibility.PUBLIC)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(alice).access_token}")
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    log_path = tmp_path / "celery-worker.log"
    try:
        with processes.celery_worker(tmp_path):
            response = client.delete("/api/v1/auth/me/", {"password": "Str0ng-pass-phrase!"}, format="json")
            assert response.status_code == 204
            alice.refresh_from_db()
            assert not alice.is_active  # at once, before the worker

            _wait_for(lambda: User.objects.get(pk=alice.pk).username.startswith("deleted-"), log_path)
            assert PromptTemplate.objects.filter(owner_id=alice.pk).count() == 0
            erased = User.objects.get(pk=alice.pk)

            current_app.signature(ACCOUNT_ERASE_TASK, kwargs={"user_id": str(alice.pk)}).delay()
            _wait_for(lambda: _erasures_done(log_path) == 2, log_path)
    finally:
        current_app.conf.task_always_eager = eager
    again = User.objects.get(pk=alice.pk)
    assert (again.username, again.email, again.first_name) == (erased.username, erased.email, "")
    assert User.objects.filter(username="deleted-user").count() == 1  # one heir, however many deliveries
    assert list(PromptTemplate.objects.filter(owner__username="deleted-user").values_list("title", flat=True)) == [
        "Shared"
    ]
