"""Test fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL), migrated
once per run, each test inside a transaction that is rolled back."""

import os
import secrets
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.globals import app_ctx
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from hypothesis import settings
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app import cities
from app.accounts import issue_token
from app.db import utcnow, write_intent
from app.extensions import db, limiter
from app.factory import create_app
from app.models import City, Role, TokenKind, User
from app.passwords import hash_password
from tests.surveys.helpers import published_campaign

#: Fixtures of a domain that tests of other folders (the API's) use too.
pytest_plugins = ["tests.energy.fixtures"]

PASSWORD = "correct horse battery staple"

# Examples touch the database; a busy machine must not turn slow ones into failures.
settings.register_profile("livinglab", deadline=None)
settings.load_profile("livinglab")


def new_database(directory: Path, name: str = "test") -> tuple[str, dict, str | None]:
    """A database of its own: a SQLite file in ``directory``, or on PostgreSQL
    (TEST_DATABASE_URL) a fresh schema; returns the URL, engine options and the schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{directory / f'{name}.sqlite'}", {}, None
    schema = f"{name}_{os.getpid()}_{secrets.token_hex(3)}"
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


@contextmanager
def app_of_its_own(directory: Path, name: str = "own", **pool) -> Iterator[Flask]:
    """An app on a database of its own, migrated, where commits are real, dropped afterwards;
    ``pool`` (engine options) widens PostgreSQL's connection pool for a crowd.
    ``SQLALCHEMY_DATABASE_URI`` and ``TEST_SCHEMA`` say where it is."""
    url, options, schema = new_database(directory, name)
    if schema:
        options |= pool
    own = make_test_app(url, options, TEST_SCHEMA=schema)
    with own.app_context():
        flask_migrate.upgrade()
    yield own
    with own.app_context():
        db.engine.dispose()
    if schema:
        drop_schema(url, schema)


@pytest.fixture
def committed_app(tmp_path):
    """An app on a database of its own where commits are real: for tests of workers and
    processes running at once (the suite's db.session is bound to its rolled-back test
    database)."""
    with app_of_its_own(tmp_path) as own:
        yield own


@contextmanager
def session_of(app) -> Iterator[Session]:
    """A session on ``app``'s own engine, inside its app context."""
    with app.app_context(), Session(db.engine) as session:
        yield session


def city_with_people(session, count: int, **values) -> tuple[City, list[User]]:
    """Lyon and ``count`` confirmed residents, committed: the world of concurrency tests."""
    city = cities.create_city(
        session,
        slug="lyon",
        name="Lyon",
        timezone="Europe/Paris",
        default_locale="fr",
        enabled_locales=["fr"],
    )
    people = [
        User(
            email=f"p{i}@example.org",
            password_hash="-",
            city_id=city.id,
            email_verified_at=utcnow(),
            **values,
        )
        for i in range(count)
    ]
    session.add_all(people)
    session.commit()
    return city, people


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    url, options, schema = new_database(tmp_path_factory.mktemp("db"))
    yield url, options
    if schema:
        drop_schema(url, schema)


@pytest.fixture(scope="session")
def app(database):
    url, options = database
    app = make_test_app(url, options)
    app.test_client_class = RefreshingClient
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def db_connection(app):
    """The connection every test runs on, inside one outer transaction rolled back at the end.

    No app context stays pushed during the test: each request gets its own, as in production,
    so nothing in ``flask.g`` leaks from one request to the next.
    """
    with app.app_context():
        engine = db.engine
    # A request of an earlier test may have left its write intent in this thread: start clean.
    write_intent.set(False)
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield connection
    finally:
        outer.rollback()
        connection.close()


def _session_scope():
    # As Flask-SQLAlchemy does, a session per app context (so per request); the test body,
    # outside any app context, has a session of its own.
    return id(app_ctx._get_current_object()) if has_app_context() else "test body"


class RefreshingClient(FlaskClient):
    """A test client after whose requests the test body sees the database afresh."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture(autouse=True)
def db_session(app, db_connection):
    """The app's sessions bound to the test's connection; code that commits only releases a
    savepoint."""
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint"),
        scopefunc=_session_scope,
    )
    with app.app_context():
        limiter.reset()
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original


#: (host, port) of the SMTP servers tests run on loopback (tests/notifications/conftest.py):
#: the only mail servers a test may reach.
TEST_SMTP_SERVERS: set[tuple[str, int]] = set()


@pytest.fixture(autouse=True)
def no_real_mail(monkeypatch):
    """Fail any test that tries to reach a real mail server."""
    connect = smtplib.SMTP.connect

    def guarded(self, host="localhost", port=0, source_address=None):
        if (host, port) not in TEST_SMTP_SERVERS:
            raise AssertionError("a test tried to send real email")
        return connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def translate(app):
    """A message as the catalog of ``locale`` has it."""

    def in_locale(locale: str, message: str, **values) -> str:
        with app.test_request_context(), force_locale(locale):
            return gettext(message, **values)

    return in_locale


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
def operator(db_session):
    """A platform admin standing for whoever set the test's world up (grants roles)."""
    made = []

    def get(city):
        if not made:
            made.append(
                User(
                    email="operator@example.org",
                    password_hash="-",
                    city_id=city.id,
                    is_platform_admin=True,
                    email_verified_at=utcnow(),
                )
            )
            db_session.add(made[0])
            db_session.flush()
        return made[0]

    return get


@pytest.fixture(scope="session")
def password_hash():
    """Hashing is slow on purpose; accounts made with PASSWORD share one hash of it."""
    return hash_password(PASSWORD)


@pytest.fixture
def make_user(db_session, operator, password_hash):
    """An account (verified unless told otherwise), maybe with a role granted by the operator."""

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
        email = email or f"user-{secrets.token_hex(4)}@example.org"
        user = User(
            email=email,
            password_hash=password_hash if password == PASSWORD else hash_password(password),
            city_id=city.id,
            locale=locale,
            display_name=email.split("@")[0].replace(".", " ").title(),
            is_platform_admin=platform_admin,
            email_verified_at=utcnow() if verified else None,
        )
        db_session.add(user)
        db_session.flush()
        if role is not None:
            cities.grant_role(db_session, operator(city), user, role_city or city, role)
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


@pytest.fixture
def moderator(lyon, make_user):
    """A moderator of Lyon."""
    return make_user(lyon, role=Role.MODERATOR)


@pytest.fixture
def resident(lyon, make_user):
    """A resident of Lyon."""
    return make_user(lyon)


@pytest.fixture
def campaign(db_session, moderator, lyon):
    """A published campaign of Lyon, live for a month."""
    return published_campaign(db_session, moderator, lyon)


@pytest.fixture
def in_app(app, db_session):
    """For services that render notifications: the app's context, whose session every object
    of the test then lives in (use with ``pytestmark = pytest.mark.usefixtures("in_app")``)."""
    with app.app_context():
        yield
