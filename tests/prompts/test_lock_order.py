"""One lock order across users: two users acting on each other's templates at once never deadlock.

Real threads on PostgreSQL, started together at a barrier, many rounds: with two orders (owner
then actor in one service, actor then owner in another, or a template before a user in one and
after it in another) some round ends in DeadlockDetected.
"""

import threading

import pytest
from django.db import connection

from game.models import Activity
from llm import services as llm_services
from llm.models import LLMRun
from prompts import services
from prompts.models import Favorite, PromptTemplate, Rating
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, serving_test_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

ROUNDS = 12


def together(*functions) -> list:
    """Run the functions at the same moment, one thread (and connection) each; results or exceptions."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def call(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = functions[index]()
        except Exception as exc:  # collected for the test to assert on
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def failures(results: list) -> list[str]:
    return [f"{type(r).__name__}: {r}" for r in results if isinstance(r, Exception)]


def public_template(owner, title: str) -> PromptTemplate:
    return services.template_create(owner=owner, title=title, content="Say {{ x }}", visibility="public")


@pytest.fixture
def ada_and_bob(make_user):
    return make_user("ada"), make_user("bob")


def test_two_users_rating_each_others_templates_at_once(ada_and_bob):
    ada, bob = ada_and_bob
    errors = []
    for n in range(ROUNDS):
        adas, bobs = public_template(ada, f"a{n}"), public_template(bob, f"b{n}")

        results = together(
            lambda a=adas: services.template_rate(template=a, user=bob, score=4),
            lambda b=bobs: services.template_rate(template=b, user=ada, score=5),
        )
        errors += failures(results)

    assert errors == []
    assert Rating.objects.count() == 2 * ROUNDS
    assert Activity.objects.filter(activity="template.rated").count() == 2 * ROUNDS


def test_two_users_forking_each_others_templates_at_once(ada_and_bob):
    ada, bob = ada_and_bob
    errors = []
    for n in range(ROUNDS):
        adas, bobs = public_template(ada, f"a{n}"), public_template(bob, f"b{n}")

        results = together(
            lambda a=adas: services.template_fork(template=a, user=bob),
            lambda b=bobs: services.template_fork(template=b, user=ada),
        )
        errors += failures(results)

    assert errors == []
    assert PromptTemplate.objects.filter(forked_from__isnull=False).count() == 2 * ROUNDS
    assert Activity.objects.filter(activity="template.forked").count() == 2 * ROUNDS


def test_two_users_favouriting_each_others_templates_at_once(ada_and_bob):
    ada, bob = ada_and_bob
    errors = []
    for n in range(ROUNDS):
        adas, bobs = public_template(ada, f"a{n}"), public_template(bob, f"b{n}")

        results = together(
            lambda a=adas: services.template_favorite_add(template=a, user=bob),
            lambda b=bobs: services.template_favorite_add(template=b, user=ada),
        )
        errors += failures(results)

    assert errors == []
    assert Favorite.objects.count() == 2 * ROUNDS


def test_an_owner_publishing_while_someone_rates_the_template(ada_and_bob):
    ada, bob = ada_and_bob
    errors = []
    for n in range(ROUNDS):
        # Unlisted: a rater can reach it by link, and the owner's edit publishes it (an award to the owner).
        adas = services.template_create(owner=ada, title=f"a{n}", content="Say {{ x }}", visibility="unlisted")

        results = together(
            lambda a=adas: services.template_update(template=a, actor=ada, visibility="public"),
            lambda a=adas: services.template_rate(template=a, user=bob, score=3),
        )
        errors += failures(results)

    assert errors == []
    assert Activity.objects.filter(activity="template.published").count() == ROUNDS


def test_a_template_run_settling_while_its_runner_rates_the_template(ada_and_bob, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = ROUNDS
    ada, bob = ada_and_bob
    completed = llm_services.RunOutcome(
        status="completed", output="Hi", produced_tokens=1, input_tokens=5, output_tokens=1
    )
    errors = []
    with serving_test_model(ScriptedProvider()):
        for n in range(ROUNDS):
            adas = public_template(ada, f"a{n}")
            plan = llm_services.run_prepare(user=bob, model=TEST_MODEL, template_id=str(adas.pk), variables={"x": "hi"})
            run = llm_services.run_start(user_id=bob.pk, plan=plan)

            results = together(
                lambda r=run: llm_services.run_settle(run_id=r.pk, outcome=completed),
                lambda a=adas: services.template_rate(template=a, user=bob, score=2),
            )
            errors += failures(results)

    assert errors == []
    assert set(PromptTemplate.objects.values_list("usage_count", "rating_count")) == {(1, 1)}


def test_an_owner_deleting_a_template_while_a_run_of_it_settles(ada_and_bob, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = ROUNDS
    ada, bob = ada_and_bob
    completed = llm_services.RunOutcome(
        status="completed", output="Hi", produced_tokens=1, input_tokens=5, output_tokens=1
    )
    errors = []
    with serving_test_model(ScriptedProvider()):
        for n in range(ROUNDS):
            adas = public_template(ada, f"a{n}")
            plan = llm_services.run_prepare(user=bob, model=TEST_MODEL, template_id=str(adas.pk), variables={"x": "hi"})
            run = llm_services.run_start(user_id=bob.pk, plan=plan)

            results = together(
                lambda r=run: llm_services.run_settle(run_id=r.pk, outcome=completed),
                lambda a=adas: services.template_delete(template=a, actor=ada),
            )
            errors += failures(results)

    assert errors == []
    assert not PromptTemplate.objects.exists()
    assert set(LLMRun.objects.values_list("status", "template")) == {("completed", None)}


def test_an_owner_deleting_a_template_while_someone_forks_it(ada_and_bob):
    ada, bob = ada_and_bob
    errors = []
    for n in range(ROUNDS):
        adas = public_template(ada, f"a{n}")

        results = together(
            lambda a=adas: services.template_delete(template=a, actor=ada),  # reports template.deleted to ada
            lambda a=adas: services.template_fork(template=a, user=bob),  # awards ada
        )
        # A fork that comes second finds the template gone: a 404, not a deadlock.
        errors += [failure for failure in failures(results) if not failure.startswith("Http404")]

    assert errors == []
    assert not PromptTemplate.objects.filter(owner=ada).exists()
    assert Activity.objects.filter(activity="template.deleted").count() == ROUNDS
