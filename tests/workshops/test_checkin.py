"""Checking people in at the door: by name or by the code they show, once, from two hours
before the start."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from workshops import checkin, registrations, service
from workshops.checkin import ALPHABET, display_code, normalized_code
from workshops.models import WorkshopStatus

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def workshop(workshop_of):
    return workshop_of(capacity=1)


@pytest.fixture
def at_the_door(workshop):
    """Half an hour before the start."""
    return workshop.starts_at - timedelta(minutes=30)


def test_codes_are_read_as_people_type_them():
    assert display_code("ABCD2345") == "ABCD-2345"
    assert normalized_code("abcd-2345") == "ABCD2345"
    assert normalized_code(" ab cd 23 45 ") == "ABCD2345"
    # Letters that look like digits are the digits; U and anything outside the alphabet is no code.
    assert normalized_code("oIL0-0000") == "01100000"
    assert normalized_code("ABCD-234") is None
    assert normalized_code("ABCD-234U") is None
    assert normalized_code("ABCD-2345-6") is None
    assert set(ALPHABET).isdisjoint("ILOU")


def test_a_person_is_checked_in_once_by_their_code(
    db_session, workshop, resident, moderator, at_the_door
):
    registration, _ = registrations.register(db_session, resident, workshop)
    typed = display_code(registration.checkin_code).lower()
    checked, recorded = checkin.check_in(
        db_session, moderator, workshop, code=typed, now=at_the_door
    )
    assert (checked.id, recorded) == (registration.id, True)
    assert (checked.checked_in_at, checked.checked_in_by_id) == (at_the_door, moderator.id)
    # A second scan, later, changes nothing and says when the first was.
    again, recorded = checkin.check_in(
        db_session,
        moderator,
        workshop,
        registration_id=registration.id,
        now=at_the_door + timedelta(minutes=10),
    )
    assert (again.id, recorded, again.checked_in_at) == (registration.id, False, at_the_door)
    local = at_the_door.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert checkin.already_checked_in(again) == f"Already checked in at {local}."


def test_a_waitlisted_person_may_be_let_in(db_session, workshop, residents, moderator, at_the_door):
    first, second = residents(2)
    registrations.register(db_session, first, workshop)
    waiting, _ = registrations.register(db_session, second, workshop)
    checked, recorded = checkin.check_in(
        db_session, moderator, workshop, registration_id=waiting.id, now=at_the_door
    )
    assert recorded and checked.status == "waitlisted"


def test_check_in_opens_two_hours_before_the_start(db_session, workshop, resident, moderator):
    registration, _ = registrations.register(db_session, resident, workshop)
    too_early = workshop.starts_at - timedelta(hours=2, minutes=1)
    with pytest.raises(Conflict) as refused:
        checkin.check_in(
            db_session, moderator, workshop, registration_id=registration.id, now=too_early
        )
    assert refused.value.slug == "checkin-not-open"
    assert registration.checked_in_at is None
    # After the end, attendance may still be recorded, also on a completed workshop.
    service.complete_workshop(db_session, moderator, workshop, now=workshop.ends_at)
    _, recorded = checkin.check_in(
        db_session,
        moderator,
        workshop,
        registration_id=registration.id,
        now=workshop.ends_at + timedelta(hours=1),
    )
    assert recorded


def test_unknown_codes_and_other_registrations_are_refused(
    db_session, workshop_of, workshop, residents, moderator, at_the_door
):
    mine, theirs = residents(2)
    registration, _ = registrations.register(db_session, mine, workshop)
    other, _ = registrations.register(db_session, theirs, workshop_of())
    with pytest.raises(Invalid) as refused:
        checkin.check_in(db_session, moderator, workshop, code="1234", now=at_the_door)
    assert list(refused.value.errors) == ["code"]
    unknown = "".join(sorted(set(ALPHABET) - set(registration.checkin_code))[:8])
    for values in (
        {"code": unknown},
        {"code": other.checkin_code},
        {"registration_id": other.id},
        {"registration_id": 2**40},
    ):
        with pytest.raises(NotFound):
            checkin.check_in(db_session, moderator, workshop, now=at_the_door, **values)
    with pytest.raises(Invalid):
        checkin.check_in(db_session, moderator, workshop, now=at_the_door)
    with pytest.raises(Invalid):
        checkin.check_in(
            db_session,
            moderator,
            workshop,
            registration_id=registration.id,
            code=registration.checkin_code,
            now=at_the_door,
        )
    assert other.checked_in_at is None and registration.checked_in_at is None


def test_cancelled_people_and_workshops_check_nobody_in(
    db_session, workshop, residents, moderator, at_the_door
):
    leaving, staying = residents(2)
    registrations.register(db_session, leaving, workshop)
    left = registrations.cancel_registration(db_session, leaving, workshop)
    with pytest.raises(Conflict) as refused:
        checkin.check_in(db_session, moderator, workshop, registration_id=left.id, now=at_the_door)
    assert refused.value.slug == "not-registered"
    registration, _ = registrations.register(db_session, staying, workshop)
    service.cancel_workshop(db_session, moderator, workshop)
    with pytest.raises(Conflict) as refused:
        checkin.check_in(
            db_session, moderator, workshop, registration_id=registration.id, now=at_the_door
        )
    assert refused.value.slug == "workshop-cancelled"
    assert registration.checked_in_at is None


def test_only_the_citys_editors_check_people_in(
    db_session, workshop, resident, vienna, make_user, lyon, at_the_door
):
    registration, _ = registrations.register(db_session, resident, workshop)
    for person, refusal in (
        (resident, NotAllowed),
        (make_user(lyon, role=Role.STAFF), NotAllowed),
        (make_user(vienna, role=Role.MODERATOR), NotFound),
    ):
        with pytest.raises(refusal):
            checkin.check_in(
                db_session, person, workshop, code=registration.checkin_code, now=at_the_door
            )
        with pytest.raises(refusal):
            checkin.undo_check_in(db_session, person, workshop, registration.id)
    assert registration.checked_in_at is None


def test_undoing_a_check_in(db_session, workshop, resident, moderator, at_the_door):
    registration, _ = registrations.register(db_session, resident, workshop)
    checkin.check_in(
        db_session, moderator, workshop, registration_id=registration.id, now=at_the_door
    )
    undone = checkin.undo_check_in(db_session, moderator, workshop, registration.id)
    assert (undone.checked_in_at, undone.checked_in_by_id) == (None, None)
    # Undoing twice changes nothing; checking in again records a new time.
    checkin.undo_check_in(db_session, moderator, workshop, registration.id)
    later = at_the_door + timedelta(minutes=5)
    _, recorded = checkin.check_in(
        db_session, moderator, workshop, code=registration.checkin_code, now=later
    )
    assert recorded and registration.checked_in_at == later


def test_a_draft_checks_nobody_in(db_session, workshop_of, moderator):
    draft = workshop_of(status=WorkshopStatus.DRAFT)
    with pytest.raises(Conflict) as refused:
        checkin.check_in(db_session, moderator, draft, code="ABCD-2345", now=draft.starts_at)
    assert refused.value.slug == "not-published"
