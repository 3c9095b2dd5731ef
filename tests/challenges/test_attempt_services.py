"""The attempt services on PostgreSQL: concurrent reservations, one settlement, stale attempts."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from challenges import attempts
from challenges.models import Attempt, AttemptSample
from game.models import CreditEntry
from llm.models import RunBatch
from tests.challenges.support import PROMPT, make_challenge
from tests.game.conftest import run_in_threads
from tests.llm.runs_support import set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

User = get_user_model()
RESERVE = 34 + 33 + 33  # the three cases' runs (see test_attempts_api)


def credits_of(user) -> int:
    return User.objects.values_list("credits", flat=True).get(pk=user.pk)


def test_concurrent_attempts_never_overdraw(user, provider):
    challenge = make_challenge(user)
    set_credits(user, 2 * RESERVE + 5)

    results = run_in_threads(
        lambda i: attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT).attempt, 8
    )

    assert not [r for r in results if isinstance(r, BaseException)]
    statuses = sorted(attempt.status for attempt in results)
    assert statuses == ["failed"] * 6 + ["running"] * 2
    assert {a.error_code for a in results if a.status == "failed"} == {"insufficient_credits"}
    assert credits_of(user) == 5
    assert CreditEntry.objects.filter(reason="attempt.reserve").count() == 2


def test_parallel_attempts_take_exactly_the_free_run_slots(user, provider, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 2
    challenge = make_challenge(user)
    set_credits(user, 10 * RESERVE)

    def start(_: int) -> str:
        try:
            return attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT).attempt.status
        except attempts.AttemptRefused as exc:
            return f"{exc.status} {exc.code}"

    outcomes = run_in_threads(start, 8)

    assert sorted(outcomes) == ["429 concurrency_limit"] * 6 + ["running"] * 2
    assert Attempt.objects.count() == RunBatch.objects.count() == 2
    assert credits_of(user) == 8 * RESERVE


def test_an_attempt_the_balance_cannot_cover_holds_no_run_slot(user, provider, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    challenge = make_challenge(user)
    set_credits(user, RESERVE - 1)

    refused = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT).attempt
    set_credits(user, RESERVE)
    started = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT).attempt

    assert (refused.status, refused.error_code, started.status) == ("failed", "insufficient_credits", "running")
    assert list(RunBatch.objects.values_list("pk", flat=True)) == [started.pk]


def test_an_attempts_case_runs_start_together_in_a_fixed_number_of_statements(user, provider):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    challenge = make_challenge(user)
    one = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT)
    every = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT)

    with CaptureQueriesContext(connection) as single:
        attempts.attempt_runs_start(attempt_id=one.attempt.pk, user_id=user.pk, jobs=list(one.jobs[:1]))
    with CaptureQueriesContext(connection) as together:
        runs = attempts.attempt_runs_start(attempt_id=every.attempt.pk, user_id=user.pk, jobs=list(every.jobs))

    assert len(together.captured_queries) == len(single.captured_queries)
    samples = AttemptSample.objects.filter(attempt=every.attempt).order_by("case_id")
    assert [(sample.case_id, sample.run_id) for sample in samples] == [
        (job.case_id, run.pk) for job, run in zip(every.jobs, runs, strict=True)
    ]
    assert [run.sealed for run in runs] == [False, False, True]  # c3 is hidden


def test_an_attempt_settles_once(user, provider):
    challenge = make_challenge(user)
    started = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT)
    attempt_id = started.attempt.pk
    graded = [attempts.GradedSample(job.case_id, job.sample, True, "ok", []) for job in started.jobs]
    for job in started.jobs:
        attempts.attempt_run_start(attempt_id=attempt_id, user_id=user.pk, job=job)

    first = attempts.attempt_settle(attempt_id=attempt_id, graded=graded, status="completed")
    second = attempts.attempt_settle(attempt_id=attempt_id, graded=[], status="failed", error_code="interrupted")

    assert (first.status, first.passed, first.score) == ("completed", True, 1000)
    assert (second.status, second.score, second.finished_at) == ("completed", 1000, first.finished_at)
    assert CreditEntry.objects.filter(reason="attempt.refund").count() == 1
    with pytest.raises(attempts.AttemptEnded):
        attempts.attempt_run_start(attempt_id=attempt_id, user_id=user.pk, job=started.jobs[0])
    assert not RunBatch.objects.exists()


def test_an_attempt_that_lost_its_process_is_settled_and_refunded(user, provider, settings):
    settings.CHALLENGES_ATTEMPT_MAX_SECONDS = 60
    challenge = make_challenge(user)
    before = credits_of(user)
    started = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT)
    Attempt.objects.filter(pk=started.attempt.pk).update(created_at=timezone.now() - timezone.timedelta(seconds=61))

    assert attempts.attempts_fail_stale() == 1
    assert attempts.attempts_fail_stale() == 0
    assert not RunBatch.objects.exists()  # its run slot is free again

    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.error_code, attempt.cost_credits) == ("failed", "interrupted", 0)
    assert credits_of(user) == before


def test_racing_settlements_refund_once(user, provider):
    challenge = make_challenge(user)
    started = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT)
    attempt_id = started.attempt.pk
    before = credits_of(user)

    results = run_in_threads(
        lambda i: attempts.attempt_settle(
            attempt_id=attempt_id, graded=[], status="failed", error_code="interrupted", error_message=f"racer {i}"
        ),
        6,
    )

    assert not [r for r in results if isinstance(r, BaseException)]
    assert len({r.error_message for r in results}) == 1  # every racer answers with the one settlement
    assert CreditEntry.objects.filter(reason="attempt.refund").count() == 1
    assert credits_of(user) == before + RESERVE
