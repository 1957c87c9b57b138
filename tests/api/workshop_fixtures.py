"""Fixtures and helpers of the workshop API tests: residents signed in, a workshop of Lyon with
questions and an online link, one of Vienna, and requests they send."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.models import Role
from tests.surveys.helpers import published_campaign
from tests.workshops import conftest as workshop_fixtures
from tests.workshops.helpers import QUESTIONS, published_workshop
from workshops.models import Registration

# The workshops tests' fixture: workshops on the published campaign of Lyon (tests/conftest.py).
workshop_of = workshop_fixtures.workshop_of

SUMMARY_FIELDS = {
    "id",
    "campaign_id",
    "title",
    "description",
    "language",
    "starts_at",
    "ends_at",
    "place",
    "online",
    "capacity",
    "seats_left",
    "waitlist_length",
    "registration_open",
    "status",
    "my_status",
}
REGISTRATION_FIELDS = {
    "workshop_id",
    "status",
    "waitlist_position",
    "answers",
    "checked_in",
    "registered_at",
    "removed_reason",
}
ONLINE = "https://meet.example.org/courtyard-7"


@pytest.fixture
def people(lyon, make_user):
    """Five residents of Lyon, in arrival order."""
    return [make_user(lyon, email=f"resident{i}@example.org") for i in range(5)]


@pytest.fixture
def signed(bearer):
    """Request headers of a person, signed in once per test."""
    made = {}

    def headers(person, **extra):
        if person.id not in made:
            made[person.id] = bearer(person)
        return {**made[person.id], **extra}

    return headers


@pytest.fixture
def workshop(db_session, workshop_of):
    made = workshop_of(
        agenda={"fr": "1. Accueil\n2. **Ateliers**", "en": "1. Welcome\n2. **Tables**"},
        accessibility={"fr": "Accès de plain-pied", "en": "Step-free access"},
        latitude=45.76,
        longitude=4.83,
        questions=QUESTIONS,
        online_url=ONLINE,
    )
    db_session.commit()
    return made


@pytest.fixture
def vienna_workshop(db_session, vienna, make_user):
    """A published workshop of a published campaign of Vienna."""
    wien = published_campaign(db_session, make_user(vienna, role=Role.MODERATOR), vienna, "wien")
    starts = utcnow().replace(microsecond=0) + timedelta(days=5)
    made = published_workshop(
        db_session,
        wien,
        title={"de": "Hofwerkstatt"},
        starts_at=starts,
        address="Stephansplatz 1, Wien",
        capacity=10,
    )
    db_session.commit()
    return made


@pytest.fixture
def telling(app, db_session):
    """Run services that tell people (they render notifications) from the test body."""

    @contextmanager
    def within():
        session = db_session()
        with app.app_context():
            yield session
        session.commit()

    return within


def register(client, headers, workshop, **body):
    return client.put(f"/api/v1/workshops/{workshop.id}/registration", json=body, headers=headers)


def mine(client, headers, workshop):
    return client.get(f"/api/v1/workshops/{workshop.id}/registration", headers=headers)


def count_registrations(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count(Registration.id)))
