"""Aftercare settings: everything that differs between machines comes from the environment.

Production is the default: ``DEBUG`` is off unless set, and the secrets must be provided.
``make run``/``make dev`` set ``DEBUG=1`` and a per-install ``SECRET_KEY`` (generated under
var/) themselves; with no other variable that is the embedded setup: SQLite under var/, a
SQLite-backed Celery broker, console SMS. Importing this module reads the environment and
nothing else (no files, no folders created: see ClinicConfig.ready and the Makefile).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from clinic.broker import sqlite_broker
from clinic.env import (
    env_bool,
    env_database,
    env_float,
    env_int,
    env_list,
    env_str,
    env_time_range,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("AFTERCARE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0")
    raise ImproperlyConfigured(
        "SECRET_KEY must be set (make run and make dev generate one in var/secret-key)"
    )
elif not DEBUG and (
    SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY is insecure: use at least 50 random characters (not 'django-insecure…')"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies in front of the app that append to X-Forwarded-For (0 = none: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "clinic",
    "bookings",
    "payments",
    "records",
    "reminders",
    "waitlist",
    "workspace",
]

MIDDLEWARE = [
    "clinic.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "clinic.http.request_guard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, making the message storage only for requests that use it (clinic.middleware).
    "clinic.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

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
                "clinic.context_processors.branding",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", str(VAR_DIR / "aftercare.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Treatment photos are health data: never under a public URL. They are served only through
# short-lived signed links that the workspace checks and audits (records.services.photos), which
# stream the file from this storage. Local files under var/ by default; PHOTO_STORAGE=s3 keeps
# them in a private S3-compatible bucket through django-storages (credentials as boto3 reads
# them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or the instance role).
PHOTO_STORAGE = env_str("PHOTO_STORAGE", "local")
if PHOTO_STORAGE == "local":
    _photo_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("PHOTO_ROOT", str(VAR_DIR / "photos")),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
elif PHOTO_STORAGE == "s3":
    _photo_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("PHOTO_S3_BUCKET"),
            "endpoint_url": env_str("PHOTO_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("PHOTO_S3_REGION", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured(f"PHOTO_STORAGE must be local or s3, got {PHOTO_STORAGE!r}")
# How long a signed photo link works, and the largest upload accepted.
PHOTO_URL_MAX_AGE_SECONDS = env_int("PHOTO_URL_MAX_AGE_SECONDS", 300, minimum=1)
PHOTO_MAX_UPLOAD_BYTES = env_int("PHOTO_MAX_UPLOAD_BYTES", 15 * 1024 * 1024, minimum=1024)

# Production serves hashed, compressed copies made by `collectstatic` (far-future cache
# headers from whitenoise); development serves the files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "photos": _photo_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "staff-login"
LOGIN_REDIRECT_URL = "staff-calendar"

# Security: strict defaults in production, relaxed for local HTTP.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the cookie-less hidden input; kept default
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and Prometheus probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REFERRER_POLICY = "same-origin"

# Failed staff logins: lockouts after repeated failures (what is counted: see the security block).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_LOCKOUT_TEMPLATE = "workspace/locked_out.html"

# Cache: Redis when configured (shared by web and workers), else local memory.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        # Django's backend, reusing one redis-py client per connection pool (clinic.cache).
        "default": {"BACKEND": "clinic.cache.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Reminder rules stay loaded in each process for at most this long; any rule change reloads
# them at once through a generation token in the cache (reminders.rulebook). 0: load per plan.
# Without Redis the cache is per process, so a change made in one process would reach the
# others only after this long: there the rules are loaded per plan.
# Whole answers of GET /api/v1/availability are kept this long in the shared cache; every
# calendar change retires them at once (bookings.availability.answers), the lifetime bounds
# what the clock changes (a hold expiring, the minimum lead time). 0: compute every answer.
AVAILABILITY_CACHE_SECONDS = env_int("AVAILABILITY_CACHE_SECONDS", 5 if REDIS_URL else 0, minimum=0)
# Each process also keeps copies of the answers it has read, up to this many bytes, and gives
# one out only under the same current generations (read from Redis for every request): a
# month's answer then need not cross from Redis again. 0: read every answer from Redis.
AVAILABILITY_PROCESS_CACHE_BYTES = env_int(
    "AVAILABILITY_PROCESS_CACHE_BYTES", 16 * 1024 * 1024, minimum=0
)
REMINDER_RULES_CACHE_SECONDS = env_int(
    "REMINDER_RULES_CACHE_SECONDS", 60 if REDIS_URL else 0, minimum=0
)

# Celery: Redis when REDIS_URL is set; otherwise kombu's SQLAlchemy transport on its own SQLite
# file under var/ (WAL, a busy timeout and BEGIN IMMEDIATE reads, see clinic.broker), so a real
# worker, beat and the web process can all write to the queue at once with no server at all.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = sqlite_broker(
        str(VAR_DIR / "celery-broker.sqlite3")
    )
CELERY_RESULT_BACKEND = REDIS_URL or None
# Every publish builds a result handle, and with a backend per thread each web thread's first
# publish loaded the backend's class again (~30 ms of scanning installed packages). Redis's
# client is safe to share between threads.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Keep the log lines of clinic.logging in workers too (Celery would install its own format).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What tasks print (the console email backend in development) is information, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A commit that plans something due now nudges the dispatcher; each process sends at most one
# nudge per this many milliseconds, and no due row waits longer than that for one (a nudge still
# pending covers later commits; reminders.services.nudge). 0: one nudge per commit.
DISPATCH_NUDGE_INTERVAL_MS = env_int("DISPATCH_NUDGE_INTERVAL_MS", 250, minimum=0)
# Every periodic task, in one place. Sweeps make each outbox safe against lost nudges (e.g. a
# flushed Redis); "expires" drops a run that waited longer than its period.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "release-expired-holds": {"task": "bookings.release_expired_holds", "schedule": 60.0},
    "bookings.release-tentative-treatments": {
        "task": "bookings.tentative_holds_release_due",
        "schedule": 300.0,
    },
    "bookings.delete-old-verifications": {
        "task": "bookings.verifications_delete_old",
        "schedule": 3600.0,
    },
    "payments.abandon-expired-deposits": {
        "task": "payments.abandon_expired_deposits",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Our payment rows against Stripe's records; mismatches are shown to managers.
    "payments.reconcile": {"task": "payments.reconcile", "schedule": 24 * 3600.0},
    # Data protection: clinical records, sessions and texts past their retention period.
    "bookings.retention": {"task": "bookings.retention_enforce", "schedule": 24 * 3600.0},
    "reminders-messages-retention": {
        "task": "reminders.messages_retention_enforce",
        "schedule": 24 * 3600.0,
    },
    # Finds due rows even if every nudge was lost.
    "reminders-dispatch-sweep": {
        "task": "reminders.dispatch_due_messages",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
    # Resolves rows a dead worker left ``sending``.
    "reminders-reconcile": {
        "task": "reminders.reconcile_sending_messages",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Waitlist offers whose time is up move to the next client even if their ETA task was lost.
    "waitlist-offers-sweep": {
        "task": "waitlist.offers_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "waitlist-entries-expire": {"task": "waitlist.entries_expire", "schedule": 3600.0},
    # Staff alerts whose task was lost or whose email failed.
    "reminders-staff-alerts-sweep": {
        "task": "reminders.send_unsent_staff_alerts",
        "schedule": 120.0,
        "options": {"expires": 120.0},
    },
}
if not REDIS_URL:
    # The SQLite broker keeps every delivered message; drop them once they are an hour old.
    CELERY_BEAT_SCHEDULE["clinic-prune-embedded-broker"] = {
        "task": "clinic.prune_embedded_broker",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    }

# Email: alerts to staff (urgent aftercare replies, health changed before a visit) and the
# outbox's email channel to clients (confirmations, the care-page link, care texts that could not
# reach the phone). Printed to the console in development; sent by SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "alerts@localhost")
CLIENT_FROM_EMAIL = env_str("CLIENT_FROM_EMAIL", "") or DEFAULT_FROM_EMAIL

# SMS: printed in development. A production server must say how it sends, so that it never
# prints verification codes to a log instead of texting them.
SMS_BACKEND = env_str("SMS_BACKEND", "console" if DEBUG else "")
if not DEBUG and SMS_BACKEND in {"", "console"}:
    raise ImproperlyConfigured(
        "SMS_BACKEND must be set to twilio when DEBUG=0 (console prints codes to the log)"
    )
if SMS_BACKEND not in {"twilio", "console", "locmem"}:
    raise ImproperlyConfigured(
        f"SMS_BACKEND must be twilio, console or locmem, got {SMS_BACKEND!r}"
    )
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").rstrip("/")
TWILIO_TIMEOUT_SECONDS = env_float("TWILIO_TIMEOUT_SECONDS", 10.0, minimum=0.1)
TWILIO_VALIDITY_PERIOD_SECONDS = env_int("TWILIO_VALIDITY_PERIOD_SECONDS", 4 * 3600, minimum=1)
if SMS_BACKEND == "twilio":
    for _name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        if not globals()[_name]:
            raise ImproperlyConfigured(f"{_name} must be set when SMS_BACKEND=twilio")
    if not (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER):
        raise ImproperlyConfigured(
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER must be set when SMS_BACKEND=twilio"
        )
SMS_RATE_PER_SECOND = env_float("SMS_RATE_PER_SECOND", 10.0, minimum=0)  # 0 = unthrottled
QUIET_HOURS = env_time_range("QUIET_HOURS", "21:00-08:00")
# How long a dispatcher owns a claimed outbox row before reconciliation may look at it.
SMS_CLAIM_LEASE_SECONDS = env_int("SMS_CLAIM_LEASE_SECONDS", 120, minimum=5)
# Threads per worker process that hand a claimed batch to the provider (PostgreSQL only).
SMS_SEND_THREADS = env_int("SMS_SEND_THREADS", 4, minimum=1)

# Booking policy defaults (per-clinic values live on Location/Service rows).
SLOT_HOLD_MINUTES = env_int("SLOT_HOLD_MINUTES", 10, minimum=1)
# Payments (Stripe). Without STRIPE_SECRET_KEY payments are off: deposits are shown, not taken,
# and the booking site says so. STRIPE_API_BASE points the official library at another server
# (localstripe in tests and `make run`); Stripe.js then comes from that server too.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "").rstrip("/")
STRIPE_TIMEOUT_SECONDS = env_float("STRIPE_TIMEOUT_SECONDS", 10.0, minimum=0.1)
STRIPE_JS_URL = (
    f"{STRIPE_API_BASE}/js.stripe.com/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/"
)
STRIPE_JS_ORIGIN = STRIPE_API_BASE or "https://js.stripe.com"
STRIPE_API_ORIGIN = STRIPE_API_BASE or "https://api.stripe.com"
if STRIPE_SECRET_KEY and not (STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY is set: STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET are needed too"
    )
# Paying extends a hold once, to this many minutes from the start of payment.
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 15, minimum=1)
# Hours before a tentative treatment by which its consultation must have cleared it; after
# that the held slot is released (bookings.tentative_holds_release_due).
CLEARANCE_MARGIN_HOURS = env_int("CLEARANCE_MARGIN_HOURS", 12, minimum=0)

# /metrics: with a token, only requests carrying it; without one, only from this machine.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# logfmt (key=value) lines by default; one JSON object per line for log shippers.
LOG_FORMAT = env_str("LOG_FORMAT", "logfmt").lower()
if LOG_FORMAT not in {"logfmt", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be logfmt or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # key=value lines: greppable, and parseable by any log shipper.
        "logfmt": {
            "()": "clinic.logging.LogfmtFormatter",
        },
        # Extra fields become keys of the object, like logfmt's key=value pairs.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger", "message": "msg"},
            "timestamp": "ts",
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own loggers at INFO at most (its DEBUG is noise), never below LOG_LEVEL:
        # with LOG_LEVEL=ERROR, django.request's warning per 4xx answer stays out too.
        "django": {"level": LOG_LEVEL if LOG_LEVEL in {"WARNING", "ERROR", "CRITICAL"} else "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
        # The dispatch sweep runs every few seconds: per-task chatter would drown real events.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Security and privacy: abuse budgets, content security policy, staff sessions ----------
# Verification texts the whole service may send per hour (SMS pumping stops here; managers are
# alerted when it is reached).
VERIFICATION_SMS_PER_HOUR = env_int("VERIFICATION_SMS_PER_HOUR", 200, minimum=1)
# Online holds one address or browser may have without a phone proven in the last hour: live
# at once, and started per hour. Keeps one visitor from emptying the calendar.
HOLD_LIVE_LIMIT = env_int("HOLD_LIVE_LIMIT", 2, minimum=1)
HOLD_HOURLY_LIMIT = env_int("HOLD_HOURLY_LIMIT", 10, minimum=1)
# Staff sessions end after this much inactivity, and in any case this long after sign-in.
STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", 12, minimum=1)
# Client sessions (the booking in progress, a phone proven in the last hour) need no longer.
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_HOURS * 3600
SESSION_COOKIE_SAMESITE = "Lax"
# Staff API tokens expire (a leaked token stops working on its own).
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 90, minimum=1)
# The API docs and schema: public in development, staff only in production. With "ninja"
# installed the docs page loads Swagger UI from our static files, not from a CDN.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
INSTALLED_APPS += ["csp", "ninja"]
# Data protection: texts (messages and replies) keep their wording this long; an erased client's
# clinical records (consultations, re-checks) are purged this long after the erasure.
MESSAGE_RETENTION_DAYS = env_int("MESSAGE_RETENTION_DAYS", 365, minimum=1)
CLINICAL_RECORD_RETENTION_DAYS = env_int("CLINICAL_RECORD_RETENTION_DAYS", 8 * 365, minimum=1)
MIDDLEWARE += [
    # django-csp's, with the policy from these settings built once (clinic.middleware).
    "clinic.middleware.ContentSecurityPolicyMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    "clinic.middleware.StaffSessionTimeoutMiddleware",
]
# Scripts only from our own static files: no inline scripts or handlers, no CDN. Styles allow
# inline attributes because the calendar widget and the clinic's brand colour set them; CSS
# cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Staff logins are throttled per username from any address (a password guesser moving between
# addresses) and per address across usernames (password spraying).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)
