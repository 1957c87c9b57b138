"""Real-browser tests: a live app on its own database, driven by Debian's Chromium.

The app runs in a background thread (werkzeug) on 127.0.0.1, over plain HTTP and over HTTPS
with a throw-away certificate, with cookies Secure as in production. Its data is committed for
real, so these tests do not use the rolled-back ``db_session`` of the other tests.
"""

import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import make_server

from app import cities
from app.db import utcnow
from app.extensions import db, limiter
from app.models import Role, User
from app.passwords import hash_password
from tests.conftest import PASSWORD, drop_schema, make_test_app, new_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

MODERATOR = "moderator@lyon.example"
RESIDENT = "resident@lyon.example"


@dataclass
class LiveServer:
    app: Flask
    url: str
    https_url: str


@pytest.fixture(autouse=True)
def db_session():
    """The live app owns its database; nothing here runs inside a rolled-back transaction."""
    limiter.reset()
    yield None


def _certificate(root: Path) -> ssl.SSLContext:
    """A throw-away self-signed certificate for 127.0.0.1."""
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _seed() -> None:
    lyon = cities.create_city(
        db.session,
        slug="lyon",
        name="Lyon",
        timezone="Europe/Paris",
        default_locale="fr",
        enabled_locales=["fr", "en"],
    )
    password_hash = hash_password(PASSWORD)
    operator = User(
        email="operator@example.org",
        password_hash="-",
        city_id=lyon.id,
        is_platform_admin=True,
        email_verified_at=utcnow(),
    )
    db.session.add(operator)
    for email, role in ((MODERATOR, Role.MODERATOR), (RESIDENT, None)):
        person = User(
            email=email,
            password_hash=password_hash,
            city_id=lyon.id,
            display_name=email.split("@")[0].title(),
            email_verified_at=utcnow(),
        )
        db.session.add(person)
        db.session.flush()
        if role:
            cities.grant_role(db.session, operator, person, lyon, role)
    db.session.commit()


def _answered_whole(app: Flask):
    """The app with every answer read out and closed before the server writes it: werkzeug's
    development server skips ``close()`` when the browser drops a connection while the
    server drains it, which would leave a static file open until the garbage collector
    finds it (a ResourceWarning in whichever test runs then)."""

    def wsgi(environ, start_response):
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


def _serve(app: Flask, ssl_context=None):
    server = make_server(
        "127.0.0.1", 0, _answered_whole(app), threaded=True, ssl_context=ssl_context
    )
    thread = threading.Thread(target=server.serve_forever, name="live-console", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("live")
    url, options, schema = new_database(root, "live")
    app = make_test_app(
        url,
        options,
        # Production's default: the console cookie is sent over secure connections only.
        SESSION_COOKIE_SECURE=True,
    )
    with app.app_context():
        flask_migrate.upgrade()
        _seed()
    plain, plain_thread = _serve(app)
    secure, secure_thread = _serve(app, _certificate(root))
    yield LiveServer(
        app=app,
        url=f"http://127.0.0.1:{plain.server_port}",
        https_url=f"https://127.0.0.1:{secure.server_port}",
    )
    for server, thread in ((plain, plain_thread), (secure, secure_thread)):
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        drop_schema(url, schema)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
