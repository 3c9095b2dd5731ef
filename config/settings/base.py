"""Settings shared by every environment; all environment input goes through config.env."""

from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import env_bool, env_float, env_int, env_json, env_list, env_str
from config.social import social_providers_from_env
from config.storage import media_storage_from_env
from core.redis import channel_layer_hosts, redis_client_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-insecure-change-me-0123456789abcdefghijklmnopqrstuvwxyz")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "accounts.admin_site.AdminConfig",  # django.contrib.admin, its login throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "channels",
    # Social sign-in: allauth's provider protocols (OAuth2, OpenID Connect) and its SocialAccount
    # links; the flows themselves are accounts.social's (see README, "Social sign-in").
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",
    "game",
    "prompts",
    "llm",
    "challenges",
    "insights",
    "web",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",  # first: probes by IP over HTTP must reach it
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",  # required by allauth; no allauth URL is mounted
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.exceptions.ServiceUnavailableMiddleware",  # last: sees the views' exceptions first
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL; without it the embedded SQLite file is used.
# CONN_MAX_AGE=0: under ASGI, persistent connections leak across the sync thread pool.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A per-process pool (psycopg_pool): a request or run start borrows an open connection
    # instead of opening one (a new PostgreSQL backend costs milliseconds). min_size 0 and a
    # short max_idle hand idle connections back, so many processes fit in max_connections.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 0,
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
        "max_idle": 60,
        "timeout": 10,
    }
    # The pool checks a connection as it lends it: after a PostgreSQL restart its dead connections
    # are replaced instead of failing the next requests and run settles one by one.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (avatars): MEDIA_ROOT, or an S3-compatible bucket (config.storage, README "Avatars").
STORAGES = {
    "default": media_storage_from_env(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = env_str("MEDIA_URL", "/media/")
# With the filesystem storage the app serves MEDIA_URL itself (config.media) unless a proxy in front does.
MEDIA_SERVE = env_bool("MEDIA_SERVE", True)

# --- Redis: channel layer, cache, Celery, leaderboards, run streams ----------------------
# REDIS_URL serves every role; each role's own variable moves it to another Redis (core.redis).
REDIS_URL = env_str("REDIS_URL", "")
# The channel layer shards over every URL listed (channels-redis hashes each channel and group
# to one of them): every process must list the same URLs in the same order.
CHANNEL_LAYER_REDIS_URLS = env_list("CHANNEL_LAYER_REDIS_URLS", [REDIS_URL] if REDIS_URL else [])
# One Redis (Django's RedisCache reads any further URL as a read replica): the cache, the API
# throttle counters and the revoked sessions.
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL", REDIS_URL)
LEADERBOARD_REDIS_URL = env_str("LEADERBOARD_REDIS_URL", REDIS_URL)
# The runs' frame streams (resume on any process), their cancels, heartbeats and followers.
STREAMS_REDIS_URL = env_str("STREAMS_REDIS_URL", REDIS_URL)

CHANNEL_LAYER_BACKEND = env_str("CHANNEL_LAYER_BACKEND", "channels_redis.core.RedisChannelLayer")
if CHANNEL_LAYER_REDIS_URLS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKEND,
            "CONFIG": {
                "hosts": channel_layer_hosts(CHANNEL_LAYER_REDIS_URLS),
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "asgi"),
                "capacity": 1000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # Django's, one connection pool per process
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "pc"),
            # Fail fast like every other client (core.redis): a hung Redis is an error within a
            # second, which throttles and views turn into a pass or a 503, not a hung request.
            "OPTIONS": redis_client_options(),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task a lost worker had taken goes back to the queue: at once when the pool's child dies
# (reject on worker lost), after the visibility timeout when the whole worker does. Tasks are
# idempotent and far shorter than the timeout, so a redelivery never awards twice.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Socket timeouts: a hung broker fails a publish within seconds (core.background then runs the
# task in process) instead of stalling the request or run that queued it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 300,
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
} | env_json("CELERY_BROKER_TRANSPORT_OPTIONS", {})
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["accounts-expired-tokens-flush"] = {"task": "accounts.expired_tokens_flush", "schedule": 86400.0}
# The XP ledger is the truth; Redis leaderboards are rebuilt from it periodically.
CELERY_BEAT_SCHEDULE["game-leaderboards-rebuild"] = {
    "task": "game.leaderboards_rebuild",
    "schedule": float(env_int("LEADERBOARD_REBUILD_SECONDS", 600)),
}
# Runs whose server process died are settled (refunded) once they are past LLM_RUN_MAX_SECONDS.
CELERY_BEAT_SCHEDULE["llm-runs-fail-stale"] = {"task": "llm.runs_fail_stale", "schedule": 300.0}
# Every enabled LLM connection's availability (up/down, latency), as GET llm/models/ shows it.
CELERY_BEAT_SCHEDULE["llm-connections-probe"] = {
    "task": "llm.connections_probe",
    "schedule": env_float("LLM_PROBE_INTERVAL_SECONDS", 60.0),
}
# Attempts whose server process died are settled (their unused reservation refunded) the same way.
CELERY_BEAT_SCHEDULE["challenges-attempts-fail-stale"] = {"task": "challenges.attempts_fail_stale", "schedule": 300.0}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal API keys (`pc_…`) first: it leaves every other bearer token to the JWT class.
        "accounts.authentication.PersonalKeyAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, the JSON one bounded (config.parsers: nesting depth, finite numbers, valid text).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.DefaultPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",  # drf-spectacular's, with the error answers
    # Atomic fixed-window counters in the shared cache (DRF's stock ones race under concurrency).
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.AnonRateThrottle",
        "accounts.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "100/hour"),
        "user": env_str("THROTTLE_USER", "1000/hour"),
        "ai_requests": env_str("THROTTLE_AI_REQUESTS", "50/hour"),
        "auth_ip": env_str("THROTTLE_AUTH_IP", "20/minute"),
        "auth_account": env_str("THROTTLE_AUTH_ACCOUNT", "10/minute"),
        "email_verification": env_str("THROTTLE_EMAIL_VERIFICATION", "5/hour"),
        "avatar_uploads": env_str("THROTTLE_AVATAR_UPLOADS", "30/hour"),
    },
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts only the socket peer,
    # so clients cannot pick their own IP for the per-IP limits.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_SECONDS", 15 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a hash of the password hash: changing the password revokes every access token.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PromptCraft API",
    "DESCRIPTION": "Learn prompt engineering by doing it: templates, live LLM runs, XP and leaderboards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "TemplateVisibilityEnum": "prompts.models.Visibility",
        "ChallengeVisibilityEnum": "challenges.models.Visibility",
    },
}

# --- CORS, WebSocket origins ------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Foreign pages that may embed the live leaderboard widget (its socket accepts them).
WIDGET_ALLOWED_ORIGINS = env_list("WIDGET_ALLOWED_ORIGINS", [])

# --- Accounts ---------------------------------------------------------------------------
# Called inside the registration transaction with the new user; the game layer grants the
# welcome credits and starting progress there (accounts sits below game and cannot import it).
ACCOUNTS_ON_REGISTER = "game.services.player_onboard"
WELCOME_CREDITS = env_int("WELCOME_CREDITS", 100)
WS_AUTH_TIMEOUT_SECONDS = env_int("WS_AUTH_TIMEOUT_SECONDS", 10)
# Session-authenticated sockets are closed (4401, reconnect) after this long; token sockets at the token's exp.
WS_SESSION_MAX_SECONDS = env_int("WS_SESSION_MAX_SECONDS", 6 * 3600)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 3)
# How long an email verification link works (seconds); a new one can be asked for at any time.
EMAIL_VERIFICATION_TIMEOUT = env_int("EMAIL_VERIFICATION_TIMEOUT", 60 * 60 * 24 * 3)
# Until their email is verified, accounts spend no credits: they get this many free runs a day
# (UTC) on the embedded models (`local:*`), and nothing else that costs credits.
UNVERIFIED_FREE_RUNS_PER_DAY = env_int("UNVERIFIED_FREE_RUNS_PER_DAY", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PromptCraft <noreply@promptcraft.local>")
# Social sign-in providers, each enabled by its client id (accounts.social_config builds allauth's apps).
SOCIALACCOUNT_PROVIDERS = social_providers_from_env()
SOCIALACCOUNT_QUERY_EMAIL = True  # GitHub: read /user/emails, whose `verified` flags decide
SOCIALACCOUNT_STORE_TOKENS = False  # the provider's tokens serve the sign-in only
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SOCIAL_REQUESTS_TIMEOUT", 10)
ACCOUNT_EMAIL_VERIFICATION = "none"  # accounts' own verification flow applies (allauth's is unused)
# A learner's data, one part per app (accounts.privacy.PrivacyPart): the export lists them in
# this order, the erasure of a deleted account runs them in reverse.
ACCOUNTS_PRIVACY_PARTS = [
    "accounts.privacy_profile.part",
    "game.privacy.part",
    "prompts.privacy.part",
    "llm.privacy.part",
    "challenges.privacy.part",
]
# An account without a password deletes itself within this long of signing in with its provider again.
ACCOUNT_DELETE_REAUTH_SECONDS = env_int("ACCOUNT_DELETE_REAUTH_SECONDS", 10 * 60)

FRONTEND_URL = env_str("FRONTEND_URL", "http://127.0.0.1:8000")
# Avatars (accounts.avatars): the largest upload taken, the most pixels decoded (checked from the
# header, before decoding), and the side of the square WebP kept.
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 2 * 1024 * 1024)
AVATAR_MAX_PIXELS = env_int("AVATAR_MAX_PIXELS", 4096 * 4096)
AVATAR_SIZE = env_int("AVATAR_SIZE", 256)
# Called after commit with (user_id, avatar_url) when an avatar changes: the game refreshes the
# leaderboards' cached pictures (accounts sits below game and cannot import it).
ACCOUNTS_ON_AVATAR_CHANGE = "game.services.player_avatar_changed"

# --- Game -------------------------------------------------------------------------------
# Activity XP (runs, templates, ratings, favourites, forks) a player can earn per game day; the
# rest of the day's activities earn nothing. Challenges, badges and streak milestones are outside.
GAME_DAILY_ACTIVITY_XP_CAP = env_int("GAME_DAILY_ACTIVITY_XP_CAP", 200)
# Notifications kept per user (game.notifications trims older ones as new ones are written).
GAME_NOTIFICATIONS_KEPT = env_int("GAME_NOTIFICATIONS_KEPT", 200)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- LLM providers and models -----------------------------------------------------------
# The SDKs' own variables; OPENAI_BASE_URL points at any OpenAI-compatible server (Ollama, vLLM…).
OPENAI_API_KEY = env_str("OPENAI_API_KEY", "")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "")
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY", "")
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL", "")
# Remote providers: connect timeout, and read timeout (each wait for bytes, the first one included).
LLM_CONNECT_TIMEOUT_SECONDS = env_float("LLM_CONNECT_TIMEOUT_SECONDS", 5.0)
LLM_READ_TIMEOUT_SECONDS = env_float("LLM_READ_TIMEOUT_SECONDS", 60.0)
# HTTP under both SDKs: "aiohttp" (bulk socket reads, llm/providers/transport.py) or "httpx" (the SDKs' own).
LLM_HTTP_TRANSPORT = env_str("LLM_HTTP_TRANSPORT", "aiohttp").lower()
# Retries happen only before the first token; Retry-After longer than the max wait is not waited for.
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2)
LLM_RETRY_BACKOFF_SECONDS = env_float("LLM_RETRY_BACKOFF_SECONDS", 0.5)
LLM_RETRY_MAX_WAIT_SECONDS = env_float("LLM_RETRY_MAX_WAIT_SECONDS", 8.0)
# The embedded models: Gemma's GGUF is assembled once into this directory on first use (SmolLM2's
# is read where its package installed it).
LLM_LOCAL_MODEL_DIR = env_str("LLM_LOCAL_MODEL_DIR", str(Path.home() / ".cache" / "promptcraft" / "models"))
LLM_LOCAL_CONCURRENCY = env_int("LLM_LOCAL_CONCURRENCY", 1)  # generations at once per model per process; the rest queue
LLM_LOCAL_CONTEXT = env_int("LLM_LOCAL_CONTEXT", 2048)
LLM_LOCAL_THREADS = env_int("LLM_LOCAL_THREADS", 0)  # 0: llama.cpp's default
# Server processes import every registered model's provider SDK at startup (config/asgi.py).
LLM_PRELOAD_PROVIDERS = env_bool("LLM_PRELOAD_PROVIDERS", True)
# The chat model new work starts on (the catalogue's first entry).
LLM_DEFAULT_MODEL = env_str("LLM_DEFAULT_MODEL", "local:smollm2-135m-instruct")
# The model registry (llm.registry): unset, the built-in catalogue (llm/catalogue.py);
# LLM_MODELS_JSON replaces it whole with a JSON array of entries.
LLM_MODELS = env_json("LLM_MODELS_JSON", None)
# Connections and models kept in the database (admin, staff REST) on top of the environment's
# above: a row wins over the environment's connection or model of the same name/id. False: the
# environment's alone, without reading the database (tooling; tests without a database).
LLM_CONNECTIONS_FROM_DATABASE = env_bool("LLM_CONNECTIONS_FROM_DATABASE", True)
# Connection API keys are encrypted at rest with Fernet (llm/secrets.py). Comma-separated Fernet
# keys, the first encrypting and every one decrypting (MultiFernet: rotation). Unset: one key
# derived from SECRET_KEY with HKDF-SHA256.
LLM_ENCRYPTION_KEY = env_str("LLM_ENCRYPTION_KEY", "")
# Each process keeps the registry and checks Redis's version counter at most this often.
LLM_REGISTRY_CHECK_SECONDS = env_float("LLM_REGISTRY_CHECK_SECONDS", 1.0)
# Availability probes (llm.connections_probe, on the beat): models list, with this timeout.
LLM_PROBE_TIMEOUT_SECONDS = env_float("LLM_PROBE_TIMEOUT_SECONDS", 3.0)
LLM_PROBE_INTERVAL_SECONDS = env_float("LLM_PROBE_INTERVAL_SECONDS", 60.0)

# --- LLM runs ---------------------------------------------------------------------------
LLM_MAX_CONCURRENT_RUNS = env_int("LLM_MAX_CONCURRENT_RUNS", 3)  # per user, across processes
LLM_MAX_PROMPT_CHARS = env_int("LLM_MAX_PROMPT_CHARS", 16_000)
# A closed socket's runs keep going this long, waiting for a `run.resume`, then are cancelled.
LLM_RESUME_GRACE_SECONDS = env_float("LLM_RESUME_GRACE_SECONDS", 15.0)
LLM_RUN_MAX_SECONDS = env_float("LLM_RUN_MAX_SECONDS", 600.0)
# Tokens faster than one frame per interval (~40/s) are coalesced into fewer `run.token` frames.
LLM_TOKEN_FLUSH_INTERVAL = env_float("LLM_TOKEN_FLUSH_INTERVAL", 0.025)
# Redis Streams of run frames (for resume on any process): length cap and expiry.
LLM_STREAM_MAXLEN = env_int("LLM_STREAM_MAXLEN", 10_000)
LLM_STREAM_TTL_SECONDS = env_int("LLM_STREAM_TTL_SECONDS", 300)

# --- Challenges -------------------------------------------------------------------------
# The model that judges `llm-rubric` checks (a model id); empty: challenges cannot use them.
CHALLENGES_JUDGE_MODEL = env_str("CHALLENGES_JUDGE_MODEL", "")
# Case runs of one attempt at a time (the attempt holds one LLM_MAX_CONCURRENT_RUNS slot for all of
# them; a local model's own queue still bounds its generations).
CHALLENGES_ATTEMPT_PARALLEL = env_int("CHALLENGES_ATTEMPT_PARALLEL", 10)
# An attempt still running after this long lost its process: settled as failed, the rest refunded.
CHALLENGES_ATTEMPT_MAX_SECONDS = env_float("CHALLENGES_ATTEMPT_MAX_SECONDS", 1800.0)

# --- Insights -----------------------------------------------------------------------------
# Slots older than this are final (every run and attempt in them has settled, the stale ones by
# the sweeps every 5 minutes) and are rolled up; newer ones are read from the raw tables.
INSIGHTS_ROLLUP_GRACE_SECONDS = env_int(
    "INSIGHTS_ROLLUP_GRACE_SECONDS", int(max(LLM_RUN_MAX_SECONDS, CHALLENGES_ATTEMPT_MAX_SECONDS)) + 600
)
INSIGHTS_CACHE_SECONDS = env_int("INSIGHTS_CACHE_SECONDS", 600)  # how long an unread document stays
CELERY_BEAT_SCHEDULE["insights-rollup-recent"] = {"task": "insights.rollup_recent", "schedule": 900.0}
