"""Configuration, read from the environment once, with the defaults a newcomer needs."""

import os
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


#: Retention periods in days, per kind of data: name → (default, minimum). Each is set by
#: ``RETENTION_<NAME>_DAYS``; a setting below the minimum is raised to it, because shorter
#: would break the product (a phone's retry must find its idempotency record, a reader their
#: recent inbox, the admins a year of audit log). privacy/retention.py says what each removes.
RETENTION_PERIODS: dict[str, tuple[int, int]] = {
    "access_tokens": (30, 1),
    "email_codes": (0, 0),
    "idempotency_records": (1, 1),
    "deliveries": (30, 1),
    "unlisted_notifications": (1, 1),
    "inbox": (365, 30),
    "survey_drafts": (90, 30),
    "withdrawn_responses": (30, 7),
    "personal_exports": (30, 1),
    "audit_log": (1095, 365),
    "purge_runs": (365, 30),
    "unverified_accounts": (30, 7),
    "energy_feedback": (730, 365),
}


def _retention_days() -> dict[str, int]:
    return {
        name: max(_int(f"RETENTION_{name.upper()}_DAYS", default), minimum)
        for name, (default, minimum) in RETENTION_PERIODS.items()
    }


def from_environment() -> dict:
    """Every setting Living Lab reads, documented in the README under Configuration."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'livinglab.sqlite'}"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        # Console cookies are Secure unless explicitly served over plain http (dev).
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", True),
        "CONSOLE_IDLE_MINUTES": _int("CONSOLE_IDLE_MINUTES", 30),
        "CONSOLE_MAX_HOURS": _int("CONSOLE_MAX_HOURS", 12),
        "API_TOKEN_DAYS": _int("API_TOKEN_DAYS", 30),
        # Followers who have not answered a survey are reminded this long before it closes.
        "SURVEY_REMINDER_HOURS": _int("SURVEY_REMINDER_HOURS", 24),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        # Meter data files (Green Button, CSV) uploaded through the API may be this large.
        "METER_UPLOAD_MAX_BYTES": _int("METER_UPLOAD_MAX_BYTES", 20 * 1024 * 1024),
        # Meter readings shorter than a day are rolled up into daily ones after this many days.
        "ENERGY_RAW_DAYS": max(_int("ENERGY_RAW_DAYS", 730), 1),
        # Households are compared with similar ones, and staff see a district's totals, only
        # when the group has at least this many households.
        "ENERGY_MIN_GROUP": max(_int("ENERGY_MIN_GROUP", 10), 10),
        # A person's copy of their data can be downloaded this long after it is made (1-24 h).
        "PERSONAL_EXPORT_HOURS": min(max(_int("PERSONAL_EXPORT_HOURS", 24), 1), 24),
        # Heating degree days count the degrees a day's mean temperature is below this (°C).
        "ENERGY_HDD_BASE_C": _float("ENERGY_HDD_BASE_C", 15.5),
        # Enedis Data Connect: the app's OAuth2 client, and where its servers are (the sandbox
        # or production hosts; every call is checked against ENEDIS_ALLOWED_HOSTS).
        "ENEDIS_CLIENT_ID": os.environ.get("ENEDIS_CLIENT_ID"),
        "ENEDIS_CLIENT_SECRET": os.environ.get("ENEDIS_CLIENT_SECRET"),
        "ENEDIS_AUTHORIZE_URL": os.environ.get(
            "ENEDIS_AUTHORIZE_URL",
            "https://mon-compte-particulier.enedis.fr/dataconnect/v1/oauth2/authorize",
        ),
        "ENEDIS_API_URL": os.environ.get("ENEDIS_API_URL", "https://gw.ext.prod.api.enedis.fr"),
        # Seconds a meter data provider may take to connect or answer (never more than 10),
        # and the first pause before a retry (doubled each time, with jitter).
        "ENERGY_PROVIDER_TIMEOUT": min(_float("ENERGY_PROVIDER_TIMEOUT", 10.0), 10.0),
        "ENERGY_PROVIDER_BACKOFF": _float("ENERGY_PROVIDER_BACKOFF", 1.0),
        "ENEDIS_ALLOWED_HOSTS": os.environ.get(
            "ENEDIS_ALLOWED_HOSTS", "mon-compte-particulier.enedis.fr,gw.ext.prod.api.enedis.fr"
        ),
        # Email: sent over SMTP when SMTP_HOST is set, otherwise only logged (or, with
        # MAIL_SINK=console, printed, as `make run` does).
        "MAIL_SINK": os.environ.get("MAIL_SINK")
        or ("smtp" if os.environ.get("SMTP_HOST") else "log"),
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int("SMTP_PORT", 587),
        #: "starttls" (upgrade on the submission port), "tls" (implicit, port 465) or "none".
        "SMTP_SECURITY": os.environ.get("SMTP_SECURITY", "starttls"),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Living Lab <no-reply@localhost>"),
        #: Where people reach this deployment: links in emails (unsubscribe) start with it.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "TRUST_PROXY_HOPS": _int("TRUST_PROXY_HOPS", 0),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Web Push: the VAPID private key (PEM, or base64url raw/DER as py_vapid reads it) and
        # the contact sent to push services ("mailto:..."); the public key is derived if unset.
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY"),
        "VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY"),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT"),
        # Firebase Cloud Messaging (HTTP v1): the project and a service-account JSON file.
        "FCM_PROJECT_ID": os.environ.get("FCM_PROJECT_ID"),
        "FCM_CREDENTIALS_FILE": os.environ.get("FCM_CREDENTIALS_FILE"),
        "FCM_ENDPOINT": os.environ.get("FCM_ENDPOINT", "https://fcm.googleapis.com"),
        # Seconds a push service may take to connect or answer; never more than 10.
        "PUSH_TIMEOUT": min(_float("PUSH_TIMEOUT", 10.0), 10.0),
        # Survey results: a figure describing fewer respondents than this is shown as "< n".
        "RESULTS_MIN_GROUP": max(_int("RESULTS_MIN_GROUP", 5), 1),
        # Research exports: where their files are written (a shared volume when the scheduler
        # and the web processes run on different machines), how many days a file is kept, and
        # how many minutes a download link works.
        "RESEARCH_EXPORT_DIR": os.environ.get(
            "RESEARCH_EXPORT_DIR", str(INSTANCE_DIR / "research_exports")
        ),
        "RESEARCH_EXPORT_DAYS": min(max(_int("RESEARCH_EXPORT_DAYS", 7), 1), 30),
        "RESEARCH_LINK_MINUTES": min(max(_int("RESEARCH_LINK_MINUTES", 15), 1), 60),
        # Every record of a research export shares its quasi-identifiers with at least K-1
        # others (a request may ask for more, never less); each such group shows at least L
        # distinct values of every sensitive variable; aggregate cells under MIN_CELL are
        # suppressed. Records suppressed to reach K may be at most this share before the
        # quasi-identifiers are generalised further.
        "RESEARCH_MIN_K": max(_int("RESEARCH_MIN_K", 10), 2),
        "RESEARCH_MIN_L": max(_int("RESEARCH_MIN_L", 2), 1),
        "RESEARCH_MIN_CELL": max(_int("RESEARCH_MIN_CELL", 10), 2),
        "RESEARCH_MAX_SUPPRESSED": min(max(_float("RESEARCH_MAX_SUPPRESSED", 0.05), 0.0), 0.5),
        # Days each kind of data is kept before the scheduler's retention run removes it.
        "RETENTION_DAYS": _retention_days(),
    }


#: Settings that do not vary between deployments.
FIXED = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "livinglab_session",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds the token
    "BABEL_TRANSLATION_DIRECTORIES": str(
        Path(__file__).resolve().parent.parent / "i18n" / "translations"
    ),
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    "API_TITLE": "Living Lab API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_PAGE_SIZE": 20,
    "API_PAGE_SIZE_MAX": 100,
    # Outbound calls reach only https on public addresses; tests that talk to local fake
    # servers turn this on (http and loopback/private addresses), deployments never do.
    "OUTBOUND_ALLOW_PRIVATE": False,
}
