"""Workshops for console tests, made through the workshops services.

Registering tells people (a notification rendered with the app's templates), so the world is
made inside an app context, on that context's session, and committed (in the tests, a
savepoint of the test's transaction); tests get ids and read the rows afresh.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.db import utcnow
from app.extensions import db
from app.models import User
from campaigns.models import Campaign
from ideas.models import Board, Idea
from notifications.models import Notification
from tests.surveys.helpers import published_campaign
from tests.workshops.helpers import QUESTIONS as ASKED
from workshops import outcomes, registrations, service
from workshops.models import Outcome, Registration, Workshop

TITLE = {"fr": "Atelier de la cour", "en": "Courtyard workshop"}
#: The workshop tests' questions, none of them required (people register in a click).
QUESTIONS = [{**question, "required": False} for question in ASKED]


@pytest.fixture
def campaign(db_session, people, lyon):
    """A published campaign ``atelier`` of Lyon, committed."""
    made = published_campaign(db_session, people["platform_admin"], lyon, "atelier")
    db_session.commit()
    return made


def named_people(db_session, make_person, city, names: dict[str, str]) -> dict[str, int]:
    """A person of ``city`` for each key (``key@lyon.example``), shown by the name given;
    returns their ids by key, committed."""
    made = {key: make_person(city, f"{key}@lyon.example") for key in names}
    for key, person in made.items():
        person.display_name = names[key]
    db_session.commit()
    return {key: person.id for key, person in made.items()}


def registration_of(db_session, world: dict[str, int], key: str) -> Registration:
    """The registration of the person ``key`` at the world's workshop, read afresh."""
    db_session.expire_all()
    return db_session.scalar(
        sa.select(Registration).where(
            Registration.workshop_id == world["workshop"], Registration.user_id == world[key]
        )
    )


@contextmanager
def in_app(app) -> Iterator[Session]:
    """The app's session inside an app context (services that tell people render there);
    what was done is committed when the block ends.

    Both sessions share the test's connection, and a savepoint of one opened inside the
    other's would be released with it: the test's session is committed first, and the block
    must not touch the test's objects (read their ids before it, and ``get`` them here).
    """
    db.session.commit()
    with app.app_context():
        session = db.session
        yield session
        session.commit()


def make_workshop(
    session: Session,
    operator: User,
    campaign: Campaign,
    *,
    publish: bool = True,
    starts_in: timedelta = timedelta(days=7),
    **values,
) -> Workshop:
    """A workshop of ``campaign`` two hours long, published unless told otherwise."""
    starts = (utcnow() + starts_in).replace(second=0, microsecond=0)
    values = {
        "title": dict(TITLE),
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "capacity": 3,
        "address": "12 rue de la République, 69002 Lyon",
        "questions": QUESTIONS,
    } | values
    workshop = service.create_workshop(session, operator, campaign, **values)
    if publish:
        service.publish_workshop(session, operator, workshop)
    return workshop


def register_all(session: Session, workshop: Workshop, people: list[User], **answers):
    """Register each person in turn (seats first, then the waitlist)."""
    return [
        registrations.register(session, person, workshop, answers=answers or None)[0]
        for person in people
    ]


def get(session: Session, model, row_id: int):
    return session.get(model, row_id, populate_existing=True)


def permission_world(app, people: dict[str, User], board_id: int) -> dict[str, int]:
    """What the console's workshop routes act on in the permission walk: a published
    workshop of the ideas' campaign starting within the hour (check-in is open) with a
    resident on its only seat and another on the waitlist, an outcome linking the idea, and
    a draft workshop to publish."""
    operator_id, resident_id = people["platform_admin"].id, people["resident"].id
    with in_app(app) as session:
        operator = get(session, User, operator_id)
        board = get(session, Board, board_id)
        campaign = board.campaign
        workshop = make_workshop(
            session, operator, campaign, starts_in=timedelta(minutes=45), capacity=1
        )
        resident = get(session, User, resident_id)
        second = User(
            email="neighbour@lyon.example",
            password_hash="-",
            city_id=resident.city_id,
            display_name="Neighbour",
            email_verified_at=utcnow(),
        )
        session.add(second)
        session.flush()
        seated, waiting = register_all(session, workshop, [resident, second])
        draft = make_workshop(session, operator, campaign, publish=False)
        idea_id = session.scalar(
            sa.select(Idea.id).where(Idea.board_id == board.id).order_by(Idea.id)
        )
        outcome = outcomes.add_outcome(session, operator, workshop, idea_id=idea_id)
        return {
            "workshop": workshop.id,
            "draft_workshop": draft.id,
            "seated": seated.id,
            "waiting": waiting.id,
            "outcome": outcome.id,
        }


def workshop_state(session: Session) -> tuple:
    """Everything the console's workshop routes could change."""
    session.expire_all()
    rows = (
        sa.select(
            Workshop.id,
            Workshop.status,
            Workshop.title,
            Workshop.capacity,
            Workshop.confirmed_count,
            Workshop.minutes,
            Workshop.summary,
            Workshop.summary_published_at,
        ).order_by(Workshop.id),
        sa.select(
            Registration.id,
            Registration.user_id,
            Registration.status,
            Registration.checked_in_at,
        ).order_by(Registration.id),
        sa.select(Outcome.id, Outcome.idea_id, Outcome.survey_id).order_by(Outcome.id),
        sa.select(sa.func.count(Notification.id)),
        sa.select(sa.func.count(AuditEntry.id)),
    )
    return tuple(tuple(session.execute(query)) for query in rows)


class _FormReader(HTMLParser):
    """The values a browser would send back from the first form with ``marker`` in its
    action (or the first form): inputs, checked boxes, textareas and selected options."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and name != "csrf_token":
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(page: str) -> dict[str, str]:
    """What the page's forms would send unchanged (the edit form is the page's only form
    with inputs, besides sign-out)."""
    reader = _FormReader()
    reader.feed(page)
    return reader.values
