"""Test settings: real PostgreSQL and Redis (overridable by DATABASE_URL / REDIS_URL)."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/promptcraft")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# Test servers start often and most never stream from an SDK: import providers on first use.
os.environ.setdefault("LLM_PRELOAD_PROVIDERS", "false")

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": STORAGES["default"],  # noqa: F405  (the environment's: filesystem unless a test server says s3)
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads of tests (and of the servers they start) stay out of the working tree.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or os.path.join(tempfile.gettempdir(), "promptcraft-test-media")

# Serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
