"""Test fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL), migrated
once per run, each test inside a transaction that is rolled back."""

import os
import secrets
import smtplib
from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import scoped_session, sessionmaker

from app import cities
from app.accounts import issue_token
from app.db import utcnow
from app.extensions import db, limiter
from app.factory import create_app
from app.models import Role, TokenKind, User
from app.passwords import hash_password

PASSWORD = "correct horse battery staple"


def _database_url(tmp_path_factory) -> tuple[str, dict, str | None]:
    """The URL, engine options and (on PostgreSQL) a fresh schema for this run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}", {}, None
    schema = f"test_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return url, {"connect_args": {"options": f"-csearch_path={schema}"}}, schema


def drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def make_test_app(url: str, engine_options: dict, **extra):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options},
            # The test client speaks http; test_security checks the Secure default.
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_SINK": "log",
            **extra,
        }
    )


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    url, options, schema = _database_url(tmp_path_factory)
    yield url, options
    if schema:
        drop_schema(url, schema)


@pytest.fixture(scope="session")
def app(database):
    url, options = database
    app = make_test_app(url, options)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def db_session(app):
    """Every test in one outer transaction; code that commits only releases a savepoint."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        limiter.reset()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def no_real_mail(monkeypatch):
    """Fail any test that tries to reach a real mail server."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a test tried to send real email")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)


@pytest.fixture
def client(app):
    return app.test_client()


# --- factories: data made through the services, as the product makes it -------------------


@pytest.fixture
def make_city(db_session):
    def make(
        slug="lyon", name=None, timezone="Europe/Paris", default_locale="fr", locales=("fr", "en")
    ):
        return cities.create_city(
            db_session,
            slug=slug,
            name=name or slug.title(),
            timezone=timezone,
            default_locale=default_locale,
            enabled_locales=list(locales),
        )

    return make


@pytest.fixture
def make_user(db_session):
    def make(
        city,
        email=None,
        role: Role | None = None,
        role_city=None,
        verified=True,
        platform_admin=False,
        locale=None,
        password=PASSWORD,
    ):
        user = User(
            email=email or f"user-{secrets.token_hex(4)}@example.org",
            password_hash=hash_password(password),
            city_id=city.id,
            locale=locale,
            display_name="Test Person",
            is_platform_admin=platform_admin,
            email_verified_at=utcnow() if verified else None,
        )
        db_session.add(user)
        db_session.flush()
        if role is not None:
            cities.grant_role(db_session, user, user, role_city or city, role)
        return user

    return make


@pytest.fixture
def bearer(db_session):
    """Sign a person in through the service; returns request headers with the token."""

    def sign_in(user, **headers):
        raw = issue_token(db_session, user, TokenKind.API, timedelta(days=1), "test", utcnow())
        db_session.commit()
        return {"Authorization": f"Bearer {raw}", **headers}

    return sign_in


@pytest.fixture
def lyon(make_city):
    return make_city("lyon", "Lyon", "Europe/Paris", "fr", ("fr", "en"))


@pytest.fixture
def vienna(make_city):
    return make_city("vienna", "Wien", "Europe/Vienna", "de", ("de", "en"))
