"""The application factory."""

import secrets

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import i18n
from app import audit as _audit_table  # noqa: F401  (known to migrations)
from app import cli, errors, logs, security
from app import consent_models as _consent_tables  # noqa: F401
from app.config import FIXED, INSTANCE_DIR, from_environment
from app.console import init_app as init_console
from app.db import configure_sqlite, mark_writing_requests
from app.extensions import csrf, db, limiter, login_manager, migrate
from client_api import init_app as init_api
from energy import models as _energy_tables  # noqa: F401
from ideas import models as _idea_tables  # noqa: F401
from notifications import init_app as init_notifications
from notifications import models as _notification_tables  # noqa: F401  (known to migrations)
from privacy import models as _privacy_tables  # noqa: F401
from research import models as _research_tables  # noqa: F401
from surveys import models as _survey_tables  # noqa: F401
from updates import models as _update_tables  # noqa: F401
from workshops import models as _workshop_tables  # noqa: F401

MIGRATIONS_DIR = INSTANCE_DIR.parent / "migrations"


def _local_secret_key() -> str:
    """A key kept under instance/, so sessions survive restarts; production sets SECRET_KEY."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), static_folder=None)
    app.config.update(FIXED)
    app.config.update(from_environment())
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _local_secret_key()
    if app.config.get("REDIS_URL"):
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        # A file on this machine never goes away under us; pinging it only costs a query.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"], pool_pre_ping=False)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config["TRUST_PROXY_HOPS"]:
        hops = app.config["TRUST_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    logs.configure(app.config["LOG_LEVEL"])
    security.init_app(app)
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    mark_writing_requests(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    errors.register_error_handlers(app)
    init_api(app)
    init_console(app)
    init_notifications(app)
    cli.register(app)
    return app
