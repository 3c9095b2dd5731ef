import pytest

from prompts.models import Favorite, Rating, TemplateVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_every_prompts_admin_page_opens(admin_client, user, bob, make_template, category):
    from prompts import services

    template = make_template(user, category=category, tags=["few-shot"])
    services.template_rate(template=template, user=bob, score=4)
    services.template_favorite_add(template=template, user=bob)
    pages = [
        "/admin/prompts/category/",
        f"/admin/prompts/category/{category.pk}/change/",
        "/admin/prompts/tag/",
        "/admin/prompts/prompttemplate/",
        "/admin/prompts/prompttemplate/?q=summarise",
        f"/admin/prompts/prompttemplate/{template.pk}/change/",
        "/admin/prompts/templateversion/",
        f"/admin/prompts/templateversion/{TemplateVersion.objects.get().pk}/change/",
        "/admin/prompts/rating/",
        f"/admin/prompts/rating/{Rating.objects.get().pk}/change/",
        "/admin/prompts/favorite/",
        f"/admin/prompts/favorite/{Favorite.objects.get().pk}/change/",
    ]

    statuses = [admin_client.get(page).status_code for page in pages]

    assert statuses == [200] * len(pages)


def test_admin_moderates_visibility_but_cannot_rewrite_content(admin_client, user, make_template):
    template = make_template(user)
    url = f"/admin/prompts/prompttemplate/{template.pk}/change/"
    form = {
        "owner": str(user.pk),
        "description": "Moderated",
        "difficulty": "beginner",
        "visibility": "private",
        "content": "Rewritten {{ x }}",
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "1",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
        "versions-0-id": str(TemplateVersion.objects.get().pk),
        "versions-0-template": str(template.pk),
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.visibility, template.description, template.content) == (
        "private",
        "Moderated",
        "Summarise {{ text }} for {{ audience }}.",
    )
    assert admin_client.get("/admin/prompts/rating/add/").status_code == 403
