"""Settings for gis_ioc, read from environment variables through typed helpers (gis_ioc.lib.env)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from gis_ioc.lib.env import (
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_path,
    env_str,
    local_database_url,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
# The key comes from SECRET_KEY, or from .ioc/secret_key, which `make db` fills with random bytes for
# this checkout. With DEBUG off and neither present the platform refuses to start: signing sessions
# with a key published in the repository would be worse than not starting.
_secret_file = Path(env_str("IOC_SECRET_FILE", str(BASE_DIR / ".ioc" / "secret_key")))
SECRET_KEY = env_str("SECRET_KEY") or (_secret_file.read_text().strip() if _secret_file.is_file() else "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "debug-only-insecure-key-" + "x" * 32
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set and DEBUG is off: set SECRET_KEY to a long random value (or run `make db`, "
        "which writes .ioc/secret_key for a development checkout)."
    )
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
if not DEBUG and any(marker in SECRET_KEY.lower() for marker in ("insecure", "change-me", "changeme", "example")):
    raise ImproperlyConfigured("SECRET_KEY looks like a placeholder and DEBUG is off: set a long random value.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "axes",  # login throttling (see AXES_* below)
    "csp",
    "gis_ioc",
    "layers",
    "tiles",
    "petitions",
    "analysis",
    "dashboard",
    "live",
    "alerts",
    "sensors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gis_ioc.replica.ReplicaMiddleware",  # GET/HEAD of the read-only channels may read the replica
    "csp.middleware.CSPMiddleware",
    "gis_ioc.uploads.UploadCapMiddleware",  # before anything reads the body (CSRF parses uploads)
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gis_ioc.middleware.LanguageMiddleware",  # Vietnamese unless switched (not Accept-Language)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The one sign-in: the session above, or an API token (`Authorization: Token`, or HTTP Basic with the
    # user name and a token) for every channel; a bad token is a 401 here (gis_ioc/accounts.py).
    "gis_ioc.middleware.SignInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gis_ioc.shell.MethodNotAllowedMiddleware",  # a bare 405 gets a message naming the accepted methods
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the 429 page
]

ROOT_URLCONF = "gis_ioc.urls"
WSGI_APPLICATION = "gis_ioc.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gis_ioc.shell.context",  # the one shell's menu and who is signed in
            ],
        },
    },
]

# A refused CSRF check is drawn like every other error: in the shell, in the user's language.
CSRF_FAILURE_VIEW = "gis_ioc.shell.csrf_failure"

_database_url = os.environ.get("DATABASE_URL") or local_database_url(BASE_DIR)
if not _database_url:
    raise ImproperlyConfigured(
        "No database: set DATABASE_URL=postgresql://user:pw@host:port/db, or start the project's own "
        "cluster with `make db`."
    )
DATABASES = {"default": parse_database_url(_database_url)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
# A kept connection is checked (one cheap round trip) at the first query of each request: after a
# PostgreSQL restart the old socket is dead, and without the check every process would answer its next
# request with a 500 before reconnecting.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Several agents/CI jobs may share one cluster; each can name its own test database.
DATABASES["default"]["TEST"] = {"NAME": env_str("IOC_TEST_DB_NAME", "test_gis_ioc")}
# A streaming replica for the read-only channels (gis_ioc/replica.py, docs/scaling.md): `scripts/ioc-db
# start-replica` writes its URL; `make demo REPLICA=1` passes it here. Never migrated, never written.
if env_str("IOC_REPLICA_URL", ""):
    DATABASES["replica"] = parse_database_url(env_str("IOC_REPLICA_URL", ""))
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # a test run creates no second test database
DATABASE_ROUTERS = ["gis_ioc.replica.ReplicaRouter"]  # sends reads to "default" while no replica is set
# A replica further behind than this (seconds) is bypassed: its reads go to the primary.
IOC_REPLICA_MAX_LAG = env_int("IOC_REPLICA_MAX_LAG", 5, minimum=0)

# GDAL 3.6 (Debian 12) cannot block file/network access from crafted spatial references; uploads are
# checked before GDAL opens them (layers/importers), so the warning is acknowledged, not ignored.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A session's user comes with commune scope and role names in one query (gis_ioc/accounts.py).
# axes first: it refuses a locked-out user or client before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "gis_ioc.accounts.ScopedModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Vietnamese first: the district's staff and citizens read Vietnamese; English is a switch away.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_root"
STATICFILES_DIRS = [BASE_DIR / "static"]  # static/vendor/ is filled from npm by scripts/vendor-assets
# Private files: import uploads and their work folders, COGs, petition photos and every tile cache
# (tiles/conf.py). No URL serves this folder: there is no /media/ route (and a proxy must not add one);
# files leave it only through views that check the policy. Django's file storage writes here, so the code
# reads it as MEDIA_ROOT; MEDIA_URL stays unset. `MEDIA_ROOT` in the environment (the former name) is read
# when IOC_DATA_ROOT is not set.
MEDIA_ROOT = env_path(
    "IOC_DATA_ROOT",
    Path(env_str("MEDIA_ROOT", "") or BASE_DIR / "data"),
    outside=[STATIC_ROOT, *STATICFILES_DIRS],
)

# The site's own sign-in page (dashboard): leaders and officers are not Django staff, the admin's would refuse them.
LOGIN_URL = "/login/"
# gunicorn serves static files itself only for `make demo`; production puts nginx in front.
IOC_SERVE_STATIC = env_bool("IOC_SERVE_STATIC", False)
LOGIN_REDIRECT_URL = "/"
# HTTP Basic with the user name and an API token (QGIS). Turn it off when a reverse proxy in front of the
# platform asks for its own Basic password: its header would otherwise be read as a wrong token (401).
IOC_API_BASIC_AUTH = env_bool("IOC_API_BASIC_AUTH", True)

REST_FRAMEWORK = {
    # DRF reads what SignInMiddleware decided (session with CSRF, or an API token): one sign-in for every
    # channel, and an anonymous write is answered 401 + WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": ["layers.api.auth.SignInAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gis_ioc API",
    "DESCRIPTION": "REST API of the district Intelligent Operations Center",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Redoc from static/vendor/redoc (scripts/vendor-assets: the sidecar's bundle without its CDN logo).
    "REDOC_DIST": STATIC_URL + "vendor/redoc",
    # Schema warnings belong to `manage.py spectacular --validate` (the API's tests), not to the
    # deployment check, which should speak only of how the server is deployed.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# The district the platform serves: its GSO district code and the CRS of its cadastral maps.
IOC_DISTRICT_CODE = env_str("IOC_DISTRICT_CODE", "677")
IOC_PROVINCE_CODE = env_str("IOC_PROVINCE_CODE", "68")
IOC_LOCAL_SRID = env_int("IOC_LOCAL_SRID", 5899)  # VN-2000 / TM-3 107-45, Lâm Đồng's cadastral zone

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Imports (layers/importers): upload size limit and caps that stop zip bombs before they fill the disk.
IOC_IMPORT_MAX_BYTES = env_int("IOC_IMPORT_MAX_MB", 500, minimum=1) * 1024 * 1024
IOC_IMPORT_ZIP_MAX_BYTES = env_int("IOC_IMPORT_ZIP_MAX_MB", 4096, minimum=1) * 1024 * 1024
IOC_IMPORT_ZIP_MAX_ENTRIES = env_int("IOC_IMPORT_ZIP_MAX_ENTRIES", 1000, minimum=1)
IOC_IMPORT_ZIP_MAX_RATIO = env_int("IOC_IMPORT_ZIP_MAX_RATIO", 200, minimum=2)

# Live events (live/): kept this long for browsers that resume after a drop (older: told to reload), and the
# stream's address for the browser when it is served apart from the pages (scripts/ioc-run and compose run
# uvicorn on IOC_LIVE_PORT; a reverse proxy that routes /live/ to it on the pages' origin leaves this 0).
IOC_LIVE_RETENTION_HOURS = env_int("IOC_LIVE_RETENTION_HOURS", 24, minimum=1)
IOC_LIVE_PORT = env_int("IOC_LIVE_PORT", 0, minimum=0, maximum=65535)

# Alerts (alerts/): notifications by e-mail (Django's SMTP backend) and signed webhooks, sent by jobs.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "canhbao@localhost")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one")
IOC_SITE_URL = env_str("IOC_SITE_URL", "").rstrip("/")  # links in e-mails and webhooks (empty: relative)
IOC_WEBHOOK_TIMEOUT_SECONDS = env_int("IOC_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1, maximum=120)
IOC_ALERT_MAX_ATTEMPTS = env_int("IOC_ALERT_MAX_ATTEMPTS", 6, minimum=1, maximum=50)
IOC_ALERT_RETRY_SECONDS = env_int("IOC_ALERT_RETRY_SECONDS", 30, minimum=0)

# --- Abuse and transport security (issue 14) ---------------------------------------------------------------
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks); empty: REMOTE_ADDR only.
# gis_ioc.lib.client_ip reads it for every rate limit and for login throttling.
IOC_TRUSTED_PROXIES = env_networks("IOC_TRUSTED_PROXIES", [])
if "PETITIONS_TRUST_X_FORWARDED_FOR" in os.environ:  # the former switch, which trusted any sender
    raise ImproperlyConfigured(
        "PETITIONS_TRUST_X_FORWARDED_FOR is replaced by IOC_TRUSTED_PROXIES: list the reverse proxy's "
        "addresses, e.g. IOC_TRUSTED_PROXIES=10.0.0.0/8."
    )

# Login throttling on every sign-in page (/login/, /admin/login/, /field/login/): django-axes locks the
# username and, separately, the client address after IOC_LOGIN_FAILURE_LIMIT failures, for
# IOC_LOGIN_LOCKOUT_MINUTES; administrators unlock in the admin (Axes → Access attempts → delete).
AXES_FAILURE_LIMIT = env_int("IOC_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("IOC_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "gis_ioc.lib.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gis_ioc.lockout.locked_out"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # failed attempts are what the lock needs; no log of every sign-in

# Content-Security-Policy on every page: scripts only from this host or inline with the request's nonce;
# MapLibre runs its workers from blob: URLs; styles allow inline attributes (templates and Swagger use them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "child-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # no page of the platform is meant to be framed

# Behind TLS (IOC_HTTPS=1): HSTS (preload-ready; submitting the domain is the owner's decision), secure
# cookies, plain-HTTP requests redirected (except what is fetched from inside), and the proxy's
# X-Forwarded-Proto believed: the proxy must set it, overwriting any value the client sent.
IOC_HTTPS = env_bool("IOC_HTTPS", False)
if IOC_HTTPS:
    SECURE_HSTS_SECONDS = env_int("IOC_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("IOC_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("IOC_HSTS_PRELOAD", True)
    SECURE_SSL_REDIRECT = env_bool("IOC_SSL_REDIRECT", True)
    # /healthz is probed and /tiles/raster/ fetched by MapProxy (IOC_MAPPROXY_UPSTREAM) from inside, over HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^tiles/raster/"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

# Request bodies (gis_ioc/uploads.py refuses a larger declared body with a 413 before it is read): JSON and
# form fields up to IOC_FORM_MAX_MB; multipart uploads up to each door's cap (imports IOC_IMPORT_MAX_MB,
# rasters IOC_RASTER_UPLOAD_MAX_MB, photos PETITIONS_*), else IOC_REQUEST_MAX_MB. Files above
# FILE_UPLOAD_MAX_MEMORY_SIZE are spooled to a temporary file instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("IOC_FORM_MAX_MB", 10, minimum=1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IOC_REQUEST_MAX_BYTES = env_int("IOC_REQUEST_MAX_MB", 32, minimum=1) * 1024 * 1024
IOC_RASTER_UPLOAD_MAX_BYTES = env_int("IOC_RASTER_UPLOAD_MAX_MB", 1024, minimum=1) * 1024 * 1024

# PDF reports: Chromium runs at most once per input (cached by inputs + data version) and at most
# IOC_REPORT_PDF_PER_MINUTE new renderings per client.
IOC_REPORT_PDF_PER_MINUTE = env_int("IOC_REPORT_PDF_PER_MINUTE", 6, minimum=1)
