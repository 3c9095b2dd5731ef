"""Uploaded files (avatars) served by the app itself when they are kept on its filesystem.

An S3-compatible store serves its own URLs; a proxy in front of the app may serve MEDIA_ROOT
instead (MEDIA_SERVE=false). Stored names are random and never reused, so answers are cacheable
for ever; only the pictures the app wrote live there, and they are never rendered as documents.
"""

import mimetypes
import re

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.views.decorators.http import require_safe

# Only the types the app writes (accounts.avatar_images); anything else under MEDIA_ROOT is not served.
SERVED_TYPES = frozenset({"image/webp", "image/png", "image/jpeg", "image/gif"})


@require_safe
def media_file(request: HttpRequest, name: str) -> HttpResponse:
    content_type, _ = mimetypes.guess_type(name)
    storage = default_storage
    if content_type not in SERVED_TYPES or not isinstance(storage, FileSystemStorage):
        raise Http404("No such file.")
    try:
        with storage.open(name, "rb") as file:
            body = file.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, SuspiciousFileOperation):
        raise Http404("No such file.") from None
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def media_urlpatterns() -> list[URLPattern]:
    """The route of MEDIA_URL when it is a path on this site (the view answers only for the filesystem storage)."""
    local = settings.MEDIA_URL.startswith("/") and not settings.MEDIA_URL.startswith("//")
    if not (settings.MEDIA_SERVE and local):
        return []
    prefix = re.escape(settings.MEDIA_URL.strip("/"))
    return [re_path(rf"^{prefix}/(?P<name>.+)$", media_file, name="media")]
