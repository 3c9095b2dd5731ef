"""Avatars: a user's picture, checked and re-encoded (accounts.avatar_images), kept in the default storage.

Every upload is stored under a new random name before the user's row is switched to it, so a URL
never changes what it shows and can be cached for ever. The file it replaces is deleted by a task
once the switch has committed; a switch that fails deletes the new file instead.
"""

import logging
import secrets

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.module_loading import import_string

from accounts import avatar_images
from core.background import after_commit, enqueue_on_commit

logger = logging.getLogger(__name__)
User = get_user_model()

AVATAR_DIR = "avatars"
AVATAR_DELETE_TASK = "accounts.avatar_file_delete"
# What the storages raise when the disk or the S3 endpoint fails (not the upload's fault).
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)

EMPTY = "The submitted file is empty."


class AvatarRefused(Exception):
    """The upload is not an acceptable picture; `message` says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AvatarStorageUnavailable(Exception):
    """The storage could not take the picture (disk, network, bucket)."""


def too_large(max_bytes: int) -> str:
    return f"This file is too large (at most {max_bytes // 1024:,} KiB)."


def _storage():
    return User._meta.get_field("avatar").storage


def avatar_url(name: str | None) -> str | None:
    """The public URL of a stored avatar name (None for no avatar)."""
    return _storage().url(name) if name else None


def _read_bounded(upload: UploadedFile, max_bytes: int) -> bytes:
    """The upload's bytes, reading no more than one byte past the limit."""
    if upload.size is not None and upload.size > max_bytes:
        raise AvatarRefused(too_large(max_bytes))
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AvatarRefused(too_large(max_bytes))
    if not data:
        raise AvatarRefused(EMPTY)
    return data


def _store(*, user_id, picture: bytes) -> str:
    name = f"{AVATAR_DIR}/{user_id}/{secrets.token_hex(16)}.{avatar_images.OUTPUT_EXTENSION}"
    try:
        return _storage().save(name, ContentFile(picture))
    except STORAGE_ERRORS as exc:
        logger.warning("avatar storage refused %s: %s", name, exc)
        raise AvatarStorageUnavailable() from exc


def _switch(*, user_id, name: str) -> str:
    """Point the user's row at `name` ("" for none); the file it named is deleted after commit."""
    with transaction.atomic():
        old = User.objects.select_for_update().filter(pk=user_id).values_list("avatar", flat=True).first()
        if old is None:  # the account was deleted meanwhile
            raise AvatarRefused("This account no longer exists.")
        User.objects.filter(pk=user_id).update(avatar=name)
        if old and old != name:
            enqueue_on_commit(AVATAR_DELETE_TASK, name=old)
        if old != name:
            announce = import_string(settings.ACCOUNTS_ON_AVATAR_CHANGE)
            after_commit(announce, user_id=user_id, avatar_url=avatar_url(name))
    return old


def avatar_set(*, user, upload: UploadedFile) -> str:
    """Check, re-encode and store the upload as the user's avatar; returns its URL.

    Raises AvatarRefused (the upload's fault: size, type, pixels, damage) or AvatarStorageUnavailable.
    """
    data = _read_bounded(upload, settings.AVATAR_MAX_BYTES)
    try:
        picture = avatar_images.avatar_render(data, size=settings.AVATAR_SIZE, max_pixels=settings.AVATAR_MAX_PIXELS)
    except avatar_images.ImageRefused as exc:
        raise AvatarRefused(exc.message) from None
    name = _store(user_id=user.pk, picture=picture)
    try:
        _switch(user_id=user.pk, name=name)
    except BaseException:
        _discard(name)  # no row names it
        raise
    user.avatar = name
    return avatar_url(name)


def avatar_remove(*, user) -> None:
    """The user has no avatar any more (a no-op without one); the file goes after commit."""
    _switch(user_id=user.pk, name="")
    user.avatar = ""


def _discard(name: str) -> None:
    try:
        avatar_file_delete(name=name)
    except STORAGE_ERRORS:
        logger.warning("could not delete the unused avatar file %s", name, exc_info=True)


def avatar_file_delete(*, name: str) -> None:
    """Delete a stored avatar file (absent already: nothing to do). Storage errors propagate (the task retries)."""
    _storage().delete(name)
