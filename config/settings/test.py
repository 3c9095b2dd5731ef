"""Test settings: real PostgreSQL and Redis (overridable by DATABASE_URL / REDIS_URL)."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/promptcraft")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# Test servers start often and most never stream from an SDK: import providers on first use.
os.environ.setdefault("LLM_PRELOAD_PROVIDERS", "false")

from config.storage import FILESYSTEM_BACKEND

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A live server under test (another process) writes its mail where the test can read it.
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
STORAGES = {
    # The filesystem, unless AVATAR_STORAGE says otherwise (a test's server on its S3 bucket): a
    # bucket named in the developer's environment is never written to by the tests.
    "default": STORAGES["default"] if os.environ.get("AVATAR_STORAGE") else {"BACKEND": FILESYSTEM_BACKEND},  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads of tests (and of the servers they start) stay out of the working tree.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or os.path.join(tempfile.gettempdir(), "promptcraft-test-media")

# Serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# axe-core, which the browser suite's accessibility audit injects into every page, is served from its
# npm package (`make install-dev` runs `npm ci`) at /static/axe-core/axe.min.js: tests only.
STATICFILES_DIRS = [("axe-core", BASE_DIR / "node_modules" / "axe-core")]  # noqa: F405
