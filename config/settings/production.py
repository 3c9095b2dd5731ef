"""Production: everything from the environment, secure defaults, no silent fallbacks."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_is_set, env_str

from .base import *  # noqa: F403
from .base import DATABASE_URL, REDIS_URL, REST_FRAMEWORK, SECRET_KEY, SIMPLE_JWT

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
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required in production")
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
