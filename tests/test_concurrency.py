"""Many phones at once on a database committed for real: nobody gets a 500 for being in a crowd."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from app import cities
from app.accounts import issue_token
from app.db import utcnow
from app.extensions import db
from app.models import AccessToken, TokenKind, User
from app.passwords import hash_password
from tests.conftest import PASSWORD, drop_schema, make_test_app, new_database

THREADS = 8


@pytest.fixture
def db_session():
    """This module commits for real on a database of its own, not in the rolled-back one."""
    yield None


@pytest.fixture
def crowd(tmp_path):
    url, options, schema = new_database(tmp_path, "crowd")
    app = make_test_app(url, options, RATELIMIT_ENABLED=False)
    with app.app_context():
        flask_migrate.upgrade()
        city = cities.create_city(
            db.session,
            slug="lyon",
            name="Lyon",
            timezone="Europe/Paris",
            default_locale="fr",
            enabled_locales=["fr"],
        )
        tokens = []
        for i in range(THREADS):
            user = User(
                email=f"p{i}@example.org",
                password_hash=hash_password(PASSWORD),
                city_id=city.id,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
            db.session.flush()
            tokens.append(
                issue_token(db.session, user, TokenKind.API, timedelta(days=1), "t", utcnow())
            )
        db.session.commit()
    yield app, tokens
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        drop_schema(url, schema)


def _age_tokens(app):
    """Make every token due for its last-used time to be recorded again."""
    with app.app_context():
        db.session.execute(
            sa.update(AccessToken).values(last_used_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        db.session.remove()


def _hammer(app, requests):
    def send(args):
        method, path, token, body = args
        with app.test_client().open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            return response.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(send, requests))


def test_one_token_used_by_many_requests_at_once(crowd):
    app, tokens = crowd
    for _ in range(3):
        _age_tokens(app)
        statuses = _hammer(app, [("GET", "/api/v1/me", tokens[0], None)] * (THREADS * 3))
        assert statuses == [200] * (THREADS * 3)


def test_many_people_writing_at_once(crowd):
    app, tokens = crowd
    _age_tokens(app)
    requests = [
        ("PATCH", "/api/v1/me", token, {"display_name": f"Name {i}"})
        for round_ in range(3)
        for i, token in enumerate(tokens)
    ]
    assert _hammer(app, requests) == [200] * len(requests)
    with app.app_context():
        names = db.session.scalars(sa.select(User.display_name).order_by(User.id)).all()
    assert names == [f"Name {i}" for i in range(THREADS)]
