"""Registering, the waitlist and its order, cancelling, and moderators inviting, removing and
confirming people: seats are never exceeded and everyone is told."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from campaigns import service as campaigns
from notifications.models import Delivery, DeliveryStatus, Notification
from workshops import listing, registrations
from workshops.models import Registration, Workshop, WorkshopStatus
from workshops.notices import reminder_key

pytestmark = pytest.mark.usefixtures("in_app")

QUESTIONS = [
    {
        "code": "diet",
        "label": {"fr": "Régime"},
        "required": True,
        "choices": [
            {"code": "vegan", "label": {"fr": "Végétalien"}},
            {"code": "none", "label": {"fr": "Aucun"}},
        ],
    },
    {"code": "access", "label": {"fr": "Besoins d'accès"}, "required": False},
]


def statuses(db_session, workshop) -> list[tuple[int, str, int | None]]:
    """(user id, status, queue number) of every registration, in queue order."""
    return db_session.execute(
        sa.select(Registration.user_id, Registration.status, Registration.queue_number)
        .where(Registration.workshop_id == workshop.id)
        .order_by(Registration.queue_number, Registration.id)
    ).all()


def seats(db_session, workshop) -> int:
    db_session.refresh(workshop)
    counted = db_session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.workshop_id == workshop.id, Registration.status == "confirmed"
        )
    )
    assert counted == workshop.confirmed_count
    return workshop.confirmed_count


def test_seats_first_then_the_waitlist_in_arrival_order(db_session, workshop_of, residents, told):
    workshop = workshop_of(capacity=3)
    people = residents(5)
    results = [registrations.register(db_session, p, workshop) for p in people]
    assert [made for _, made in results] == [True] * 5
    assert [r.status for r, _ in results] == ["confirmed"] * 3 + ["waitlisted"] * 2
    numbers = [r.queue_number for r, _ in results]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    assert seats(db_session, workshop) == 3
    assert [listing.waitlist_position(db_session, r) for r, _ in results] == [
        None,
        None,
        None,
        1,
        2,
    ]
    assert told(people[0]) == [("workshop.registration", "confirmed")]
    assert told(people[4]) == [("workshop.registration", "waitlisted")]
    # Each registration has its own check-in code.
    codes = {r.checkin_code for r, _ in results}
    assert len(codes) == 5 and all(len(code) == 8 for code in codes)


def test_registering_again_changes_nothing_but_the_answers(db_session, workshop_of, resident, told):
    workshop = workshop_of(questions=QUESTIONS)
    first, made = registrations.register(db_session, resident, workshop, answers={"diet": "vegan"})
    assert made and first.answers == {"diet": "vegan"}
    again, made = registrations.register(db_session, resident, workshop)
    assert (again.id, made, again.answers) == (first.id, False, {"diet": "vegan"})
    again, made = registrations.register(
        db_session, resident, workshop, answers={"diet": "none", "access": "Fauteuil"}
    )
    assert (again.id, made) == (first.id, False)
    assert again.answers == {"diet": "none", "access": "Fauteuil"}
    assert seats(db_session, workshop) == 1
    assert told(resident) == [("workshop.registration", "confirmed")]


def test_answers_are_checked_and_nothing_changes_when_refused(db_session, workshop_of, resident):
    workshop = workshop_of(questions=QUESTIONS)
    cases = [
        ({}, {"diet": ["An answer is required."]}),
        ({"diet": "fish"}, {"diet": ["Not one of the choices."]}),
        ({"diet": "none", "shoe": "42"}, {"shoe": ["Not a question of this workshop."]}),
        (
            {"diet": "none", "access": "x" * 501},
            {"access": ["Longer than the maximum length of 500."]},
        ),
        ({"diet": 3}, {"diet": ["Not a valid text."]}),
    ]
    for answers, problems in cases:
        with pytest.raises(Invalid) as refused:
            registrations.register(db_session, resident, workshop, answers=answers)
        assert refused.value.errors == {"answers": problems}
    assert statuses(db_session, workshop) == []
    assert seats(db_session, workshop) == 0


def test_cancelling_gives_the_seat_to_the_first_on_the_waitlist(
    db_session, workshop_of, residents, told
):
    workshop = workshop_of(capacity=2)
    a, b, c, d = residents(4)
    for person in (a, b, c, d):
        registrations.register(db_session, person, workshop)
    cancelled = registrations.cancel_registration(db_session, a, workshop)
    assert cancelled.status == "cancelled"
    rows = {user: status for user, status, _ in statuses(db_session, workshop)}
    assert rows == {a.id: "cancelled", b.id: "confirmed", c.id: "confirmed", d.id: "waitlisted"}
    assert told(c)[-1] == ("workshop.registration", "promoted")
    assert told(d) == [("workshop.registration", "waitlisted")]
    assert seats(db_session, workshop) == 2
    # Cancelling again changes nothing; a waitlisted person cancelling frees no seat.
    assert registrations.cancel_registration(db_session, a, workshop).status == "cancelled"
    registrations.cancel_registration(db_session, d, workshop)
    assert seats(db_session, workshop) == 2
    assert registrations.cancel_registration(db_session, residents(1)[0], workshop) is None


def test_registering_again_after_cancelling_goes_to_the_end_of_the_queue(
    db_session, workshop_of, residents
):
    workshop = workshop_of(capacity=1)
    a, b = residents(2)
    first, _ = registrations.register(db_session, a, workshop)
    code, number = first.checkin_code, first.queue_number
    registrations.register(db_session, b, workshop)
    registrations.cancel_registration(db_session, a, workshop)
    again, made = registrations.register(db_session, a, workshop)
    assert (again.id, made, again.status) == (first.id, True, "waitlisted")
    assert again.queue_number > number and again.checkin_code == code
    assert listing.waitlist_position(db_session, again) == 1


def test_cancelling_withdraws_the_persons_pending_reminders(db_session, workshop_of, residents):
    workshop = workshop_of()
    a, b = residents(2)
    for person in (a, b):
        registrations.register(db_session, person, workshop)
    for person in (a, b):
        notification = Notification(
            user_id=person.id,
            city_id=person.city_id,
            kind="workshop.reminder",
            locale="fr",
            subject="Rappel",
            body_text="",
            body_html="",
            dedupe_key=reminder_key(workshop.id, 24, workshop.starts_at),
        )
        db_session.add(notification)
        db_session.flush()
        db_session.add(
            Delivery(
                notification_id=notification.id,
                channel="email",
                status=DeliveryStatus.PENDING,
                due_at=utcnow(),
            )
        )
    db_session.flush()
    registrations.cancel_registration(db_session, a, workshop)
    rows = db_session.execute(
        sa.select(Notification.user_id, Delivery.status)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Notification.kind == "workshop.reminder")
    ).all()
    assert sorted(rows) == sorted([(a.id, "cancelled"), (b.id, "pending")])


def test_registration_follows_its_window(db_session, workshop_of, resident):
    now = utcnow()
    later = workshop_of(registration_opens_at=now + timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        registrations.register(db_session, resident, later, now=now)
    assert refused.value.slug == "registration-not-open"
    assert not registrations.registration_is_open(later, now)
    assert registrations.registration_is_open(later, now + timedelta(days=2))
    closed = workshop_of(
        published_at=now - timedelta(days=1), registration_closes_at=now - timedelta(minutes=1)
    )
    with pytest.raises(Conflict) as refused:
        registrations.register(db_session, resident, closed, now=now)
    assert refused.value.slug == "registration-closed"
    started = workshop_of()
    with pytest.raises(Conflict):
        registrations.register(db_session, resident, started, now=started.starts_at)
    assert db_session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_who_may_register(db_session, workshop_of, resident, vienna, make_user, moderator):
    workshop = workshop_of()
    with pytest.raises(NotFound):
        registrations.register(db_session, make_user(vienna), workshop)
    draft = workshop_of(status=WorkshopStatus.DRAFT, published_at=None)
    with pytest.raises(NotFound):
        registrations.register(db_session, resident, draft)
    cancelled = workshop_of(status=WorkshopStatus.CANCELLED)
    with pytest.raises(Conflict):
        registrations.register(db_session, resident, cancelled)
    # A Vienna moderator sees Lyon's workshop in no way.
    with pytest.raises(NotFound):
        registrations.cancel_registration(
            db_session, make_user(vienna, role=Role.MODERATOR), workshop
        )
    assert db_session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_nobody_cancels_after_the_start(db_session, workshop_of, resident):
    workshop = workshop_of()
    registrations.register(db_session, resident, workshop)
    with pytest.raises(Conflict):
        registrations.cancel_registration(db_session, resident, workshop, now=workshop.starts_at)
    assert seats(db_session, workshop) == 1


def test_no_promotion_after_the_start(db_session, workshop_of, residents, moderator):
    workshop = workshop_of(capacity=1)
    a, b = residents(2)
    first, _ = registrations.register(db_session, a, workshop)
    registrations.register(db_session, b, workshop)
    registrations.remove(
        db_session, moderator, workshop, first, "Double inscription", now=workshop.starts_at
    )
    assert registrations.fill_seats(db_session, workshop, now=workshop.starts_at) == []
    assert [s for _, s, _ in statuses(db_session, workshop)] == ["removed", "waitlisted"]


# --- moderators -----------------------------------------------------------------------------


def logged(db_session) -> list[tuple]:
    return db_session.execute(
        sa.select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.reason).order_by(AuditEntry.id)
    ).all()


def test_an_invited_resident_holds_no_seat_until_registering(
    db_session, workshop_of, resident, moderator, told
):
    now = utcnow()
    workshop = workshop_of(
        published_at=now - timedelta(days=2), registration_closes_at=now - timedelta(days=1)
    )
    invitation = registrations.invite(db_session, moderator, workshop, resident)
    assert (invitation.status, invitation.invited_by_id) == ("invited", moderator.id)
    assert seats(db_session, workshop) == 0
    assert told(resident) == [("workshop.registration", "invited")]
    # Inviting twice changes nothing and tells nobody again.
    assert registrations.invite(db_session, moderator, workshop, resident).id == invitation.id
    assert len(told(resident)) == 1
    # The window is closed, but the invitation opens it for this person until the start.
    registration, made = registrations.register(db_session, resident, workshop, now=now)
    assert (registration.id, registration.status, made) == (invitation.id, "confirmed", True)
    assert seats(db_session, workshop) == 1
    with pytest.raises(Conflict):
        registrations.invite(db_session, moderator, workshop, resident)
    assert logged(db_session) == [("workshop.invite", moderator.id, None)]


def test_only_residents_of_the_city_are_invited_by_its_moderators(
    db_session, workshop_of, resident, moderator, vienna, make_user
):
    workshop = workshop_of()
    with pytest.raises(Invalid) as refused:
        registrations.invite(db_session, moderator, workshop, make_user(vienna))
    assert list(refused.value.errors) == ["person"]
    with pytest.raises(NotFound):
        registrations.invite(db_session, make_user(vienna, role=Role.MODERATOR), workshop, resident)
    with pytest.raises(NotAllowed):
        registrations.invite(db_session, resident, workshop, resident)
    assert statuses(db_session, workshop) == [] and logged(db_session) == []


def test_removing_someone_tells_them_why_and_seats_the_next(
    db_session, workshop_of, residents, moderator, told
):
    workshop = workshop_of(capacity=1)
    a, b = residents(2)
    first, _ = registrations.register(db_session, a, workshop)
    registrations.register(db_session, b, workshop)
    removed = registrations.remove(db_session, moderator, workshop, first, "  Inscrit deux fois ")
    assert (removed.status, removed.removed_reason) == ("removed", "Inscrit deux fois")
    assert told(a)[-1] == ("workshop.registration", "removed")
    assert told(b)[-1] == ("workshop.registration", "promoted")
    assert seats(db_session, workshop) == 1
    assert logged(db_session) == [("workshop.remove", moderator.id, "Inscrit deux fois")]
    # Removing twice changes nothing; the person cannot come back by themselves.
    registrations.remove(db_session, moderator, workshop, removed, None)
    assert len(logged(db_session)) == 1
    with pytest.raises(Conflict) as refused:
        registrations.register(db_session, a, workshop)
    assert refused.value.slug == "removed"
    # A moderator may invite them again.
    assert registrations.invite(db_session, moderator, workshop, a).status == "invited"


def test_a_reason_too_long_is_refused(db_session, workshop_of, resident, moderator):
    workshop = workshop_of()
    registration, _ = registrations.register(db_session, resident, workshop)
    with pytest.raises(Invalid) as refused:
        registrations.remove(db_session, moderator, workshop, registration, "x" * 2001)
    assert list(refused.value.errors) == ["reason"]
    assert registration.status == "confirmed" and seats(db_session, workshop) == 1


def test_confirming_needs_a_free_seat(db_session, workshop_of, residents, moderator, told):
    workshop = workshop_of(capacity=1)
    a, b, c = residents(3)
    registrations.register(db_session, a, workshop)
    waiting, _ = registrations.register(db_session, b, workshop)
    invited = registrations.invite(db_session, moderator, workshop, c)
    for registration in (waiting, invited):
        with pytest.raises(Conflict) as refused:
            registrations.confirm(db_session, moderator, workshop, registration)
        assert (
            refused.value.detail == "No seat is free. Raise the capacity or remove someone first."
        )
    assert seats(db_session, workshop) == 1
    workshop.capacity = 3
    db_session.flush()
    for registration in (invited, waiting):
        assert registrations.confirm(db_session, moderator, workshop, registration).status == (
            "confirmed"
        )
    assert seats(db_session, workshop) == 3
    assert told(c)[-1] == ("workshop.registration", "confirmed")
    assert invited.queue_number is not None
    # Confirming twice changes nothing.
    registrations.confirm(db_session, moderator, workshop, invited)
    assert seats(db_session, workshop) == 3
    actions = [action for action, _, _ in logged(db_session)]
    assert actions == ["workshop.invite", "workshop.confirm", "workshop.confirm"]


def test_a_registration_of_another_workshop_is_not_found(
    db_session, workshop_of, resident, moderator
):
    mine, other = workshop_of(), workshop_of()
    registration, _ = registrations.register(db_session, resident, other)
    for act in (
        lambda: registrations.confirm(db_session, moderator, mine, registration),
        lambda: registrations.remove(db_session, moderator, mine, registration, None),
    ):
        with pytest.raises(NotFound):
            act()
    assert registration.status == "confirmed"


def test_an_archived_campaign_changes_no_more(
    db_session, workshop_of, resident, moderator, campaign
):
    workshop = workshop_of()
    registration, _ = registrations.register(db_session, resident, workshop)
    campaigns.archive_campaign(db_session, moderator, campaign)
    with pytest.raises(Conflict):
        registrations.remove(db_session, moderator, workshop, registration, None)
    # Residents no longer see the workshop at all.
    with pytest.raises(NotFound):
        registrations.cancel_registration(db_session, resident, workshop)
    assert db_session.get(Workshop, workshop.id).confirmed_count == 1
