"""Test settings: real PostgreSQL and Redis (overridable by DATABASE_URL / REDIS_URL)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/promptcraft")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# Test servers start often and most never stream from an SDK: import providers on first use.
os.environ.setdefault("LLM_PRELOAD_PROVIDERS", "false")

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A live server under test (another process) writes its mail where the test can read it.
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# axe-core, which the browser suite's accessibility audit injects into every page, is served from its
# npm package (`make install-dev` runs `npm ci`) at /static/axe-core/axe.min.js: tests only.
STATICFILES_DIRS = [("axe-core", BASE_DIR / "node_modules" / "axe-core")]  # noqa: F405
