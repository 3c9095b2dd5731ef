"""`?next=` on the sign-in pages: followed only to a path on this site, whatever its spelling."""

import html
import re

import pytest
from django.test import Client, RequestFactory

from web.redirects import next_path

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "http://evil.example",
    "https:evil.example",
    "/%09/evil.example",
    "javascript:alert(1)",
    "http://testserver@evil.example/",
]


def data_next(path: str) -> str:
    body = Client().get(path).content.decode()
    return html.unescape(re.search(r'data-next="([^"]*)"', body).group(1))


@pytest.mark.parametrize("page", ["/login/", "/signup/"])
@pytest.mark.parametrize("target", OFF_SITE)
def test_a_next_that_leaves_the_site_sends_the_visitor_home(page, target):
    assert data_next(f"{page}?next={target}") == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("%2Flibrary%2F%3Fsearch%3Djson%26tag%3Dx", "/library/?search=json&tag=x"),
        ("/profile/#badges", "/profile/"),  # a fragment never reaches the server
        ("/profile/%23badges", "/profile/#badges"),
        ("http://testserver/leaderboard/", "/leaderboard/"),
        ("", "/"),
    ],
)
def test_a_next_on_this_site_is_kept_as_a_path(target, expected):
    assert data_next(f"/login/?next={target}") == expected


def test_behind_tls_a_plain_http_next_to_this_host_is_refused():
    request = RequestFactory().get("/login/", {"next": "http://testserver/profile/"}, secure=True)

    assert next_path(request) == "/"
