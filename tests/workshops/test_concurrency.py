"""Registrations and cancellations sent at once, each in its own transaction on a committed
database: the seats are never exceeded, and the queue is the order people were served in.

PostgreSQL takes 200 registrations for 20 seats (SECURITY.md #21); SQLite, whose writers
queue one by one anyway, takes fewer so the suite stays quick.
"""

import os
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import issue_token
from app.db import utcnow
from app.models import TokenKind, User
from notifications.models import Notification
from tests.conftest import app_of_its_own, session_of
from tests.crowd import each_at_once, live_campaign
from tests.workshops.helpers import published_workshop
from workshops import registrations
from workshops.models import Registration, Workshop

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
CROWD = 200 if ON_POSTGRES else 50
SEATS = 20


@pytest.fixture
def db_session():
    """This module commits for real on databases of its own, not in the rolled-back one (and
    requests through the API use the app's own sessions)."""
    yield None


@pytest.fixture
def crowd_app(tmp_path):
    """An app on a database of its own where commits are real, with a pool wide enough for a
    crowd (the rest wait for a connection, as requests wait for a worker)."""
    with app_of_its_own(
        tmp_path, "workshops", pool_size=30, max_overflow=0, pool_timeout=120
    ) as app:
        yield app


def _world(app, people: int, capacity: int = SEATS) -> tuple[int, list[int]]:
    """A published workshop of a published Lyon campaign and ``people`` residents; returns the
    workshop's id and the residents'."""
    with session_of(app) as session:
        _city, _operator, residents, campaign = live_campaign(session, people)
        workshop = published_workshop(session, campaign, capacity=capacity)
        session.commit()
        return workshop.id, [person.id for person in residents]


def _at_once(app, workshop_id: int, people: list[int], act: Callable) -> tuple[list, list]:
    """``act(session, person, workshop)`` for each person from its own thread, all starting
    together; returns what each call answered (read before its commit) and any errors."""

    def send(person_id):
        with session_of(app) as session:
            workshop = session.get(Workshop, workshop_id)
            answer = act(session, session.get(User, person_id), workshop)
            session.commit()
            return answer

    return each_at_once(people, send)


def _register(session, person, workshop):
    registration, made = registrations.register(session, person, workshop)
    return registration.user_id, registration.status, registration.queue_number, made


def _queue(app, workshop_id: int) -> list[tuple[int, str, int]]:
    with session_of(app) as session:
        return session.execute(
            sa.select(Registration.user_id, Registration.status, Registration.queue_number)
            .where(Registration.workshop_id == workshop_id)
            .order_by(Registration.queue_number)
        ).all()


def _seats(app, workshop_id: int) -> tuple[int, int]:
    """The seats counted on the workshop, and the confirmed registrations."""
    with session_of(app) as session:
        counted = session.scalar(
            sa.select(Workshop.confirmed_count).where(Workshop.id == workshop_id)
        )
        confirmed = session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.workshop_id == workshop_id, Registration.status == "confirmed"
            )
        )
        return counted, confirmed


def test_a_crowd_registering_at_once_fills_the_seats_exactly(crowd_app):
    workshop_id, people = _world(crowd_app, CROWD)
    answers, errors = _at_once(crowd_app, workshop_id, people, _register)
    assert errors == []
    assert len(answers) == CROWD and all(made for *_, made in answers)
    assert sorted(status for _, status, _, _ in answers).count("confirmed") == SEATS
    queue = _queue(crowd_app, workshop_id)
    # Numbers 1..CROWD, each once; the seats went to the first SEATS served, in that order.
    assert [number for _, _, number in queue] == list(range(1, CROWD + 1))
    assert [status for _, status, _ in queue] == ["confirmed"] * SEATS + ["waitlisted"] * (
        CROWD - SEATS
    )
    # Each answer said what the database holds.
    assert sorted((u, s, n) for u, s, n, _ in answers) == sorted(queue)
    assert _seats(crowd_app, workshop_id) == (SEATS, SEATS)
    with session_of(crowd_app) as session:
        told = session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.kind == "workshop.registration"
            )
        )
        assert told == CROWD


def test_one_person_registering_many_times_at_once_registers_once(crowd_app):
    workshop_id, (person,) = _world(crowd_app, 1)
    answers, errors = _at_once(crowd_app, workshop_id, [person] * 10, _register)
    assert errors == []
    assert sorted(made for *_, made in answers) == [False] * 9 + [True]
    assert len({number for _, _, number, _ in answers}) == 1
    assert [(u, s) for u, s, _ in _queue(crowd_app, workshop_id)] == [(person, "confirmed")]
    assert _seats(crowd_app, workshop_id) == (1, 1)


def test_cancellations_and_registrations_at_once_keep_the_seats_and_the_queue(crowd_app):
    total = 60 if ON_POSTGRES else 30
    workshop_id, people = _world(crowd_app, total, capacity=10)
    first, late = people[: total // 2], people[total // 2 :]
    answers, errors = _at_once(crowd_app, workshop_id, first, _register)
    assert errors == []
    before = _queue(crowd_app, workshop_id)
    leaving = [user for user, status, _ in before if status == "confirmed"][:5]
    waiting = [user for user, status, _ in before if status == "waitlisted"]

    def act(session, person, workshop):
        if person.id in leaving:
            return registrations.cancel_registration(session, person, workshop).status
        return _register(session, person, workshop)[1]

    answers, errors = _at_once(crowd_app, workshop_id, leaving + late, act)
    assert errors == []
    assert answers.count("cancelled") == 5
    after = _queue(crowd_app, workshop_id)
    assert _seats(crowd_app, workshop_id) == (10, 10)
    seated = {user for user, status, _ in after if status == "confirmed"}
    kept = {user for user, status, _ in before if status == "confirmed"} - set(leaving)
    # The five seats freed went to the first five waiting: nobody who came later jumped the queue.
    assert seated == kept | set(waiting[:5])
    numbers = [number for _, _, number in after]
    assert len(set(numbers)) == len(numbers)
    statuses = [status for _, status, _ in after if status != "cancelled"]
    assert statuses == sorted(statuses, key=["confirmed", "waitlisted"].index)


def test_a_crowd_registering_through_the_api_is_served_in_order_and_told_once(crowd_app):
    """Through the API the checks run before anything is written (on SQLite, before the write
    lock is taken); one person's phone sending five times at once registers once."""
    workshop_id, people = _world(crowd_app, CROWD)
    with session_of(crowd_app) as session:
        tokens = [
            issue_token(
                session,
                session.get(User, person),
                TokenKind.API,
                timedelta(days=1),
                "phone",
                utcnow(),
            )
            for person in people
        ]
        session.commit()
    path = f"/api/v1/workshops/{workshop_id}/registration"
    sends = list(enumerate(tokens)) + [(CROWD + n, tokens[0]) for n in range(4)]

    def send(item):
        index, token = item
        with crowd_app.test_client() as client:
            answer = client.put(
                path,
                json={"answers": {}},
                headers={"Authorization": f"Bearer {token}"},
                # An address each: the per-address limit is not what this tests.
                environ_base={"REMOTE_ADDR": f"10.0.{index // 200}.{index % 200 + 1}"},
            )
            return token, answer.status_code, answer.get_json()

    answers, errors = each_at_once(sends, send)
    assert errors == []
    repeated = [status for token, status, _ in answers if token == tokens[0]]
    assert sorted(repeated) == [200] * 4 + [201]
    assert [status for token, status, _ in answers if token != tokens[0]] == [201] * (CROWD - 1)
    queue = _queue(crowd_app, workshop_id)
    numbers = [number for _, _, number in queue]
    assert len(queue) == CROWD and len(set(numbers)) == CROWD
    # The seats went to the first served; each answer gave the place the database holds.
    assert [status for _, status, _ in queue] == ["confirmed"] * SEATS + ["waitlisted"] * (
        CROWD - SEATS
    )
    created = [body for _, status, body in answers if status == 201]
    places = sorted(body["waitlist_position"] for body in created if body["status"] == "waitlisted")
    assert places == list(range(1, CROWD - SEATS + 1))
    assert _seats(crowd_app, workshop_id) == (SEATS, SEATS)
    with session_of(crowd_app) as session:
        told = session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.kind == "workshop.registration"
            )
        )
        assert told == CROWD
