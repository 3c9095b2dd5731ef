import pytest
from django.db import connection

from prompts import selectors
from prompts.models import PromptTemplate

pytestmark = pytest.mark.django_db


def test_search_uses_the_gin_index_on_postgresql(user, make_template):
    make_template(user, title="JSON extractor")
    queryset = selectors.template_search(PromptTemplate.objects.all(), text="json extractor")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

        plan = queryset.explain()

    assert "prompts_tpl_search_gin_idx" in plan


def test_substring_fallback_search_matches_title_description_and_content(user, make_template, monkeypatch):
    make_template(user, title="Structured JSON", content="a {{ x }}")
    make_template(user, title="Other", description="returns json", content="b {{ x }}")
    make_template(user, title="Third", content="Reply in JSON: {{ x }}")
    make_template(user, title="Unrelated", content="c {{ x }}")
    monkeypatch.setattr(selectors, "uses_postgres_search", lambda: False)

    found = selectors.template_search(PromptTemplate.objects.order_by("created_at"), text="Json")

    assert [t.title for t in found] == ["Structured JSON", "Other", "Third"]


def test_template_list_never_shows_others_private_or_unlisted_templates(user, bob, make_template):
    make_template(user, title="mine private", visibility="private")
    make_template(bob, title="bob unlisted", visibility="unlisted")
    make_template(bob, title="bob public")

    assert [t.title for t in selectors.template_list(user=user)] == ["bob public", "mine private"]
