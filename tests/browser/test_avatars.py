"""Avatars in the browser: uploaded from the avatar settings section, then shown in the header, on the
profile and on the live leaderboard (also to a visitor already watching it); kept on the server's
filesystem (the default) or in a bucket of a real S3-compatible server (moto's server mode)."""

import io
import re
import uuid
from pathlib import Path

import boto3
import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from playwright.sync_api import expect

from tests.browser.support import in_thread, screenshot, sign_up
from tests.support.processes import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class FileStore:
    def __init__(self, root: Path):
        self.root = root

    def names(self) -> list[str]:
        return sorted(path.relative_to(self.root).as_posix() for path in self.root.rglob("*.webp"))

    def url_of(self, name: str) -> str:
        return f"/media/{name}"  # served by the app


class BucketStore:
    def __init__(self, endpoint: str, bucket: str):
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **{k.lower(): v for k, v in CREDENTIALS.items()}
        )
        self.bucket = bucket
        self.client.create_bucket(Bucket=bucket)

    def names(self) -> list[str]:
        return sorted(item["Key"] for item in self.client.list_objects_v2(Bucket=self.bucket).get("Contents", []))

    def url_of(self, name: str) -> str:
        return f"{self.client.meta.endpoint_url}/{self.bucket}/{name}"  # served by the store, unsigned


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def store(request, tmp_path):
    if request.param == "filesystem":
        return FileStore(tmp_path / "media")
    return BucketStore(request.getfixturevalue("s3_endpoint"), f"avatars-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def server_env(store) -> dict[str, str]:
    """The server keeps uploads in the store of the test: its filesystem, or the bucket."""
    if isinstance(store, FileStore):
        return {"MEDIA_ROOT": str(store.root), "AVATAR_STORAGE": "filesystem"}
    return {
        **CREDENTIALS,
        "AVATAR_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": store.bucket,
        "AWS_S3_ENDPOINT_URL": store.client.meta.endpoint_url,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_DEFAULT_ACL": "public-read",
    }


def _picture() -> bytes:
    image = Image.new("RGB", (320, 200), (255, 140, 0))
    image.paste((20, 20, 160), (110, 50, 210, 150))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _award(username: str, amount: int) -> None:
    from game.services import xp_award

    user = User.objects.get(username=username)
    in_thread(xp_award, user_id=user.pk, amount=amount, reason="test.seed", idempotency_key=f"seed-{username}")


@pytest.mark.parametrize("store", ["filesystem", "s3"], indirect=True)
def test_an_uploaded_avatar_shows_in_the_header_profile_and_live_leaderboard(new_context, server, store):
    # given a player with XP and a learner on the weekly board, and a visitor watching the board
    User.objects.create_user(username="yan", email="yan@example.com", password="x-Str0ng-pass!")
    _award("yan", 3)
    page = new_context().new_page()
    sign_up(page, "zoe")
    _award("zoe", 9)
    viewer = new_context().new_page()
    viewer.goto("/leaderboard/")
    board = viewer.locator("[data-live-board]")
    expect(board.locator("li[data-username] .name")).to_have_text(["zoe", "yan"])
    expect(board.locator('li[data-username="zoe"] [data-avatar="initials"]')).to_have_attribute("data-initials", "ZO")
    header_avatar = page.locator("[data-player-avatar] .avatar")
    expect(header_avatar).to_have_attribute("data-avatar", "initials")

    # when the learner picks a file that is not a picture in the avatar section of their settings
    page.goto("/settings/")
    section = page.locator("[data-avatar-settings][data-avatar-ready='true']")
    expect(section).to_be_visible()
    field = section.get_by_label("Avatar", exact=True)
    field.set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"just some text\n" * 10})
    section.get_by_role("button", name="Upload avatar").click()

    # then it is refused next to the field, and nothing changes
    expect(section.locator("[data-error-for='avatar']")).to_have_text("Upload a PNG, JPEG, WebP or GIF image.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(header_avatar).to_have_attribute("data-avatar", "initials")

    # when they pick a real picture: a preview first, then the upload
    field.set_input_files({"name": "me.jpg", "mimeType": "image/jpeg", "buffer": _picture()})
    expect(section.locator("[data-avatar-preview] img")).to_have_attribute("src", re.compile(r"^blob:"))
    section.get_by_role("button", name="Upload avatar").click()
    expect(section.locator("[data-avatar-status]")).to_have_text("Avatar updated.")

    # then the header, the profile and the section show the stored picture, loaded at 256 x 256
    [name] = store.names()
    assert name == User.objects.get(username="zoe").avatar.name
    assert name.startswith("avatars/") and name.endswith(".webp")
    url = store.url_of(name)
    public_url = f"{server.http_url}{url}" if isinstance(store, FileStore) else url  # as the widget resolves it
    for where in (header_avatar, section.locator("[data-avatar-preview] img")):
        expect(where).to_have_attribute("src", url)
    expect(header_avatar).to_have_js_property("naturalWidth", 256)
    screenshot(page, f"avatar-settings-{type(store).__name__.lower()}")
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("[data-p-avatar] img")).to_have_attribute("src", url)
    screenshot(page, f"avatar-profile-{type(store).__name__.lower()}")

    # and the visitor's live board shows it without a reload, the other player keeping their initials
    zoe_row = board.locator('li[data-username="zoe"]')
    expect(zoe_row.locator("img.avatar")).to_have_attribute("src", public_url)
    expect(zoe_row.locator("img.avatar")).to_have_js_property("naturalWidth", 256)
    expect(board.locator('li[data-username="yan"] [data-avatar="initials"]')).to_have_attribute("data-initials", "YA")
    screenshot(viewer, f"avatar-leaderboard-{type(store).__name__.lower()}")

    # when the learner opens the leaderboard themselves, their row there has it too
    page.get_by_role("link", name="Leaderboard").click()
    expect(page.locator("body[data-leaderboard-ready='true']")).to_be_attached()
    expect(page.locator("[data-around] li.me img.avatar")).to_have_attribute("src", url)
    expect(page.locator("[data-player-avatar] img")).to_have_attribute("src", url)

    # when they remove it in their settings, the header is back to their initials and the file is gone
    page.goto("/settings/")
    section.get_by_role("button", name="Remove avatar").click()
    expect(section.locator("[data-avatar-status]")).to_contain_text("Avatar removed")
    expect(page.locator("[data-player-avatar] .avatar")).to_have_attribute("data-avatar", "initials")
    expect(zoe_row.locator("[data-avatar='initials']")).to_have_attribute("data-initials", "ZO")
    assert not User.objects.get(username="zoe").avatar
    assert store.names() == []
