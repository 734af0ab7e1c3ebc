"""Settings, read from the environment in this one module (12-factor).

The embedded default needs no variable at all: SQLite and a filesystem broker under ``var/``.
Production sets ``DEBUG=false`` and must then provide ``SECRET_KEY`` and ``PIXEE_ENCRYPTION_KEYS``.
"""

from pathlib import Path

import environ

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded default keeps its database, broker queue and media.
VAR_DIR = Path(env.str("PIXEE_VAR_DIR", default=str(BASE_DIR / "var")))

# Off unless asked for: the embedded default (make run) turns it on explicitly.
DEBUG = env.bool("DEBUG", default=False)


def _required_in_production(name: str, why: str) -> None:
    """Stop at start, in one sentence, when production lacks a secret it must bring."""
    if not DEBUG and not env.str(name, default="").strip():
        # SystemExit prints the sentence alone: the operator needs the name, not a traceback.
        raise SystemExit(f"{name} must be set when DEBUG is off: {why}.")


_required_in_production("SECRET_KEY", "it signs sessions, CSRF tokens and password resets")
_required_in_production(
    "PIXEE_ENCRYPTION_KEYS",
    "stored passwords and keys are encrypted with it (comma-separated Fernet keys)",
)

# A development key is fine for the embedded default only (DEBUG on); production brings its own.
_DEV_SECRET = "django-insecure-embedded-default-only-not-for-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "pixee.adminsite.PixeeAdminConfig",  # django.contrib.admin, with our site as admin.site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "pixee",
    "catalog",
    "imports",
    "automations",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pixee.middleware.RefuseNulInUrlMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pixee.urls"
WSGI_APPLICATION = "pixee.wsgi.application"

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


def _database_from_env() -> dict:
    config = env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pixee.sqlite3'}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(config["NAME"])
        config["NAME"] = str(name if name.is_absolute() else BASE_DIR / name)
        # Django's backend, where a request's write goes before the worker's next chunk
        # (pixee/sqlite/base.py): pause and cancel are not starved by a running import.
        config["ENGINE"] = "pixee.sqlite"
        # The embedded default runs web, worker and beat as separate processes on one file:
        # WAL lets readers proceed during a write, IMMEDIATE avoids upgrade deadlocks, and the
        # busy timeout (seconds) is how long a write waits for the one in progress.
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASES = {"default": _database_from_env()}
# Throttling counts live here: share it (Redis) when several web processes serve the API.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
# collectstatic fills it for production; in development whitenoise serves from the app finders.
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"


def _file_storage_from_env() -> dict:
    """Where uploads are stored: the filesystem under MEDIA_ROOT, an S3 bucket, or any backend.

    Web processes store the files and workers read them, so several hosts need a store they share:
    ``s3`` (AWS or any S3-compatible store, through django-storages), or one volume at MEDIA_ROOT.
    The S3 credentials are boto3's own (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` or the
    host's role), never read here.
    """
    backend = env.str("PIXEE_STORAGE_BACKEND", default="filesystem")
    if backend == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if backend != "s3":
        return {"BACKEND": backend}  # any storage class, by its dotted path
    bucket = env.str("PIXEE_S3_BUCKET", default="").strip()
    if not bucket:
        raise SystemExit("PIXEE_S3_BUCKET must be set when PIXEE_STORAGE_BACKEND is s3: it names the bucket.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": env.str("PIXEE_S3_PREFIX", default=""),
            "region_name": env.str("PIXEE_S3_REGION", default="") or None,
            "endpoint_url": env.str("PIXEE_S3_ENDPOINT_URL", default="") or None,
            # Names are generated and unique; never ask the bucket whether one is taken.
            "file_overwrite": True,
            # A file being read spills to FILE_UPLOAD_TEMP_DIR past 5 MB instead of filling memory.
            "max_memory_size": 5 * 1024 * 1024,
        },
    }


STORAGES = {
    # The import pipeline only talks to ``default_storage``.
    "default": _file_storage_from_env(),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Pixee -----------------------------------------------------------------------------------
PIXEE_MAX_UPLOAD_MB = env.int("PIXEE_MAX_UPLOAD_MB", default=512)
# Uploads beyond this spill to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# ...in a folder of ours, not the system's: an interrupted upload's file is swept from here
# (imports' sweeper, after PIXEE_UPLOAD_TEMP_MAX_AGE seconds).
FILE_UPLOAD_TEMP_DIR = str(Path(env.str("PIXEE_UPLOAD_TEMP_DIR", default=str(VAR_DIR / "tmp" / "uploads"))))
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
PIXEE_UPLOAD_TEMP_MAX_AGE = env.int("PIXEE_UPLOAD_TEMP_MAX_AGE", default=6 * 3600)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
PIXEE_ENCRYPTION_KEYS = env.list("PIXEE_ENCRYPTION_KEYS", default=[])
PIXEE_ALLOW_PRIVATE_NETWORK = env.bool("PIXEE_ALLOW_PRIVATE_NETWORK", default=False)
# About 8 retries over 3 days: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, 24 h.
PIXEE_WEBHOOK_RETRY_DELAYS = [
    int(x)
    for x in env.list(
        "PIXEE_WEBHOOK_RETRY_DELAYS",
        default=["60", "300", "1800", "7200", "21600", "43200", "86400", "86400"],
    )
]
# Rows per batch: the unit of validation, writing, checkpointing, pausing and cancelling. Measured
# with make bench: 10 000 is ~5% faster than 5 000 for ~10 MB more worker memory; 20 000 gains
# nothing more and costs 20 MB more.
# On SQLite a batch is also how long the worker holds the database's one write lock, which a
# pause, a cancel or an upload waits for: 2 000 rows keep that under half a second there.
PIXEE_IMPORT_CHUNK_SIZE = env.int(
    "PIXEE_IMPORT_CHUNK_SIZE",
    default=2_000 if DATABASES["default"]["ENGINE"] == "pixee.sqlite" else 20_000,
)
# How many database connections a job's processing writes its chunks on at once (PostgreSQL
# only): each runs on a core of the database server of its own (pixee/bulk.py). 1 writes one
# chunk at a time; 2 made a million-row first load ~20% faster and its re-import ~25% faster.
PIXEE_IMPORT_WRITE_CONNECTIONS = env.int("PIXEE_IMPORT_WRITE_CONNECTIONS", default=2)
# Where a worker keeps the valid rows of an analysis for its processing (imports/spill.py): a
# folder on the worker's own disk, about 7 MiB per million rows while a job is ready or running.
# PIXEE_IMPORT_SPILL=false makes processing read and validate the stored file again instead.
PIXEE_IMPORT_SPILL = env.bool("PIXEE_IMPORT_SPILL", default=True)
PIXEE_SPILL_DIR = Path(env.str("PIXEE_SPILL_DIR", default=str(VAR_DIR / "tmp" / "spill")))
# A spill left by a job that is still ready (a dry run never confirmed) is dropped after this.
PIXEE_SPILL_MAX_AGE_HOURS = env.int("PIXEE_SPILL_MAX_AGE_HOURS", default=24)
# A worker whose heartbeat is older than this is presumed dead; its job is re-enqueued.
PIXEE_JOB_HEARTBEAT_TIMEOUT = env.int("PIXEE_JOB_HEARTBEAT_TIMEOUT", default=120)
PIXEE_JOB_MAX_ATTEMPTS = env.int("PIXEE_JOB_MAX_ATTEMPTS", default=5)

# Automations: how often a non-staff user's schedule may fire, and how many one user may own.
PIXEE_AUTOMATION_MIN_INTERVAL_MINUTES = env.int("PIXEE_AUTOMATION_MIN_INTERVAL_MINUTES", default=15)
PIXEE_AUTOMATIONS_PER_USER = env.int("PIXEE_AUTOMATIONS_PER_USER", default=50)


def _retention_days() -> int:
    """PIXEE_RETENTION_DAYS: 0 keeps everything; anything but a whole number >= 0 stops the start."""
    raw = env.str("PIXEE_RETENTION_DAYS", default="90").strip()
    if not raw.isdigit():
        raise SystemExit(
            f"PIXEE_RETENTION_DAYS must be a whole number of days (0 keeps everything), not {raw!r}."
        )
    return int(raw)


# Finished imports' files, row logs and undo records, webhook deliveries, automation runs and
# idempotency keys older than this are deleted (pixee/retention.py, run by beat every hour).
PIXEE_RETENTION_DAYS = _retention_days()

# --- Celery ----------------------------------------------------------------------------------
_EMBEDDED_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (_EMBEDDED_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # kombu's default is ./control, i.e. wherever the process was started.
        "control_folder": str(_EMBEDDED_BROKER_DIR / "control"),
        "data_folder_in": str(_EMBEDDED_BROKER_DIR / "in"),
        "data_folder_out": str(_EMBEDDED_BROKER_DIR / "in"),
        "processed_folder": str(_EMBEDDED_BROKER_DIR / "processed"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pixee.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "uploads": env.str("PIXEE_UPLOAD_THROTTLE", default="120/minute"),
        # Previews and error reports re-read stored files in the web process.
        "file_reads": env.str("PIXEE_FILE_READ_THROTTLE", default="30/minute"),
    },
    "EXCEPTION_HANDLER": "pixee.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pixee Imports API",
    "DESCRIPTION": "Load large product catalogs from CSV, Excel, JSON or XML files.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Request bodies get their own components: an upload's file is then binary (multipart), not
    # the URI the responses show.
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["pixee.schema.strip_trailing_slashes"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pixee.schema.add_error_responses",
        "pixee.schema.blank_strings_any_of",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ImportStatusEnum": "imports.choices.ImportStatus",
        "WebhookDeliveryStatusEnum": "webhooks.choices.DeliveryStatus",
        "AutomationRunStatusEnum": "automations.choices.RunStatus",
        "WebhookEventEnum": "webhooks.choices.EventType",
        "LogLevelEnum": "imports.choices.LogLevel",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    # Production is served over HTTPS, TLS ending at a proxy that sets X-Forwarded-Proto and
    # redirects plain HTTP itself (so the app does not, unless SECURE_SSL_REDIRECT asks: health
    # checks and the bench speak HTTP to gunicorn directly). Every other default is the safe one,
    # so `manage.py check --deploy` is clean; browsers ignore HSTS sent over plain HTTP.
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
