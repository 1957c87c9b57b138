"""What the workshop tests in Chromium share: a published campaign of Lyon with a board and an
idea, residents with a phone each (a bearer token), a real SMTP server the live app sends its
email to, and a few steps of the console made in the browser."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import requests
from aiosmtpd.controller import Controller

from app.accounts import issue_token
from app.db import utcnow
from app.extensions import db
from app.models import TokenKind
from ideas import service as ideas
from tests.browser.idea_world import collecting_board, lyon_and_operator, person
from tests.conftest import TEST_SMTP_SERVERS
from tests.notifications.conftest import HOST, Mailbox, free_port

#: Phones stay signed in over the days the tests travel through.
TOKEN_DAYS = 30


class Phone:
    """A resident's phone talking to the live API."""

    def __init__(self, api: str, token: str, locale: str):
        self.api = api
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": locale}

    def call(self, method: str, path: str, expected: int, **body):
        response = requests.request(
            method, self.api + path, json=body or None, headers=self.headers, timeout=10
        )
        assert response.status_code == expected, (method, path, response.text)
        return response.json() if response.content else None

    def inbox(self, kind: str) -> list[dict]:
        return [n for n in self.call("GET", "/notifications", 200)["items"] if n["kind"] == kind]


def residents_and_board(
    app, api: str, slug: str, residents: dict[str, tuple[str, str]]
) -> tuple[dict[str, Phone], int]:
    """A published campaign ``slug`` with a collecting board and one idea on it, and each
    resident (key → (name, locale)) with a phone; returns the phones and the idea's id."""
    with app.app_context():
        session = db.session
        lyon, _operator = lyon_and_operator(session)
        board = collecting_board(
            session, slug, {"fr": "La cour de l'îlot 7", "en": "The courtyard of block 7"}
        )
        phones, people = {}, {}
        now = utcnow()
        for key, (name, locale) in residents.items():
            made = person(session, lyon, f"{key}@{slug}.example", None, name, locale)
            token = issue_token(
                session, made, TokenKind.API, timedelta(days=TOKEN_DAYS), "phone", now
            )
            phones[key] = Phone(api, token, locale)
            people[key] = made
        author = next(iter(people.values()))
        idea, _created = ideas.post_idea(
            session,
            author,
            board,
            client_uuid=str(uuid.uuid4()),
            title="Un potager partagé dans la cour",
            body="Des bacs de culture pour tous les voisins.",
            language="fr",
        )
        session.commit()
        idea_id = idea.id
        session.remove()
        return phones, idea_id


@contextmanager
def mailbox_for(app) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that the live app sends its email to, for the block."""
    mailbox = Mailbox()
    mailbox.port = free_port()
    mailbox.controller = Controller(mailbox, hostname=HOST, port=mailbox.port)
    mailbox.controller.start()
    mailbox.running = True
    TEST_SMTP_SERVERS.add((HOST, mailbox.port))
    settings = {
        "MAIL_SINK": "smtp",
        "SMTP_HOST": HOST,
        "SMTP_PORT": mailbox.port,
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "Living Lab <no-reply@livinglab.test>",
    }
    saved = {name: app.config.get(name) for name in settings}
    app.config.update(settings)
    try:
        yield mailbox
    finally:
        app.config.update(saved)
        mailbox.stop()
        TEST_SMTP_SERVERS.discard((HOST, mailbox.port))
