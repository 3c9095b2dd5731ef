"""Avatars over REST: stored on a real S3-compatible server (moto's server mode) or the filesystem.

Uploads go through the API as multipart bodies; what lands in the bucket is read back with boto3
and decoded with Pillow, so the checks are on the stored picture itself.
"""

import io
import random
import struct
import urllib.request
import uuid
import zlib

import boto3
import pytest
import redis
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import avatar_images
from config.storage import FILESYSTEM_BACKEND, S3_BACKEND, media_storage_from_env
from game.leaderboards.boards import AVATARS_KEY
from game.services import leaderboards_rebuild, xp_award
from tests.support.processes import free_port

URL = "/api/v1/auth/me/avatar/"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
RED, BLUE = (220, 30, 30), (30, 30, 220)
NOT_A_FILE = "The submitted data was not a file. Check the encoding type on the form."

pytestmark = pytest.mark.django_db


# --- pictures ---------------------------------------------------------------------------------


def png(size=(64, 48), color=RED, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_turned_on_its_side() -> bytes:
    """A wide JPEG (red left half, blue right half) whose EXIF says: turn 90° clockwise to show it.

    Shown upright it is tall, red above blue. It carries a camera make and GPS coordinates too.
    """
    image = Image.new("RGB", (400, 200), BLUE)
    image.paste(RED, (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height black pixels: a few KB that decode to width*height bytes or more."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes per pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def upload(data: bytes, name: str = "me.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def near(pixel, color, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))


# --- an S3-compatible server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 in server mode on a free loopback port: real HTTP, real boto3 signing."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket, and the default storage switched to it the way production's environment does."""
    name = f"avatars-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_lower(S3_CREDENTIALS))
    client.create_bucket(Bucket=name)
    for key, value in {
        **S3_CREDENTIALS,
        "AVATAR_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_DEFAULT_ACL": "public-read",  # or a bucket policy: anyone may read the pictures
    }.items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = {**settings.STORAGES, "default": media_storage_from_env()}
    return Bucket(client, name)


def _lower(credentials: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in credentials.items()}


class Bucket:
    def __init__(self, client, name: str):
        self.client, self.name = client, name

    def keys(self) -> list[str]:
        return [item["Key"] for item in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def get(self, key: str) -> dict:
        return self.client.get_object(Bucket=self.name, Key=key)

    def image(self, key: str) -> Image.Image:
        image = Image.open(io.BytesIO(self.get(key)["Body"].read()))
        image.load()
        return image


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the after-commit work (old file deletion, leaderboard refresh) of the requests in the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def put(client, data: bytes, **kwargs):
    return client.put(URL, {"avatar": upload(data, **kwargs)}, format="multipart")


# --- S3 ---------------------------------------------------------------------------------------


def test_a_jpeg_is_turned_upright_cropped_square_and_stored_as_webp_without_its_metadata(
    auth_client, user, bucket, on_commit
):
    with on_commit():
        response = put(auth_client, jpeg_turned_on_its_side(), name="holiday.jpg", content_type="image/jpeg")

    assert response.status_code == 200, response.content
    [key] = bucket.keys()
    assert key.startswith(f"avatars/{user.pk}/") and key.endswith(".webp")
    assert response.json() == {"avatar_url": f"{bucket.client.meta.endpoint_url}/{bucket.name}/{key}"}
    stored = bucket.get(key)
    assert stored["ContentType"] == "image/webp"
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    picture = bucket.image(key)
    assert (picture.format, picture.size, picture.mode) == ("WEBP", (256, 256), "RGB")
    # Upright: the stored left half (red) is now on top; unturned, red would be on the left.
    assert near(picture.getpixel((128, 20)), RED) and near(picture.getpixel((128, 235)), BLUE)
    assert not picture.getexif()
    assert not {"exif", "icc_profile", "xmp"} & set(picture.info)
    # The URL answers anyone (no signature), and the profile shows it.
    with urllib.request.urlopen(response.json()["avatar_url"], timeout=5) as public:
        assert public.read() == bucket.get(key)["Body"].read()
    assert auth_client.get("/api/v1/auth/me/").json()["avatar_url"] == response.json()["avatar_url"]


def test_png_webp_and_the_first_frame_of_a_gif_are_taken_transparency_kept(auth_client, bucket):
    transparent = png(size=(300, 100), color=(0, 200, 0, 0), mode="RGBA")
    webp = io.BytesIO()
    Image.new("RGB", (50, 80), BLUE).save(webp, "WEBP")
    gif = io.BytesIO()
    frames = [Image.new("P", (40, 40), index) for index in (1, 2)]
    frames[0].putpalette([0, 0, 0, *RED, *BLUE] + [0] * (256 * 3 - 9))
    frames[1].putpalette([0, 0, 0, *RED, *BLUE] + [0] * (256 * 3 - 9))
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100)

    answers = [put(auth_client, data) for data in (transparent, webp.getvalue(), gif.getvalue())]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    urls = [answer.json()["avatar_url"] for answer in answers]
    first, second, third = (bucket.image(url.split(f"/{bucket.name}/", 1)[1]) for url in urls)
    assert first.mode == "RGBA" and first.getpixel((128, 128))[3] == 0
    assert second.size == (256, 256) and near(second.getpixel((128, 128)), BLUE)
    assert near(third.getpixel((128, 128)), RED)  # frame 1 is red, frame 2 blue


def test_a_text_file_named_png_is_refused_whatever_its_name_and_type_say(auth_client, user, bucket):
    response = put(auth_client, b"not a picture at all\n" * 20, name="avatar.png", content_type="image/png")

    assert response.status_code == 400
    assert response.json() == {"avatar": [avatar_images.NOT_AN_IMAGE]}
    assert bucket.keys() == []
    user.refresh_from_db()
    assert user.avatar == ""


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"BM" + b"\x00" * 64,  # BMP: a real format, not one of the four
    ],
    ids=["svg", "pdf", "bmp"],
)
def test_other_formats_are_refused(auth_client, bucket, data):
    response = put(auth_client, data)

    assert response.status_code == 400
    assert response.json() == {"avatar": [avatar_images.NOT_AN_IMAGE]}
    assert bucket.keys() == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, at 10000²: refused anyway
@pytest.mark.parametrize(
    "side", [5000, 10_000, 20_000], ids=["above-our-limit", "pillows-warning", "above-pillows-limit"]
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(auth_client, bucket, side):
    bomb = png_bomb(side, side)
    assert len(bomb) < 100_000  # a few KB on the wire, side * side pixels once decoded

    response = put(auth_client, bomb)

    assert response.status_code == 400
    assert response.json() == {"avatar": [avatar_images.too_many_pixels(django_settings.AVATAR_MAX_PIXELS)]}
    assert bucket.keys() == []


def test_a_file_over_the_size_limit_is_refused(auth_client, bucket, settings):
    settings.AVATAR_MAX_BYTES = 64 * 1024
    big = noise_png(200)  # a valid picture, ~120 KB
    assert len(big) > settings.AVATAR_MAX_BYTES

    response = put(auth_client, big)

    assert response.status_code == 400
    assert response.json() == {"avatar": ["This file is too large (at most 64 KiB)."]}
    assert bucket.keys() == []


def test_a_damaged_image_is_refused(auth_client, bucket):
    whole = noise_png(64)

    response = put(auth_client, whole[: len(whole) // 2])

    assert response.status_code == 400
    assert response.json() == {"avatar": [avatar_images.UNREADABLE]}


@pytest.mark.parametrize(
    ("body", "format_", "expected"),
    [
        ({}, "multipart", {"avatar": ["No file was submitted."]}),
        ({"avatar": "not a file"}, "multipart", {"avatar": [NOT_A_FILE]}),
        ({"avatar": upload(b"")}, "multipart", {"avatar": ["The submitted file is empty."]}),
    ],
    ids=["missing", "a-string", "empty"],
)
def test_a_missing_or_empty_file_is_a_field_error(auth_client, bucket, body, format_, expected):
    response = auth_client.put(URL, body, format=format_)

    assert response.status_code == 400
    assert response.json() == expected


def test_only_multipart_bodies_are_taken_and_only_signed_in(auth_client, api_client, bucket):
    assert auth_client.put(URL, {"avatar": "x"}, format="json").status_code == 415
    assert api_client.put(URL, {"avatar": upload(png())}, format="multipart").status_code == 401
    assert api_client.delete(URL).status_code == 401
    assert bucket.keys() == []


def test_replacing_deletes_the_old_object_and_removing_deletes_the_last(auth_client, user, bucket, on_commit):
    with on_commit():
        first = put(auth_client, png(color=RED)).json()["avatar_url"]
    [first_key] = bucket.keys()

    with on_commit():
        second = put(auth_client, png(color=BLUE)).json()["avatar_url"]

    [second_key] = bucket.keys()
    assert second_key != first_key and second != first
    assert second.endswith(second_key)

    with on_commit():
        removed = auth_client.delete(URL)

    assert removed.status_code == 204
    assert bucket.keys() == []
    assert auth_client.get("/api/v1/auth/me/").json()["avatar_url"] is None
    with on_commit():
        assert auth_client.delete(URL).status_code == 204  # nothing to remove: the same answer


def test_a_refused_upload_keeps_the_current_avatar(auth_client, user, bucket, on_commit):
    with on_commit():
        url = put(auth_client, png()).json()["avatar_url"]

    assert put(auth_client, png_bomb(5000, 5000)).status_code == 400

    assert auth_client.get("/api/v1/auth/me/").json()["avatar_url"] == url
    assert len(bucket.keys()) == 1


def test_only_the_avatar_field_is_read_and_other_files_are_dropped(auth_client, bucket):
    response = auth_client.put(
        URL,
        {"other": upload(png(color=BLUE), name="other.png"), "avatar": upload(png(color=RED))},
        format="multipart",
    )

    assert response.status_code == 200
    [key] = bucket.keys()
    assert near(bucket.image(key).getpixel((10, 10)), RED)


def test_a_storage_that_cannot_be_reached_is_a_503_not_a_500(auth_client, user, settings, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for key, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {"bucket_name": "gone", "endpoint_url": f"http://127.0.0.1:{free_port()}"},
        },
    }

    response = put(auth_client, png())

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    user.refresh_from_db()
    assert user.avatar == ""


def test_uploads_are_throttled_per_user(auth_client, bucket, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "avatar_uploads": "2/hour"},
    }

    answers = [put(auth_client, png()).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


# --- leaderboards -----------------------------------------------------------------------------


def test_leaderboards_show_the_avatar_from_redis_and_from_sql(auth_client, user, make_user, bucket, on_commit):
    other = make_user("bob")
    xp_award(user_id=user.pk, amount=50, reason="test", idempotency_key="a")
    xp_award(user_id=other.pk, amount=10, reason="test", idempotency_key="b")
    leaderboards_rebuild()  # the board is ready in Redis

    with on_commit():
        url = put(auth_client, png()).json()["avatar_url"]

    board = auth_client.get("/api/v1/game/leaderboard/", {"board": "all-time"}).json()
    assert [entry["user"] for entry in board["results"]] == [
        {"id": str(user.pk), "username": "alice", "avatar_url": url},
        {"id": str(other.pk), "username": "bob", "avatar_url": None},
    ]
    cache = redis.Redis.from_url(django_settings.LEADERBOARD_REDIS_URL, decode_responses=True)
    assert cache.hgetall(AVATARS_KEY) == {str(user.pk): url}

    cache.flushdb()  # Redis lost the boards: the same users come from SQL
    from_sql = auth_client.get("/api/v1/game/leaderboard/", {"board": "all-time"}).json()["results"]
    assert [entry["user"] for entry in from_sql] == [entry["user"] for entry in board["results"]]

    leaderboards_rebuild()
    assert cache.hgetall(AVATARS_KEY) == {str(user.pk): url}
    with on_commit():
        auth_client.delete(URL)
    assert cache.hgetall(AVATARS_KEY) == {}
    assert auth_client.get("/api/v1/game/leaderboard/", {"board": "all-time"}).json()["results"][0]["user"] == {
        "id": str(user.pk),
        "username": "alice",
        "avatar_url": None,
    }


# --- the filesystem (the default) -------------------------------------------------------------


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": FILESYSTEM_BACKEND}}
    return tmp_path


def test_on_the_filesystem_the_app_serves_the_picture_and_replacing_deletes_the_old_file(
    auth_client, user, media_root, client, on_commit
):
    with on_commit():
        first = put(auth_client, png(color=RED)).json()["avatar_url"]
    with on_commit():
        second = put(auth_client, png(color=BLUE)).json()["avatar_url"]

    assert second.startswith(f"/media/avatars/{user.pk}/") and second.endswith(".webp")
    assert [path.relative_to(media_root).as_posix() for path in media_root.rglob("*.webp")] == [
        second.removeprefix("/media/")
    ]
    served = client.get(second)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/webp"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).size == (256, 256)
    assert client.get(first).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/media/%2e%2e/outside.webp", "/media/avatars/%2e%2e/%2e%2e/outside.webp", "/media/avatars/", "/media/notes.txt"],
)
def test_the_media_route_serves_pictures_under_media_root_only(client, media_root, path):
    (media_root.parent / "outside.webp").write_bytes(png())
    (media_root / "notes.txt").write_text("private")
    (media_root / "avatars").mkdir()

    assert client.get(path).status_code == 404


def test_a_new_user_has_no_avatar_and_the_default_storage_is_the_filesystem(auth_client, monkeypatch):
    for name in ("AVATAR_STORAGE", "AWS_STORAGE_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)

    assert auth_client.get("/api/v1/auth/me/").json()["avatar_url"] is None
    assert media_storage_from_env() == {"BACKEND": FILESYSTEM_BACKEND}


# --- configuration ----------------------------------------------------------------------------


def test_a_bucket_alone_selects_s3_with_public_unsigned_urls(monkeypatch):
    monkeypatch.delenv("AVATAR_STORAGE", raising=False)
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "pics")
    monkeypatch.setenv("AWS_S3_CUSTOM_DOMAIN", "cdn.example.com")

    storage = media_storage_from_env()

    assert storage["BACKEND"] == S3_BACKEND
    assert storage["OPTIONS"]["bucket_name"] == "pics"
    assert storage["OPTIONS"]["custom_domain"] == "cdn.example.com"
    assert storage["OPTIONS"]["querystring_auth"] is False
    assert "endpoint_url" not in storage["OPTIONS"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AVATAR_STORAGE": "s3"}, "needs AWS_STORAGE_BUCKET_NAME"),
        ({"AVATAR_STORAGE": "ftp"}, "must be 'filesystem' or 's3'"),
    ],
)
def test_a_storage_the_environment_cannot_give_is_refused_at_startup(monkeypatch, env, message):
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage_from_env()


def test_each_user_changes_only_their_own_avatar(make_user, bucket, on_commit):
    from rest_framework.test import APIClient

    alice, bob = make_user("alice"), make_user("bob")
    clients = {}
    for who in (alice, bob):
        clients[who.username] = APIClient()
        clients[who.username].credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(who).access_token}")

    with on_commit():
        put(clients["alice"], png(color=RED))
        clients["bob"].delete(URL)

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.avatar and not bob.avatar
    assert len(bucket.keys()) == 1
