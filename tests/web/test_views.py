"""The page shells and the widget's iframe URL."""

import uuid

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PAGES = [
    ("/", "web/js/pages/playground.js", "true"),
    ("/login/", "web/js/pages/login.js", "false"),
    ("/signup/", "web/js/pages/signup.js", "false"),
    ("/library/", "web/js/pages/library.js", "true"),
    ("/library/new/", "web/js/pages/template_edit.js", "true"),
    (f"/library/{uuid.UUID(int=1)}/", "web/js/pages/template_detail.js", "true"),
    (f"/library/{uuid.UUID(int=1)}/edit/", "web/js/pages/template_edit.js", "true"),
    ("/profile/", "web/js/pages/profile.js", "true"),
    ("/settings/", "web/js/pages/settings.js", "true"),
    ("/leaderboard/", "web/js/pages/leaderboard.js", "false"),
    ("/challenges/", "web/js/pages/challenges.js", "false"),
    ("/runs/", "web/js/pages/runs.js", "true"),
    (f"/runs/{uuid.UUID(int=1)}/", "web/js/pages/run_detail.js", "true"),
    ("/runs/compare/?a=1&b=2", "web/js/pages/run_compare.js", "true"),
    ("/notifications/", "web/js/pages/notifications.js", "true"),
]


@pytest.mark.parametrize(("path", "script", "login_required"), PAGES)
def test_every_page_shell_loads_its_module_and_sets_the_csrf_cookie(path, script, login_required):
    response = Client().get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<script type="module" src="/static/{script}"></script>' in html
    assert f'data-login-required="{login_required}"' in html
    assert "csrftoken" in response.cookies
    assert response["X-Frame-Options"] == "DENY"


def test_a_template_page_with_a_malformed_id_is_a_404():
    assert Client().get("/library/not-a-uuid/").status_code == 404
    assert Client().get("/runs/not-a-uuid/").status_code == 404


def test_the_header_links_the_runs_and_the_notifications():
    html = Client().get("/runs/").content.decode()

    assert '<a href="/runs/" aria-current="page">Runs</a>' in html
    assert 'href="/notifications/" data-bell' in html


@override_settings(WIDGET_ALLOWED_ORIGINS=["https://blog.example", "https://club.example"])
def test_the_widget_iframe_may_be_framed_by_the_allowed_origins_only():
    response = Client().get("/widgets/leaderboard/?board=monthly&size=5")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://blog.example https://club.example"
    html = response.content.decode()
    assert 'src="/static/widgets/leaderboard.js" data-board="monthly" data-size="5"' in html


@pytest.mark.parametrize(
    ("query", "board", "size"),
    [
        ("", "weekly", "10"),
        ("?board=all-time&size=100", "all-time", "100"),
        ("?board=yearly&size=x", "weekly", "10"),
        ("?size=0", "weekly", "1"),
        ("?size=5000", "weekly", "100"),
    ],
)
def test_the_widget_iframe_falls_back_to_defaults_for_bad_parameters(query, board, size):
    html = Client().get(f"/widgets/leaderboard/{query}").content.decode()

    assert f'data-board="{board}" data-size="{size}"' in html


def test_the_widget_script_is_served_as_a_classic_script():
    response = Client().get("/static/widgets/leaderboard.js")

    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"window.PromptCraftLeaderboard" in body
    assert b"export " not in body
