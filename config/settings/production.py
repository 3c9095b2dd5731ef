"""Production: everything from the environment, secure defaults, no silent fallbacks."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_is_set, env_str

from .base import *  # noqa: F403
from .base import (
    CACHE_REDIS_URL,
    CELERY_BROKER_URL,
    CHANNEL_LAYER_REDIS_URLS,
    DATABASE_URL,
    LEADERBOARD_REDIS_URL,
    REST_FRAMEWORK,
    SECRET_KEY,
    SIMPLE_JWT,
    STREAMS_REDIS_URL,
)

JWT_SIGNING_KEY_MIN_LENGTH = 32

DEBUG = False
if SECRET_KEY.startswith("dev-insecure") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value in production")
# Unset, tokens are signed with DJANGO_SECRET_KEY (checked above); set, the key must be as strong.
if SIMPLE_JWT["SIGNING_KEY"].startswith("dev-insecure") or len(SIMPLE_JWT["SIGNING_KEY"]) < JWT_SIGNING_KEY_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"JWT_SIGNING_KEY must be a random value of at least {JWT_SIGNING_KEY_MIN_LENGTH} characters in production"
    )
if DATABASE_URL.startswith("sqlite"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production")
# Every role needs its Redis (REDIS_URL, or the role's own URL): the processes share nothing else.
_roles_without_redis = [
    name
    for name, url in (
        ("CHANNEL_LAYER_REDIS_URLS", ",".join(CHANNEL_LAYER_REDIS_URLS)),
        ("CACHE_REDIS_URL", CACHE_REDIS_URL),
        ("CELERY_BROKER_URL", "" if CELERY_BROKER_URL == "memory://" else CELERY_BROKER_URL),
        ("LEADERBOARD_REDIS_URL", LEADERBOARD_REDIS_URL),
        ("STREAMS_REDIS_URL", STREAMS_REDIS_URL),
    )
    if not url
]
if _roles_without_redis:
    raise ImproperlyConfigured(
        f"REDIS_URL is required in production (or a URL for each of {', '.join(_roles_without_redis)})"
    )
# Per-client limits need the client's address: behind a proxy every client is the proxy's address
# unless NUM_PROXIES says how many proxies append to X-Forwarded-For. No default can be right.
if not env_is_set("NUM_PROXIES"):
    raise ImproperlyConfigured(
        "NUM_PROXIES must be set in production: the number of proxies in front of the app that append to "
        "X-Forwarded-For (0 when clients connect to it directly)"
    )

# The scheme a TLS-terminating proxy saw; without a proxy a client could claim https this way.
if REST_FRAMEWORK["NUM_PROXIES"] > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
