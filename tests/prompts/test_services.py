"""Services under concurrency (real threads against PostgreSQL) and the hooks other apps call."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.http import Http404

from game.models import Activity
from prompts import selectors, services
from prompts.models import Favorite, PromptTemplate, Rating, TemplateVersion


def run_together(functions) -> list:
    """Start every function at the same moment, each in its own thread with its own connection."""
    barrier = threading.Barrier(len(functions))

    def call(function):
        try:
            barrier.wait(timeout=30)
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(functions)) as pool:
        return list(pool.map(call, functions))


@pytest.mark.django_db(transaction=True)
def test_concurrent_ratings_by_different_users_leave_exact_counters(make_user, client_for, make_template):
    owner = make_user("owner")
    template = make_template(owner)
    scores = [1, 2, 3, 4, 5, 5, 4, 3]
    clients = [client_for(make_user(f"rater{i}")) for i in range(len(scores))]
    url = f"/api/v1/templates/{template.pk}/rate/"

    statuses = run_together(
        [
            lambda c=c, s=s: c.post(url, {"score": s}, format="json").status_code
            for c, s in zip(clients, scores, strict=True)
        ]
    )

    assert statuses == [200] * len(scores)
    template.refresh_from_db()
    assert (template.rating_count, template.rating_sum, str(template.rating_avg)) == (8, 27, "3.38")
    assert Rating.objects.filter(template=template).count() == 8
    assert Activity.objects.filter(user=owner, activity="template.rated").count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_re_ratings_by_one_user_keep_one_rating_and_a_matching_sum(make_user, client_for, make_template):
    owner, rater = make_user("owner"), make_user("rater")
    template = make_template(owner)
    client = client_for(rater)
    url = f"/api/v1/templates/{template.pk}/rate/"

    statuses = run_together(
        [lambda s=s: client.post(url, {"score": s}, format="json").status_code for s in (1, 5, 2, 4)]
    )

    assert statuses == [200] * 4
    template.refresh_from_db()
    rating = Rating.objects.get(template=template)
    assert (template.rating_count, template.rating_sum) == (1, rating.score)
    assert template.rating_avg == rating.score
    assert Activity.objects.filter(user=rater, activity="rating.given").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_favourites_leave_exact_counters(make_user, client_for, make_template):
    owner = make_user("owner")
    template = make_template(owner)
    clients = [client_for(make_user(f"fan{i}")) for i in range(8)]
    url = f"/api/v1/templates/{template.pk}/favorite/"

    added = run_together([lambda c=c: c.post(url).status_code for c in clients])
    template.refresh_from_db()
    count_after_adding = template.favorites_count
    removed = run_together([lambda c=c: c.delete(url).status_code for c in clients[:5]])

    assert added == [201] * 8
    assert count_after_adding == 8
    assert removed == [204] * 5
    template.refresh_from_db()
    assert template.favorites_count == 3 == Favorite.objects.filter(template=template).count()
    assert Activity.objects.filter(user=owner, activity="favorite.received").count() == 8


@pytest.mark.django_db(transaction=True)
def test_one_user_favouriting_many_times_at_once_counts_once(make_user, client_for, make_template):
    owner, fan = make_user("owner"), make_user("fan")
    template = make_template(owner)
    client = client_for(fan)
    url = f"/api/v1/templates/{template.pk}/favorite/"

    statuses = run_together([lambda: client.post(url).status_code for _ in range(6)])
    deletes = run_together([lambda: client.delete(url).status_code for _ in range(6)])

    assert sorted(statuses) == [200] * 5 + [201]
    assert deletes == [204] * 6
    template.refresh_from_db()
    assert template.favorites_count == 0
    assert Favorite.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_each_get_their_own_version_number(make_user, make_template):
    owner = make_user("owner")
    template = make_template(owner)

    run_together(
        [
            lambda i=i: services.template_update(template=template, actor=owner, content=f"Edit {i}: {{{{ text }}}}")
            for i in range(5)
        ]
    )

    template.refresh_from_db()
    numbers = list(TemplateVersion.objects.filter(template=template).values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert template.version == 6
    assert template.content == TemplateVersion.objects.get(template=template, number=6).content


@pytest.mark.django_db(transaction=True)
def test_record_use_counts_every_concurrent_run(make_user, make_template):
    owner, runner = make_user("owner"), make_user("runner")
    template = make_template(owner)

    run_together([lambda: services.template_record_use(template_id=template.pk, user_id=runner.pk) for _ in range(10)])

    template.refresh_from_db()
    assert template.usage_count == 10


@pytest.mark.django_db
def test_record_use_does_not_touch_updated_at(make_user, make_template):
    template = make_template(make_user("owner"))
    before = PromptTemplate.objects.get(pk=template.pk).updated_at

    services.template_record_use(template_id=template.pk, user_id=template.owner_id)

    after = PromptTemplate.objects.get(pk=template.pk)
    assert (after.usage_count, after.updated_at) == (1, before)


@pytest.mark.django_db
def test_render_selector_is_what_runs_use(make_user, make_template):
    owner, other = make_user("owner"), make_user("other")
    template = make_template(owner, visibility="private")

    visible = selectors.template_get_visible(template_id=str(template.pk), user=owner)
    prompt = selectors.template_render(template=visible, values={"text": "a log", "audience": "ops"})

    assert prompt == "Summarise a log for ops."
    with pytest.raises(Http404):
        selectors.template_get_visible(template_id=template.pk, user=other)


@pytest.mark.django_db
def test_rating_favouriting_or_forking_a_template_deleted_meanwhile_is_a_404(make_user, make_template):
    owner, fan = make_user("owner"), make_user("fan")
    template = make_template(owner)
    PromptTemplate.objects.filter(pk=template.pk).delete()

    with pytest.raises(Http404):
        services.template_rate(template=template, user=fan, score=4)
    with pytest.raises(Http404):
        services.template_favorite_add(template=template, user=fan)
    with pytest.raises(Http404):
        services.template_fork(template=template, user=fan)

    assert (Rating.objects.count(), Favorite.objects.count(), PromptTemplate.objects.count()) == (0, 0, 0)


@pytest.mark.django_db
def test_saved_versions_cannot_be_changed(make_user, make_template):
    version = make_template(make_user("owner")).versions.get()
    version.content = "rewritten history"

    with pytest.raises(ValueError) as excinfo:
        version.save()

    assert str(excinfo.value) == "Template versions are immutable; save a new version instead."
    assert TemplateVersion.objects.get(pk=version.pk).content == "Summarise {{ text }} for {{ audience }}."
