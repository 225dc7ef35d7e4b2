"""Framescope settings. Every deploy-specific value comes from the environment (see README)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("FRAMESCOPE_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A per-installation key kept in the data dir: safe for the embedded default, never shared.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "annotator.common",
    "annotator.corpus",
    "annotator.projects",
    "annotator.annotations",
    "annotator.training",
    "annotator.scoring",
    "annotator.snapshots",
    "annotator.api",
    "annotator.ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "annotator.common.security.FramescopeCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "annotator.urls"
WSGI_APPLICATION = "annotator.wsgi.application"

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

SQLITE_PATH = DATA_DIR / "framescope.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; the test DB is a file
    # (not :memory:) so a real worker process can see what a test committed.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_framescope.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login protection (django-axes, annotator/common/login.py, docs/security.md): every login path, the admin's too.
AUTHENTICATION_BACKENDS = [
    "annotator.common.login.LoginAttemptBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))  # one username from one address
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))  # one address, any usernames
LOGIN_COOLOFF_MINUTES = float(os.environ.get("LOGIN_COOLOFF_MINUTES", "15"))
if min(LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT) < 1 or LOGIN_COOLOFF_MINUTES <= 0:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT and LOGIN_ADDRESS_FAILURE_LIMIT must be >= 1, LOGIN_COOLOFF_MINUTES > 0."
    )
AXES_HANDLER = "annotator.common.login.LoginCountersHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# axes compares its highest counter with this; LoginCountersHandler gives each counter its own limit.
AXES_FAILURE_LIMIT = max(LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = False  # the handler clears the username's counter only
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused attempt neither counts nor extends the cool-off
AXES_USERNAME_CALLABLE = "annotator.common.login.username_key"
AXES_LOCKOUT_CALLABLE = "annotator.common.login.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ui:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("FRAMESCOPE_MANIFEST_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
ARTEFACT_DIR = Path(os.environ.get("FRAMESCOPE_ARTEFACT_DIR", DATA_DIR / "artefacts"))

# Uploads: anything above the memory limit streams to a temporary file; the import limit is ours.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_UPLOAD_MAX_BYTES = int(os.environ.get("IMPORT_UPLOAD_MAX_BYTES", str(512 * 1024 * 1024)))
IMPORT_BATCH_SIZE = int(os.environ.get("IMPORT_BATCH_SIZE", "2000"))
# Decompressed-size cap for .gz inputs: a zip bomb stops here with a message instead of filling the disk.
IMPORT_MAX_DECOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_DECOMPRESSED_BYTES", str(8 * 1024**3)))
# Story clusters: Jaccard similarity of 3-word shingles above which two articles are copies of one story.
NEAR_DUP_THRESHOLD = float(os.environ.get("NEAR_DUP_THRESHOLD", "0.3"))

# Cache (login lockout counts, API throttling): shared between web processes. Default: files in the data dir;
# CACHE_URL=redis://host:6379/1 in production.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Sessions are read on every request: from the cache first (written through to the database, so none is lost).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Long jobs: scoring chunk size, and how long a job may go without a heartbeat before it counts as lost.
SCORING_CHUNK_SIZE = int(os.environ.get("SCORING_CHUNK_SIZE", "500"))
SCORING_STALE_SECONDS = int(os.environ.get("SCORING_STALE_SECONDS", "300"))
TRAINING_STALE_SECONDS = int(os.environ.get("TRAINING_STALE_SECONDS", "300"))
# Agreement jobs report no progress while computing: queued or running this long counts as stalled.
AGREEMENT_STALE_SECONDS = int(os.environ.get("AGREEMENT_STALE_SECONDS", "900"))
# A snapshot freeze reports each step (each score table); this long without one counts as lost.
SNAPSHOT_STALE_SECONDS = int(os.environ.get("SNAPSHOT_STALE_SECONDS", "900"))
# How often Celery beat runs the stale-job recovery (`-B` in `make run`, the `beat` service in compose).
STALE_JOB_RECOVERY_SECONDS = int(os.environ.get("STALE_JOB_RECOVERY_SECONDS", "300"))
if STALE_JOB_RECOVERY_SECONDS <= 0:
    raise ImproperlyConfigured(
        f"STALE_JOB_RECOVERY_SECONDS must be a positive number of seconds, not {STALE_JOB_RECOVERY_SECONDS}."
    )

# Celery. Default broker: kombu's filesystem transport in the data dir, so a real worker runs
# without a server; set CELERY_BROKER_URL=redis://… in production.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default, also between two tasks when the worker is at its prefetch
        # limit: a run of many short chunks (scoring) waited up to a second per chunk. A listing of the queue folder
        # takes microseconds, so ten a second cost an idle worker nothing measurable.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "annotator.corpus.tasks.*": {"queue": "imports"},
    "annotator.training.tasks.*": {"queue": "training"},
    "annotator.scoring.tasks.*": {"queue": "scoring"},
}
CELERY_QUEUES_ALL = "default,imports,training,scoring"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "recover-stale-jobs": {
        "task": "annotator.common.tasks.stale_jobs_recover_task",
        "schedule": STALE_JOB_RECOVERY_SECONDS,
        # A tick that waited longer than one interval (no worker running) is dropped, not piled up.
        "options": {"expires": STALE_JOB_RECOVERY_SECONDS},
    }
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SYNC_EVERY = 1  # the schedule file is rewritten after every tick sent: its age is beat's healthcheck
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "annotator.api.authentication.HashedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "annotator.api.schema.FramescopeAutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "annotator.api.renderers.CSVRenderer",
        "annotator.api.renderers.JSONLinesRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "annotator.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "annotator.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "annotator.api.exception_handlers.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "expensive": os.environ.get("API_THROTTLE_EXPENSIVE", "120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Framescope API",
    "DESCRIPTION": "Corpus, annotations, lexicon models and framing scores for media framing research.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets come from the installed sidecar package (static files), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security: strict by default in production (DEBUG off); the embedded dev server runs over http.
SECURE_SSL = env_bool("SECURE_SSL", False)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE_SSL else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# The client address the login counters use: REMOTE_ADDR, or behind a reverse proxy the address it appended to
# X-Forwarded-For (django-ipware). PROXY_HOPS: how many proxies in front of the app each append one address; the
# client is that many entries from the right. Entries a client wrote itself further left are ignored.
PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "1"))
if BEHIND_PROXY and PROXY_HOPS < 1:
    raise ImproperlyConfigured("PROXY_HOPS must be 1 or more with BEHIND_PROXY (one per reverse proxy).")
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if BEHIND_PROXY else ("REMOTE_ADDR",)
AXES_IPWARE_PROXY_COUNT = PROXY_HOPS - 1 if BEHIND_PROXY else None
IPWARE_STRICT = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content Security Policy (django-csp): same-origin only, inline scripts need the request's nonce.
from annotator.common.security import CONTENT_SECURITY_POLICY  # noqa: E402,F401

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
