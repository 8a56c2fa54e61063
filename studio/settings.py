"""The studio's one settings module. Every setting comes from the environment; README lists them all.

Defaults are the embedded, single-machine ones: SQLite under var/, an embedded Redis on a unix socket
under var/, artifacts in var/artifacts. DATABASE_URL, REDIS_URL and STUDIO_S3_* switch to servers.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] if value.strip() else default


BASE_DIR = Path(__file__).resolve().parent.parent
# Tests get their own var/ so a running studio and a test run never share a broker or files.
_default_var = BASE_DIR / ("var/test" if os.environ.get("PYTEST_VERSION") else "var")
VAR_DIR = Path(os.environ.get("STUDIO_VAR_DIR") or _default_var).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = env_bool("STUDIO_PRODUCTION")
DEBUG = env_bool("STUDIO_DEBUG") and not PRODUCTION

# --- secret key -------------------------------------------------------------------------------
WEAK_SECRET_MARKERS = ("insecure", "changeme", "change-me", "secret", "django", "default", "example")


def secret_key_problem(key: str) -> str | None:
    """Why a key is unfit for production, or None when it is fine."""
    if len(key) < 50:
        return "is shorter than 50 characters"
    if len(set(key)) < 5:
        return "has fewer than 5 distinct characters"
    lowered = key.lower()
    for marker in WEAK_SECRET_MARKERS:
        if marker in lowered:
            return f"contains the word {marker!r}"
    return None


def _load_or_create_local_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(64)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = os.environ.get("STUDIO_SECRET_KEY", "")
if PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured("STUDIO_PRODUCTION is on but STUDIO_SECRET_KEY is not set.")
    problem = secret_key_problem(SECRET_KEY)
    if problem:
        raise ImproperlyConfigured(f"STUDIO_SECRET_KEY {problem}; refusing to start in production.")
elif not SECRET_KEY:
    # A single-machine install gets a random key kept in var/, never a shared default.
    SECRET_KEY = _load_or_create_local_secret(VAR_DIR / "secret_key")

ALLOWED_HOSTS = env_list("STUDIO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("STUDIO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "apps.core",
    "apps.accounts",
    "apps.datasets",
    "apps.wrangler",
    "apps.insights",
    "apps.training",
    "apps.automl",
    "apps.experiments",
    "apps.tuning",
    "apps.registry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.AuditMiddleware",
    "apps.core.middleware.UserErrorMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"
ASGI_APPLICATION = "studio.asgi.application"

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
                "apps.core.context_processors.studio",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "studio.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            # A file (not memory) test database, so worker processes started by tests can reach it.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
            "OPTIONS": {
                # Web, worker and scheduler write at once: WAL plus IMMEDIATE transactions avoid
                # "database is locked" upgrades, and the timeout waits out short writes.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }
if DATABASE_URL and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A SQLite DATABASE_URL (the test workers reach the test database this way) gets the same options as
    # the default file; without IMMEDIATE transactions a worker's write fails at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("STUDIO_TEST_DATABASE", "test_studio")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, cache, online store -------------------------------------------------------
REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    REDIS_URL = f"unix://{REDIS_SOCKET}"
    CELERY_BROKER_URL = f"redis+socket://{REDIS_SOCKET}"
else:
    CELERY_BROKER_URL = REDIS_URL

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "studio-test" if os.environ.get("PYTEST_VERSION") else "studio",
    }
}

# --- celery -----------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ["default", "training", "batch", "monitoring"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Jobs are guarded by heartbeats and leases in the database; the broker's own redelivery is a
# backstop only, so its visibility timeout is longer than any job may run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("STUDIO_JOB_HARD_TIME_LIMIT", 6 * 3600) + 600}
CELERY_TIMEZONE = "UTC"

# --- jobs -------------------------------------------------------------------------------------
JOB_HEARTBEAT_SECONDS = env_int("STUDIO_JOB_HEARTBEAT_SECONDS", 5)
JOB_STALE_AFTER_SECONDS = env_int("STUDIO_JOB_STALE_AFTER_SECONDS", 60)
JOB_MAX_ATTEMPTS = env_int("STUDIO_JOB_MAX_ATTEMPTS", 3)
JOB_SOFT_TIME_LIMIT = env_int("STUDIO_JOB_SOFT_TIME_LIMIT", 6 * 3600 - 60)
JOB_HARD_TIME_LIMIT = env_int("STUDIO_JOB_HARD_TIME_LIMIT", 6 * 3600)
JOB_REAP_INTERVAL_SECONDS = env_int("STUDIO_JOB_REAP_INTERVAL_SECONDS", 30)
JOB_TRANSIENT_RETRIES = env_int("STUDIO_JOB_TRANSIENT_RETRIES", 5)
# First retry delay of a temporary failure; each later retry waits twice as long (capped at 300 s).
JOB_TRANSIENT_BACKOFF_SECONDS = env_int("STUDIO_JOB_TRANSIENT_BACKOFF_SECONDS", 5)
# Heap a job may add on top of what its worker process holds; 0 turns the cap off.
JOB_MEMORY_LIMIT_MB = env_int("STUDIO_JOB_MEMORY_LIMIT_MB", 8192)
# Custom pandas code steps in data flows: off unless an administrator turns them on; then only roles that may
# run code add them, and they run only in workers, in a child process with these limits.
CUSTOM_CODE_STEPS = env_bool("STUDIO_CUSTOM_CODE_STEPS", False)
CUSTOM_CODE_TIMEOUT_SECONDS = env_int("STUDIO_CUSTOM_CODE_TIMEOUT_SECONDS", 300)
CUSTOM_CODE_MEMORY_MB = env_int("STUDIO_CUSTOM_CODE_MEMORY_MB", 4096)
# Training with the user's own script (SageMaker script mode): each job's time and memory limits default to these
# and may not exceed them; the model and output folders it leaves are packed up to this size.
SCRIPT_TIMEOUT_SECONDS = env_int("STUDIO_SCRIPT_TIMEOUT_SECONDS", 3600)
SCRIPT_MEMORY_MB = env_int("STUDIO_SCRIPT_MEMORY_MB", 4096)
SCRIPT_ARTIFACT_MAX_MB = env_int("STUDIO_SCRIPT_ARTIFACT_MAX_MB", 2048)
# Where script jobs keep their SageMaker-style folders (one per job, so a retried attempt finds its checkpoints).
SCRIPT_WORK_ROOT = Path(os.environ.get("STUDIO_SCRIPT_WORK_ROOT") or VAR_DIR / "training-scripts").resolve()
# Training: a checkpoint every this many boosting rounds or epochs (a killed worker resumes from the last one),
# and the threads one training job uses (a worker may run several jobs side by side).
TRAINING_CHECKPOINT_EVERY = env_int("STUDIO_TRAINING_CHECKPOINT_EVERY", 10)
TRAINING_THREADS = env_int("STUDIO_TRAINING_THREADS", max(1, (os.cpu_count() or 2) // 2))

# --- artifacts --------------------------------------------------------------------------------
ARTIFACT_ROOT = Path(os.environ.get("STUDIO_ARTIFACT_ROOT") or VAR_DIR / "artifacts").resolve()
CACHE_ROOT = Path(os.environ.get("STUDIO_CACHE_ROOT") or VAR_DIR / "cache").resolve()
UPLOAD_TMP_ROOT = VAR_DIR / "uploads"
S3_BUCKET = os.environ.get("STUDIO_S3_BUCKET", "")
S3_ENDPOINT_URL = os.environ.get("STUDIO_S3_ENDPOINT_URL", "") or None
S3_PREFIX = os.environ.get("STUDIO_S3_PREFIX", "artifacts/")
S3_REGION = os.environ.get("STUDIO_S3_REGION", "") or None
# Credentials come from the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables (boto3).

# --- uploads and parsing limits ---------------------------------------------------------------
MAX_UPLOAD_MB = env_int("STUDIO_MAX_UPLOAD_MB", 1024)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_DATASET_ROWS = env_int("STUDIO_MAX_DATASET_ROWS", 50_000_000)
MAX_DATASET_COLUMNS = env_int("STUDIO_MAX_DATASET_COLUMNS", 5_000)
MAX_CELL_CHARS = env_int("STUDIO_MAX_CELL_CHARS", 1_000_000)
MAX_DECOMPRESSION_RATIO = env_int("STUDIO_MAX_DECOMPRESSION_RATIO", 200)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The size cap first (it stops the body at MAX_UPLOAD_BYTES with a message), then Django's own handlers.
FILE_UPLOAD_HANDLERS = [
    "apps.datasets.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TMP_ROOT)
UPLOAD_TMP_ROOT.mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# --- import sources ---------------------------------------------------------------------------
# Directories whose files (and SQLite databases) may be imported by server path; empty turns that off.
IMPORT_PATHS = env_list("STUDIO_IMPORT_PATHS", [])
# Private or loopback database hosts SQL imports may reach; public addresses are always allowed.
SQL_ALLOWED_HOSTS = env_list("STUDIO_SQL_ALLOWED_HOSTS", [])
SQL_TIMEOUT_SECONDS = env_int("STUDIO_SQL_TIMEOUT_SECONDS", 300)
# S3-compatible storage to import s3://bucket/key objects from; empty bucket list = any bucket the keys can read.
IMPORT_S3_ENDPOINT_URL = os.environ.get("STUDIO_IMPORT_S3_ENDPOINT_URL", "") or None
IMPORT_S3_REGION = os.environ.get("STUDIO_IMPORT_S3_REGION", "") or None
IMPORT_S3_ACCESS_KEY_ID = os.environ.get("STUDIO_IMPORT_S3_ACCESS_KEY_ID", "")
IMPORT_S3_SECRET_ACCESS_KEY = os.environ.get("STUDIO_IMPORT_S3_SECRET_ACCESS_KEY", "")
IMPORT_S3_ENABLED = env_bool("STUDIO_IMPORT_S3", bool(IMPORT_S3_ENDPOINT_URL or IMPORT_S3_ACCESS_KEY_ID))
IMPORT_S3_BUCKETS = env_list("STUDIO_IMPORT_S3_BUCKETS", [])

# --- auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
LOGIN_FAILURE_LIMIT = env_int("STUDIO_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("STUDIO_LOGIN_FAILURE_WINDOW_SECONDS", 900)
LOGIN_FAILURE_IP_LIMIT = env_int("STUDIO_LOGIN_FAILURE_IP_LIMIT", 4 * LOGIN_FAILURE_LIMIT)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StudioPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("STUDIO_API_ANON_RATE", "60/min"),
        "user": os.environ.get("STUDIO_API_USER_RATE", "6000/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ML Studio API",
    "DESCRIPTION": "REST API of the ML studio. Authenticate with `Authorization: Token <key>` "
    "(create a key under Account → API tokens) or a browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Several models have a "status" or a "problem_type"; name each set so the schema's enums do not collide
    # (insights reports take supervised problem types only; training jobs take every problem type).
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "apps.core.models.JobStatus",
        "RunStatusEnum": "apps.experiments.models.RunStatus",
        "RunEndStatusEnum": ["FINISHED", "FAILED", "KILLED"],
        "InsightsProblemTypeEnum": "apps.insights.models.ProblemType",
        "TrainingProblemTypeEnum": "apps.training.models.ProblemType",
        "TrainingKindEnum": "apps.training.models.TrainingKind",
        "ModelApprovalStatusEnum": "apps.registry.models.ApprovalStatus",
        "ModelCardStatusEnum": "apps.registry.models.CardStatus",
        "ModelVersionSourceEnum": "apps.registry.models.VersionSource",
        "SourceEnum": "apps.experiments.models.RunSource",
    },
}

# --- security headers -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HTTPS = env_bool("STUDIO_HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("STUDIO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("STUDIO_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("STUDIO_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("STUDIO_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from static/ too, so a fresh checkout works before collectstatic.
WHITENOISE_USE_FINDERS = True

# --- logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("STUDIO_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

STUDIO_SITE_NAME = os.environ.get("STUDIO_SITE_NAME", "ML Studio")
