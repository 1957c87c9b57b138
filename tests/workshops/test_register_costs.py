"""What registering costs, and that its shortcuts keep every guarantee: the checks run before
anything is written, a person registered meanwhile is found by the insert, a check-in code
taken already is drawn again, the workshop's counters come from the lock, and the waitlist
place is counted once for the notice and the answer."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.errors import Conflict, Invalid
from app.models import Role
from notifications.models import Notification
from tests.workshops.helpers import QUESTIONS, registration
from workshops import listing, registrations, seats
from workshops.models import Registration, RegistrationStatus, Workshop

#: Services that tell people render notifications: in the app's context. (Not for the API
#: test: requests would then share the test body's session.)
in_app = pytest.mark.usefixtures("in_app")

#: What the database is asked, savepoints (the tests' own transactions) aside.
WORK = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextmanager
def statements(db_connection) -> Iterator[list[str]]:
    """The statements run on the test's connection meanwhile, one line each."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        if WORK.match(statement):
            seen.append(" ".join(statement.split()))

    sa.event.listen(db_connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db_connection, "before_cursor_execute", record)


def kinds_of(seen: list[str]) -> list[str]:
    """Each statement as its verb and table, e.g. ``UPDATE workshops``."""
    found = []
    for statement in seen:
        verb = statement.split()[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
        counting = verb == "SELECT" and "count(" in statement.lower()
        found.append(f"{'COUNT' if counting else verb} {table.group(1) if table else '?'}")
    return found


def told(db_session, person) -> int:
    return db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == person.id, Notification.kind == "workshop.registration"
        )
    )


@in_app
def test_a_place_on_the_waitlist_takes_six_statements_and_counts_once(
    db_session, db_connection, workshop_of, residents, translate
):
    workshop = workshop_of(capacity=1)
    first, second, leaving, third = residents(4)
    for person in (first, second, leaving):
        registrations.register(db_session, person, workshop)
    registrations.cancel_registration(db_session, leaving, workshop)  # no longer ahead
    db_session.refresh(workshop)  # as a request loads it
    with statements(db_connection) as seen:
        placed = registrations.register_and_place(db_session, third, workshop)
    assert (placed.created, placed.registration.status, placed.position) == (
        True,
        RegistrationStatus.WAITLISTED,
        2,
    )
    assert kinds_of(seen) == [
        "SELECT workshop_registrations",  # mine, before the lock
        "SELECT users",  # what the notice needs of the person, before the lock
        "UPDATE workshops",  # the lock and the queue number
        "INSERT workshop_registrations",  # with the waitlist place, for notice and answer
        "INSERT notifications",
        "INSERT deliveries",
    ]
    assert listing.waitlist_position(db_session, placed.registration) == placed.position
    body = db_session.scalar(
        sa.select(Notification.body_text).where(Notification.user_id == third.id)
    )
    assert translate("fr", "Your place on the waitlist: %(position)s.", position=2) in body


@in_app
def test_a_seat_reads_no_counter_back_after_the_lock(
    db_session, db_connection, workshop_of, resident
):
    workshop = workshop_of(capacity=5)
    with statements(db_connection) as seen:
        placed = registrations.register_and_place(db_session, resident, workshop)
        taken, number = workshop.confirmed_count, workshop.queue_seq
        status, updated = workshop.status, workshop.updated_at
    assert placed.position is None and placed.registration.status == RegistrationStatus.CONFIRMED
    assert "SELECT workshops" not in kinds_of(seen)
    assert "COUNT workshop_registrations" not in kinds_of(seen)
    stored = db_session.execute(
        sa.select(
            Workshop.confirmed_count, Workshop.queue_seq, Workshop.status, Workshop.updated_at
        ).where(Workshop.id == workshop.id)
    ).one()
    assert (taken, number, status, updated) == tuple(stored) == (1, 1, "published", updated)


@in_app
def test_the_checks_run_before_anything_is_written(
    db_session, db_connection, workshop_of, residents
):
    workshop = workshop_of(questions=QUESTIONS)
    person, refused = residents(2)
    written_before: list[list[str]] = []
    with statements(db_connection) as seen:

        def before_writing():
            written_before.append([s for s in kinds_of(seen) if not s.startswith("SELECT")])

        placed = registrations.register_and_place(
            db_session, person, workshop, answers={"diet": "vegan"}, before_writing=before_writing
        )
    assert placed.created and written_before == [[]]
    # Refused by the checks: nothing to write, so no writing begins.
    calls = []
    with pytest.raises(Invalid):
        registrations.register_and_place(
            db_session, refused, workshop, answers={}, before_writing=lambda: calls.append(1)
        )
    # Registered already, the same answers: nothing to write either; other answers: writing.
    again = registrations.register_and_place(
        db_session,
        person,
        workshop,
        answers={"diet": "vegan"},
        before_writing=lambda: calls.append(2),
    )
    assert calls == [] and not again.created
    changed = registrations.register_and_place(
        db_session,
        person,
        workshop,
        answers={"diet": "none"},
        before_writing=lambda: calls.append(3),
    )
    assert calls == [3] and not changed.created and changed.registration.answers == {"diet": "none"}


@in_app
def test_registered_meanwhile_the_insert_finds_it_and_no_seat_is_counted_twice(
    db_session, workshop_of, resident
):
    workshop = workshop_of(capacity=5)

    def meanwhile():
        # A parallel call of the same person, served between this call's checks and its lock.
        registrations.register(db_session, resident, workshop)

    placed = registrations.register_and_place(
        db_session, resident, workshop, before_writing=meanwhile
    )
    assert not placed.created and placed.registration.status == RegistrationStatus.CONFIRMED
    db_session.refresh(workshop)
    assert workshop.confirmed_count == 1
    assert db_session.scalar(sa.select(sa.func.count(Registration.id))) == 1
    assert told(db_session, resident) == 1


@in_app
def test_back_after_cancelling_and_registered_meanwhile_is_read_again_under_the_lock(
    db_session, workshop_of, resident
):
    workshop = workshop_of(capacity=5)
    registrations.register(db_session, resident, workshop)
    registrations.cancel_registration(db_session, resident, workshop)

    def meanwhile():
        registrations.register(db_session, resident, workshop)

    placed = registrations.register_and_place(
        db_session, resident, workshop, before_writing=meanwhile
    )
    assert not placed.created and placed.registration.status == RegistrationStatus.CONFIRMED
    db_session.refresh(workshop)
    assert (workshop.confirmed_count, workshop.queue_seq) == (1, 3)
    assert told(db_session, resident) == 2  # the first registration, and the one after cancelling


@in_app
def test_a_checkin_code_taken_already_is_drawn_again(
    db_session, workshop_of, residents, make_user, lyon, monkeypatch
):
    workshop = workshop_of()
    holder, person, invited = residents(3)
    taken = registration(db_session, workshop, holder).checkin_code
    drawn = iter([taken, "AAAA2345", taken, "BBBB2345"])
    monkeypatch.setattr(seats, "new_code", lambda: next(drawn))
    mine, made = registrations.register(db_session, person, workshop)
    assert made and mine.checkin_code == "AAAA2345"
    moderator = make_user(lyon, role=Role.MODERATOR)
    asked = registrations.invite(db_session, moderator, workshop, invited)
    assert asked.checkin_code == "BBBB2345"
    codes = db_session.scalars(
        sa.select(Registration.checkin_code).where(Registration.workshop_id == workshop.id)
    ).all()
    assert sorted(codes) == sorted([taken, "AAAA2345", "BBBB2345"])


@in_app
def test_a_workshop_closed_under_the_lock_is_refused(db_session, workshop_of, resident):
    workshop = workshop_of()

    def meanwhile():
        db_session.execute(
            sa.update(Workshop).where(Workshop.id == workshop.id).values(status="cancelled")
        )

    with pytest.raises(Conflict) as refused:
        registrations.register_and_place(db_session, resident, workshop, before_writing=meanwhile)
    assert refused.value.slug == "not-open"
    assert db_session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_through_the_api_a_place_on_the_waitlist_is_counted_once(
    client, bearer, db_session, db_connection, workshop_of, residents
):
    workshop = workshop_of(capacity=1)
    first, second = residents(2)
    headers = [bearer(person) for person in (first, second)]
    db_session.commit()
    path = f"/api/v1/workshops/{workshop.id}/registration"
    assert client.put(path, json={"answers": {}}, headers=headers[0]).status_code == 201
    with statements(db_connection) as seen:
        answer = client.put(path, json={"answers": {}}, headers=headers[1])
    assert answer.status_code == 201
    assert (answer.get_json()["status"], answer.get_json()["waitlist_position"]) == (
        "waitlisted",
        1,
    )
    assert kinds_of(seen) == [
        "SELECT access_tokens",  # sign-in
        "SELECT workshops",  # with its campaign's status, not the campaign's phases
        "SELECT workshop_registrations",
        "SELECT users",
        "UPDATE workshops",
        "INSERT workshop_registrations",
        "INSERT notifications",
        "INSERT deliveries",
    ]
    # Sent again: the same answer, read without writing.
    with statements(db_connection) as seen:
        again = client.put(path, json={"answers": {}}, headers=headers[1])
    assert again.status_code == 200 and again.get_json() == answer.get_json()
    assert kinds_of(seen) == [
        "SELECT access_tokens",
        "SELECT workshops",
        "SELECT workshop_registrations",
        "COUNT workshop_registrations",
    ]
