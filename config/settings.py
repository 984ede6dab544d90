"""Cardvote settings: everything comes from the environment, with defaults that let a fresh checkout run.

Names are the public contract in shared/README.md. A malformed value raises ImproperlyConfigured naming it.
"""

import datetime as dt
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue
from pythonjsonlogger.core import RESERVED_ATTRS as JSON_LOG_RESERVED_ATTRS

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state for the no-server mode: SQLite file, embedded broker folders, caches. Git-ignored.
VAR_DIR = Path(env_str("CARDVOTE_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "insecure-dev-key-set-DJANGO_SECRET_KEY-in-production"
# Key for the keyed hashes the opt-out list keeps of erased numbers (messaging/privacy.py). Keep it fixed.
OPT_OUT_HASH_KEY = env_str("OPT_OUT_HASH_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
# How Twilio reaches us. Webhook signatures are computed over this origin, not the Host header,
# so a TLS-terminating proxy in front of gunicorn does not break them.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://localhost:8000", schemes=("http", "https")).rstrip("/")
# Origins a form may be posted from, besides PUBLIC_BASE_URL (e.g. a second name for the site).
CSRF_TRUSTED_ORIGINS = list(dict.fromkeys([PUBLIC_BASE_URL, *env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])]))
# The site is served over HTTPS when its public address says so (production always sets PUBLIC_BASE_URL: Twilio
# signs against it). Then, unless DEBUG, cookies are Secure, HTTP is redirected, HSTS is sent and static files
# are hashed (see below). A checkout, the tests and gunicorn on 127.0.0.1 keep http:// and work over plain HTTP.
# `manage.py check --deploy` reports DEBUG off with an http:// PUBLIC_BASE_URL (config/checks.py).
SERVED_OVER_HTTPS = PUBLIC_BASE_URL.startswith("https://") and not DEBUG

INSTALLED_APPS = [
    "config.apps.CardvoteAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # personal API tokens, stored hashed (config/tokens.py)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "axes",  # login lockout (config/security.py)
    "csp",  # Content-Security-Policy header (settings below)
    "config",
    "messaging",
    "delegates",
    "lobbying",
    "volunteers",
    "dashboard",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Moves an active session's expiry forward (idle timeout) without a write on every request.
    "config.sessions.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The coordinator rule for every view, checked before CSRF's check reads a POST body (config/permissions.py).
    "config.permissions.CoordinatorRequiredMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Answers a locked-out login with the lockout page (axes wants to be last).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'cardvote.sqlite3'}"
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django understands: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    # Web, worker and beat share one file: wait for locks instead of failing, take the write lock
    # at BEGIN so two writers cannot deadlock, and let readers proceed during a write (WAL).
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    # django-redis, because a Redis outage must not fail a page: a cache error is logged and read as a miss
    # (IGNORE_EXCEPTIONS), with short timeouts so a request never waits long for an absent Redis.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "config.cache"
else:
    # Shared by every process on this machine, unlike LocMemCache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"
if not REDIS_URL:
    # The embedded broker: kombu's filesystem transport needs no server, so `make run` runs a real
    # worker and beat on a laptop. Correct for processes on one machine only.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # kombu's default is ./control, in the working directory (a git checkout): keep it under var/.
        "control_folder": str(_broker_dir / "control"),
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # A Redis outage must not hold up a request: publishing tries once (no reconnect loop, 1 s to connect)
    # and the caller moves on; the outbox sweeper re-queues what was not published. Workers reconnect with
    # their own retry settings (broker_connection_max_retries), unaffected by these.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "max_retries": 0}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/London"
CELERY_TASK_DEFAULT_QUEUE = "default"
# A task that loses its worker is redelivered, not dropped; a worker holds one message at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task cut off by a lost broker connection is safe to cancel: the outbox sweeper recovers its row.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_ROUTES = {"messaging.tasks.*": {"queue": "sms"}}
# Every queue the app routes to, declared: `celery -A config worker` with no -Q consumes all of them.
# Scaling out, a dedicated worker can still take one queue: `celery -A config worker -Q sms`.
CELERY_TASK_QUEUES = (Queue("default"), Queue("sms"))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    # Uploads a coordinator previewed but never confirmed or cancelled.
    "purge-stale-imports": {"task": "delegates.tasks.purge_stale_imports", "schedule": 15 * 60.0},
    # On the default queue, so that a backlog of texts on `sms` cannot hold up the sweeper that rescues them.
    "sweep-sms-outbox": {"task": "messaging.tasks.sweep_outbox", "schedule": 30.0, "options": {"queue": "default"}},
    # Scheduled briefings go out within this long of their time; sending ones become "sent" once settled.
    "send-due-briefings": {
        "task": "lobbying.tasks.send_due_briefings",
        "schedule": 20.0,
        "options": {"queue": "default"},
    },
}

# --- SMS ------------------------------------------------------------------------------------------
SMS_BACKEND = env_choice("SMS_BACKEND", "console", ("console", "locmem", "twilio"))
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_API_BASE_URL = env_url("TWILIO_API_BASE_URL", "https://api.twilio.com", schemes=("http", "https")).rstrip("/")
TWILIO_TIMEOUT_SECONDS = env_float("TWILIO_TIMEOUT_SECONDS", 10.0, minimum=0.1)
if SMS_BACKEND == "twilio":
    _missing = [n for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not globals()[n]]
    if not (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER):
        _missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
    if _missing:
        raise ImproperlyConfigured(f"SMS_BACKEND=twilio needs {', '.join(_missing)}.")
SMS_RATE_PER_SECOND = env_float("SMS_RATE_PER_SECOND", 1.0, minimum=0.01)
# Added to the rate limiter's window (messaging/ratelimit.py): room for how much the network's delay to Twilio
# varies (a text's window starts once its request has been written), so no second there holds more than
# SMS_RATE_PER_SECOND.
SMS_RATE_WINDOW_MARGIN_MS = env_int("SMS_RATE_WINDOW_MARGIN_MS", 20, minimum=0)
# Both Twilio webhooks together, all machines, counted in Redis: far above what Twilio sends, so its callbacks
# never pile up as retries; it only stops a flood. django-ratelimit's rate syntax (N/s, N/m).
TWILIO_WEBHOOK_RATE = env_str("TWILIO_WEBHOOK_RATE", "300/s")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", TWILIO_WEBHOOK_RATE):
    raise ImproperlyConfigured(f"TWILIO_WEBHOOK_RATE must look like 300/s or 6000/m, not {TWILIO_WEBHOOK_RATE!r}.")
SMS_PRICE_PER_SEGMENT = env_float("SMS_PRICE_PER_SEGMENT", 0.04, minimum=0)
# PECR: every marketing text names the sender and offers a free opt-out.
SMS_SENDER_NAME = env_str("SMS_SENDER_NAME", "Cardvote campaign")
# The public privacy notice (/privacy/), linked from every public form and a number's first campaign text.
PRIVACY_ORGANISATION_NAME = env_str("PRIVACY_ORGANISATION_NAME") or SMS_SENDER_NAME
PRIVACY_CONTACT = env_str("PRIVACY_CONTACT")  # an email address or postal address people write to
PRIVACY_RETENTION_DAYS = env_int("PRIVACY_RETENTION_DAYS", 90, minimum=1)  # after the conference ends

# --- Auth, API ------------------------------------------------------------------------------------
COORDINATORS_GROUP = "coordinators"
# Views public without login (by URL name), besides views marked @login_not_required (config/permissions.py).
# Everything else needs a coordinator: an active superuser, or an active staff user in the coordinators group.
PUBLIC_URL_NAMES = [
    "healthz",
    "twilio-inbound",
    "twilio-status",
    # Volunteers' sign-up pages, their own page by signed link, one-tap cover links.
    "volunteers:shift-list",
    "volunteers:shift-signup",
    "volunteers:my-shifts",
    "volunteers:my-shifts-ics",
    "volunteers:my-shift-cancel",
    "volunteers:my-shift-accept",
    "volunteers:cover",
    # A volunteer's lobbying assignment by signed, expiring, revocable link.
    "lobbying:volunteer-link",
    # The privacy notice: what we hold, why, for how long, and people's rights.
    "privacy:notice",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Password guessing: django-axes counts failed logins in the database (every process and machine sees them) and
# locks out an account, and separately a client address, after LOGIN_FAILURE_LIMIT failures for
# LOGIN_COOLOFF_MINUTES. /login/ and /admin/login/ both authenticate through its backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: an account from anywhere, or an address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_CLIENT_STR_CALLABLE = "config.security.axes_client_str"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password1", "new_password2"]
# Behind a proxy: the header it sets with the client's address (e.g. X-Forwarded-For, X-Real-IP). Unset: the
# connection's address. Never set it without a proxy that overwrites the header, or clients choose their address.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER")

# Personal API tokens: "Authorization: Token <key>", the key shown once, only its SHA-512 digest stored.
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(days=env_int("API_TOKEN_TTL_DAYS", 365, minimum=1)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.permissions.IsCoordinator"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.AuditedPagination",  # bulk downloads go to the access audit
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Per user (token or session) and per anonymous address, counted in the default cache (Redis when set).
    "DEFAULT_THROTTLE_CLASSES": ["config.security.UserThrottle", "config.security.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_RATE_USER", "600/minute"),
        "anon": env_str("API_RATE_ANON", "60/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cardvote API",
    "DESCRIPTION": (
        "Conference lobbying: organisations, delegates, motions, stances, volunteers, SMS. "
        'Authenticate with your personal token from <a href="/account/token/">/account/token/</a>: '
        "`Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["config.permissions.IsCoordinator"],
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, wherever a serializer uses it (e.g. a briefing's audience lists sections, regions).
    "ENUM_NAME_OVERRIDES": {
        "SectionEnum": "delegates.models.Section",
        "RegionEnum": "delegates.models.Region",
        "LevelEnum": "lobbying.models.Level",
    },
    # Swagger UI served by us, not a CDN: the venue's network is not to be relied on.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # 400/401/403/404/429 and their bodies declared for every operation in one place (config/api.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.declare_error_responses",
    ],
}

# Uploads: a delegate spreadsheet is a few hundred KB; anything far larger is a mistake.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
# Imports: a file with more rows is refused; one with more than IMPORT_BACKGROUND_ROWS is checked and
# imported by a Celery worker while the page shows its progress.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000, minimum=1)
IMPORT_BACKGROUND_ROWS = env_int("IMPORT_BACKGROUND_ROWS", 2_000, minimum=1)
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- i18n, static ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing folder before collectstatic has run
# In production (HTTPS, not DEBUG) file names carry a content hash, so browsers cache them for ever and a deploy
# never serves yesterday's CSS: run `manage.py collectstatic` on each web machine before gunicorn starts
# (Procfile.production does). A checkout and the tests need no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if SERVED_OVER_HTTPS
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# A file missing from the manifest is linked by its plain name (and logged) rather than failing the page with a 500.
WHITENOISE_MANIFEST_STRICT = False

# --- HTTPS, cookies, sessions, Content-Security-Policy ---------------------------------------------
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", SERVED_OVER_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", SERVED_OVER_HTTPS)
# Load balancers probe over plain HTTP on the machine's own address: /healthz answers without a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS: browsers refuse plain HTTP for this long. Lower it (e.g. 3600) while first trying HTTPS on a new name.
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if SERVED_OVER_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# Only behind a proxy that terminates TLS and always sets X-Forwarded-Proto: otherwise a client could claim HTTPS.
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sessions end after SESSION_IDLE_HOURS without a request (a borrowed laptop at the venue), however long the
# conference: config.sessions.IdleSessionMiddleware moves the expiry forward as the coordinator works.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# How often an active session's expiry is moved forward: one session write per this many seconds, not per request.
SESSION_REFRESH_SECONDS = 300

# Scripts, styles, images and fonts from our own origin only: no inline script or style (no 'unsafe-inline'),
# no CDN. Bar widths are classes (static/css/cardvote.css, config/templatetags/cardvote.py), not style="".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Swagger UI draws its icons from data: URIs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
# json: one JSON object a line (time, level, logger, message and any `extra` fields), for a log collector;
# plain: for a person at a terminal. Production (HTTPS, not DEBUG) defaults to json.
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if SERVED_OVER_HTTPS else "plain", ("json", "plain"))
# Logs carry ids and statuses, never names, numbers or message bodies (tests/config/test_personal_data_in_logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
            # Not Django's `request` extra: its repr carries the query string (search terms are personal data).
            "reserved_attrs": [*JSON_LOG_RESERVED_ATTRS, "request"],
        },
    },
    # Paths without query strings (search terms are personal data): every handler, runserver's included.
    "filters": {"strip_query": {"()": "config.logfilters.StripQueryStringFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["strip_query"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The twilio client logs query strings at INFO, and a Messages lookup carries the recipient's number.
        "twilio": {"level": "WARNING"},
        # Django's default handlers (its own "console", runserver's "django.server") would bypass the filter.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Volunteers (shifts, waitlist, reminders) -----------------------------------------------------
from volunteers.reminders import parse_ladder  # noqa: E402  (pure Python, no Django models)

# Reminder ladder: HH:MM = that time the evening before; Nm = N minutes before the start.
VOLUNTEER_REMINDERS = env_str("VOLUNTEER_REMINDERS", "18:00,60m")
VOLUNTEER_REMINDER_LADDER = parse_ladder(VOLUNTEER_REMINDERS)
VOLUNTEER_OFFER_MINUTES = env_int("VOLUNTEER_OFFER_MINUTES", 20, minimum=1)
VOLUNTEER_CANCEL_CUTOFF_MINUTES = env_int("VOLUNTEER_CANCEL_CUTOFF_MINUTES", 30, minimum=0)
VOLUNTEER_COVER_QUIET_HOURS = env_int("VOLUNTEER_COVER_QUIET_HOURS", 4, minimum=0)
VOLUNTEER_LINK_MAX_AGE_DAYS = env_int("VOLUNTEER_LINK_MAX_AGE_DAYS", 120, minimum=1)
# Public sign-up form, counted in the shared cache (Redis when configured): per IP and per mobile number.
VOLUNTEER_SIGNUP_RATE_PER_IP = env_str("VOLUNTEER_SIGNUP_RATE_PER_IP", "30/h")
VOLUNTEER_SIGNUP_RATE_PER_NUMBER = env_str("VOLUNTEER_SIGNUP_RATE_PER_NUMBER", "6/h")
CELERY_BEAT_SCHEDULE["volunteers-expire-offers"] = {
    "task": "volunteers.tasks.expire_offers",
    "schedule": 60.0,
    "options": {"queue": "default"},
}
# Data protection: anonymise conferences past their retention date, daily at 03:15 (privacy.retention).
CELERY_BEAT_SCHEDULE["privacy-retention"] = {
    "task": "privacy.tasks.apply_retention",
    "schedule": crontab(hour=3, minute=15),
    "options": {"queue": "default"},
}
# An erased person's opt-out (kept as a keyed hash) gets its number back once a record holds it again: every
# writer does this itself; this catches any that does not, within minutes (privacy.tasks.relink_opt_outs).
CELERY_BEAT_SCHEDULE["privacy-relink-opt-outs"] = {
    "task": "privacy.tasks.relink_opt_outs",
    "schedule": 5 * 60.0,
    "options": {"queue": "default"},
}
CELERY_BEAT_SCHEDULE["volunteers-send-reminders"] = {
    "task": "volunteers.tasks.send_due_reminders",
    "schedule": 60.0,
    "options": {"queue": "default"},
}
