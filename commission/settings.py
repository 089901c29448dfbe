"""Settings, all read from the environment (the only settings module).

With no variable set this is the embedded default: SQLite and a Celery broker
on the filesystem under ``var/``, a file-based cache, so that ``make demo``
needs nothing but Python. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis. Every variable is listed in ``docker/.env.example``.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Everything the embedded default writes (database, queue, cache, published
# results) lives under one folder, so one `rm -rf var` resets a demo.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "embedded-default-not-secret"  # only ever with DEBUG on

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # The second factor of members and administrators: TOTP authenticators,
    # recovery codes (tabulation/services/accounts.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tabulation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, but the API answers in the client's Accept-Language.
    "commission.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session proved the second factor?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session idle for IDLE_TIMEOUT_MINUTES ends; every 403 to a signed-in
    # user is audited; staff pages need the second factor
    # (tabulation/middleware.py).
    "tabulation.middleware.IdleTimeoutMiddleware",
    "tabulation.middleware.RefusalAuditMiddleware",
    "tabulation.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "commission.urls"
WSGI_APPLICATION = "commission.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write to one file: WAL lets readers go on
    # while one writes, IMMEDIATE takes the write lock at BEGIN so two writers
    # queue on the timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so that a worker process started by a test sees
    # the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery and the cache --------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # django-redis, not Django's own Redis backend: Django's builds a new
    # redis.Redis for every cache call (about 0.3 ms with redis-py 8, a third
    # of a worker's time on the public read path, where the throttle reads
    # and writes a counter per request), and offers no public way to choose
    # the client. django-redis keeps one client per server and increments in
    # one round trip. The throttle's calls for one request (an increment and
    # a read), on a busy 2-core machine: 460-520 µs with django-redis,
    # 630-930 with the subclass of Django's backend that reused its client
    # (it overrode private attributes), 1,130-1,680 with Django's as it is.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    # kombu's filesystem transport: a real broker that needs no server, so a
    # real worker process runs the tasks in the embedded default too.
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    # The transport and the result backend expect their folders to exist.
    for _folder in ("queue", "processed", "control", "results"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Election-night settings: a task is acknowledged only after it finished, so
# a worker that dies mid-task leaves it on the queue for another worker.
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Objections may be filed for 72 hours after the provisional results (RULES.md
# section 5). Only a demo may shorten the window, so that a training night
# can end in certification; with DEBUG off the law's 72 hours always hold.
OBJECTION_WINDOW_MINUTES = 72 * 60
if env.str("DEMO_OBJECTION_WINDOW_MINUTES", default=""):
    if not DEBUG:
        raise ImproperlyConfigured("DEMO_OBJECTION_WINDOW_MINUTES is for the demo only (DEBUG on).")
    OBJECTION_WINDOW_MINUTES = env.int("DEMO_OBJECTION_WINDOW_MINUTES")

CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/Belgrade"
if REDIS_URL:
    # Redis redelivers an unacknowledged task after the visibility timeout: it
    # must be longer than the hard time limit, or a slow task would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 4}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Tests start workers on a queue of their own; production keeps the default.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# django-axes first: it refuses a locked-out login before the password is
# even checked. LockoutBackend is axes' backend that lets the test client's
# login() through (it has no request, so no address to lock).
AUTHENTICATION_BACKENDS = [
    "tabulation.signals.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "home"
# A signed-in session with no request for this long ends (a clerk's laptop
# left open at the polling station); the next page asks for the password.
IDLE_TIMEOUT_MINUTES = env.int("IDLE_TIMEOUT_MINUTES", default=30)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Izborna komisija")
LOGOUT_REDIRECT_URL = "home"

# Which client an address is. Without a proxy, REMOTE_ADDR: what a client
# writes in X-Forwarded-For is its own say-so. Behind a reverse proxy, name
# the one header that proxy sets (e.g. X-Forwarded-For): the address the proxy
# appended last is used, never the leftmost ones a client may have sent.
_proxy_header = env.str("TRUSTED_PROXY_HEADER", default="").strip().upper().replace("-", "_")
TRUSTED_PROXY_HEADER = (
    _proxy_header
    if not _proxy_header or _proxy_header.startswith("HTTP_")
    else f"HTTP_{_proxy_header}"
)

# Login lockout (django-axes): five failed logins lock that account from that
# address for 15 minutes. By the pair, not the address alone, so that a
# commission behind one address is not locked out by one forgetful clerk, and
# not the account alone, so that no one can lock a member out from elsewhere.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The client's address as the throttle counts it (TRUSTED_PROXY_HEADER; an
# IPv6 client by its /64).
AXES_CLIENT_IP_CALLABLE = "tabulation.api.results.client_network"

# --- Languages: Serbian Latin (default), Serbian Cyrillic, English ------------
# Django's code for Serbian Cyrillic is plain "sr"; its Latin is "sr-latn".
LANGUAGE_CODE = "sr-latn"
LANGUAGES = [
    ("sr-latn", _("Serbian (Latin)")),
    ("sr", _("Serbian (Cyrillic)")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "tabulation" / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Belgrade"
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Published results (static JSON and CSV) that any web server or CDN can serve.
PUBLISH_DIR = Path(env.str("PUBLISH_DIR", default=str(VAR_DIR / "published")))
# The public pages rendered as files beside the JSON, for nginx to serve
# (services/site_pages.py). Django renders the same pages itself when they
# are absent, so turning this off loses nothing but the files; the suite
# turns it off except in the tests of the files (tests/conftest.py), as
# rendering three languages on every publish would double its time.
PUBLISH_SITE_PAGES = env.bool("PUBLISH_SITE_PAGES", default=True)

# Scans of the paper records and observers' photos (docs/observers.md): on
# the filesystem under VAR_DIR, or in S3-compatible object storage when a
# bucket is named (django-storages, imported only then).
SCANS_S3_BUCKET = env.str("SCANS_S3_BUCKET", default="")
if SCANS_S3_BUCKET:
    STORAGES["scans"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SCANS_S3_BUCKET,
            "endpoint_url": env.str("SCANS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("SCANS_S3_REGION", default="") or None,
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    STORAGES["scans"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "scans"), "base_url": None},
    }
# An upload larger than this is refused before it is read whole; an image
# with more pixels than this is refused before it is decoded.
SCAN_MAX_BYTES = env.int("SCAN_MAX_BYTES", default=15 * 1024 * 1024)
SCAN_MAX_PIXELS = env.int("SCAN_MAX_PIXELS", default=40_000_000)

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # JSON only, at most 64 KB and 32 levels deep; a refused body answers in
    # the API's error shape, Django's RequestDataTooBig too (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["tabulation.api.parsers.JSONBodyParser"],
    "EXCEPTION_HANDLER": "tabulation.api.parsers.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Election results API",
    "DESCRIPTION": "Read API for published results and entry API for polling-station records.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's scripts come from the installed sidecar package, not a
    # CDN: the page works on a closed network and on election night.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Security when served for real -----------------------------------------------
# Content-Security-Policy (django-csp): scripts, styles and images from this
# site only, no inline script or style, no plugins, never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
    # The API's docs page (ReDoc, drf-spectacular) styles itself with inline
    # styles and does not render at all under this policy. It shows only our
    # own schema; until that one view gets a policy of its own, it goes without.
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs/"],
}
SESSION_COOKIE_HTTPONLY = True

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The compose health check asks over plain HTTP from inside the container.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is a promise to browsers that is slow to take back, made for
    # the whole domain: only when the operator asks for it. Django warns
    # (W021) whenever it is off; off is the decision here, not an oversight.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# The HMAC key of the audit chain (docs/audit.md). It lives outside the
# database, so whoever can write the tables still cannot rewrite the trail.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")
if not AUDIT_HMAC_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DEBUG is off.")
    AUDIT_HMAC_KEY = "embedded-default-audit-key-not-secret"  # only ever with DEBUG on

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every login at INFO; failures and lockouts (WARNING)
    # stay, and the audit trail has them all.
    "loggers": {"axes": {"level": "WARNING"}},
}
