"""After logging in, `?next=` is followed only to a page of this site, however it is spelled."""

import pytest

from tests.browser.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# evil.test resolves to the loopback interface in these browsers (conftest), where nothing serves it.
OFF_SITE = ["/%5Cevil.test", "%5C%5Cevil.test", "//evil.test", "/%5C/evil.test", "https://evil.test/"]


def test_an_off_site_next_is_never_followed(page, server, make_user):
    make_user("ada")
    home = f"{server.http_url}/"

    # when a visitor logs in from a link whose next leaves the site, they land on the playground
    log_in(page, "ada", next_path=OFF_SITE[0])
    page.wait_for_url(home)

    # and a logged-in visitor sent to the login page with any such next goes home too
    for target in OFF_SITE[1:]:
        page.goto(f"/login/?next={target}")
        page.wait_for_url(home)

    # while a next on this site is followed
    page.goto("/login/?next=%2Fprofile%2F%3Ftab%3Dbadges")
    page.wait_for_url(f"{server.http_url}/profile/?tab=badges")
