"""Console fixtures: a test client like a browser, one person per role, campaigns made
through the service, and console sessions opened through the accounts service."""

from datetime import timedelta

import pytest

from app.accounts import issue_token
from app.db import utcnow
from app.extensions import login_manager
from app.models import Role, TokenKind
from campaigns import service


@pytest.fixture
def new_client(app):
    """A fresh browser: its own cookies, so its own console session."""

    def new():
        client = app.test_client()
        # Browsers say which language they prefer; these tests read English pages.
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return new


@pytest.fixture
def client(new_client):
    return new_client()


@pytest.fixture
def make_person(make_user):
    """A verified account with PASSWORD at a given address, and maybe a role."""

    def make(city, email, role=None, role_city=None, platform_admin=False, locale=None):
        return make_user(
            city,
            email=email,
            role=role,
            role_city=role_city,
            platform_admin=platform_admin,
            locale=locale,
        )

    return make


@pytest.fixture
def people(lyon, vienna, make_person, db_session):
    """Everyone the permission tests need; Lyon is the city under test."""
    everyone = {
        "moderator": make_person(lyon, "moderator@lyon.example", Role.MODERATOR),
        "admin": make_person(lyon, "admin@lyon.example", Role.ADMIN),
        "staff": make_person(lyon, "staff@lyon.example", Role.STAFF),
        "researcher": make_person(lyon, "researcher@lyon.example", Role.RESEARCHER),
        "other_moderator": make_person(vienna, "moderator@vienna.example", Role.MODERATOR),
        "platform_admin": make_person(vienna, "root@example.org", platform_admin=True),
        "resident": make_person(lyon, "resident@lyon.example"),
    }
    db_session.commit()
    return everyone


@pytest.fixture
def open_session(db_session):
    """Put a console session of ``person`` into ``client``, as signing in would.

    The token is issued by the accounts service; only the password check is skipped, because
    hashing makes it slow. Tests of signing in itself go through the login form.
    """

    def open_(client, person):
        raw = issue_token(
            db_session, person, TokenKind.CONSOLE, timedelta(hours=1), "test", utcnow()
        )
        db_session.commit()
        # flask-login's "strong" protection ties a session to the browser's address and agent.
        with client.application.test_request_context(environ_base=client.environ_base):
            identifier = login_manager._session_identifier_generator()
        with client.session_transaction() as session:
            session["_user_id"] = raw
            session["_fresh"] = True
            session["_id"] = identifier
        return client

    return open_


@pytest.fixture
def as_person(new_client, open_session, people):
    """A client signed in as one of ``people`` (by name), or anonymous for None."""

    def as_(name):
        client = new_client()
        return open_session(client, people[name]) if name else client

    return as_


@pytest.fixture
def make_campaign(db_session, lyon, people):
    def make(city=None, slug="block-7", title=None, status="draft", **values):
        city = city or lyon
        actor = people["platform_admin"]
        now = utcnow()
        values.setdefault(
            "phases",
            [
                {
                    "title": {locale: f"Phase ({locale})" for locale in city.enabled_locales},
                    "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=30),
                }
            ],
        )
        campaign = service.create_campaign(
            db_session,
            actor,
            city,
            slug=slug,
            title=title or {city.default_locale: f"Campagne {slug}", "en": f"Campaign {slug}"},
            **values,
        )
        if status in ("published", "archived"):
            service.publish_campaign(db_session, actor, campaign)
        if status == "archived":
            service.archive_campaign(db_session, actor, campaign)
        db_session.commit()
        return campaign

    return make
