"""The scheduler's workshop job: reminders at their hours, once, in each person's language, and
completing workshops that ended; and a reminder's email through a real SMTP server."""

from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.db import utcnow
from campaigns import service as campaigns
from notifications.delivery import deliver_due
from notifications.models import Notification
from tests.conftest import session_of
from tests.crowd import at_once, live_campaign
from tests.notifications.conftest import smtp_factory, smtp_server  # noqa: F401  (fixtures)
from tests.workshops.helpers import published_workshop, registration
from tests.workshops.telling import deliveries, parse, told
from workshops import registrations, service
from workshops.jobs import due_lead, workshop_schedule
from workshops.models import RegistrationStatus, ReminderRun, WorkshopStatus
from workshops.notices import reminder_key

pytestmark = pytest.mark.usefixtures("in_app")

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TITLE = {"fr": "Atelier de la cour", "de": "Hofwerkstatt"}
REMINDER = "workshop.reminder"


def run_at(session, moment) -> dict:
    """One run of the job with the clock at ``moment`` (the job reads the time itself)."""
    with time_machine.travel(moment, tick=False):
        return workshop_schedule(session)


@pytest.fixture
def people(db_session, lyon, make_user):
    """A German- and a French-speaking resident of Lyon."""
    return make_user(lyon, locale="de"), make_user(lyon, locale="fr")


@pytest.fixture
def booked(db_session, workshop_of, people):
    """A workshop in a week; both people took their seats five days before it."""
    workshop = workshop_of(title=TITLE)
    for person in people:
        registration(db_session, workshop, person, at=workshop.starts_at - 5 * DAY)
    return workshop


def runs(session, workshop) -> list[tuple[int, int]]:
    return list(
        session.execute(
            sa.select(ReminderRun.hours, ReminderRun.recipients)
            .where(ReminderRun.workshop_id == workshop.id)
            .order_by(ReminderRun.id)
        )
    )


def test_the_due_lead_is_the_nearest_one_passed():
    start = utcnow()
    assert due_lead([24, 2], start, start - 25 * HOUR) is None
    assert due_lead([24, 2], start, start - 24 * HOUR) == 24
    assert due_lead([2, 24], start, start - 2 * HOUR) == 2
    assert due_lead([24, 2], start, start - HOUR) == 2
    assert due_lead([24, 2], start, start) is None
    assert due_lead([], start, start - HOUR) is None


def test_participants_are_reminded_24_and_2_hours_before_in_their_language(
    db_session, booked, people, lyon, make_user
):
    hilde, marie = people
    registration(db_session, booked, make_user(lyon), RegistrationStatus.WAITLISTED)
    registration(db_session, booked, make_user(lyon), RegistrationStatus.CANCELLED)
    start = booked.starts_at

    assert run_at(db_session, start - 25 * HOUR)["reminded"] == 0
    assert run_at(db_session, start - 24 * HOUR)["reminded"] == 1
    assert run_at(db_session, start - 24 * HOUR + timedelta(minutes=1))["reminded"] == 0
    assert run_at(db_session, start - 3 * HOUR)["reminded"] == 0
    notes = {n.user_id: n for n in told(db_session, REMINDER)}
    assert set(notes) == {hilde.id, marie.id}
    german, french = notes[hilde.id], notes[marie.id]
    assert german.locale == "de" and "Hofwerkstatt" in german.subject
    assert french.locale == "fr" and "Atelier de la cour" in french.subject
    assert german.dedupe_key == reminder_key(booked.id, 24, start)
    assert german.data == {"workshop_id": booked.id}
    assert deliveries(db_session, german) == {"inbox": "pending", "email": "pending"}
    calendar_file = parse(german.attachments[0]["text"])
    assert str(calendar_file.events[0]["SUMMARY"]) == "Hofwerkstatt"
    assert str(calendar_file.events[0]["UID"]) == booked.ical_uid

    assert run_at(db_session, start - 2 * HOUR)["reminded"] == 1
    assert run_at(db_session, start - HOUR)["reminded"] == 0
    assert run_at(db_session, start + timedelta(minutes=1))["reminded"] == 0
    keys = sorted({n.dedupe_key for n in told(db_session, REMINDER)})
    assert keys == sorted([reminder_key(booked.id, h, start) for h in (24, 2)])
    assert len(told(db_session, REMINDER)) == 4
    assert runs(db_session, booked) == [(24, 2), (2, 2)]


def test_a_reminder_missed_while_the_scheduler_was_down_is_skipped(db_session, booked):
    start = booked.starts_at
    assert run_at(db_session, start - 90 * timedelta(minutes=1))["reminded"] == 1
    assert run_at(db_session, start - 30 * timedelta(minutes=1))["reminded"] == 0
    assert {n.dedupe_key for n in told(db_session, REMINDER)} == {reminder_key(booked.id, 2, start)}
    assert runs(db_session, booked) == [(2, 2)]


def test_the_workshops_own_reminder_hours_are_used(db_session, booked):
    booked.reminder_hours = [72]
    start = booked.starts_at
    assert run_at(db_session, start - 24 * HOUR)["reminded"] == 1  # the 72 h one, late
    assert run_at(db_session, start - 2 * HOUR)["reminded"] == 0
    assert runs(db_session, booked) == [(72, 2)]


def test_someone_seated_after_the_reminders_moment_is_not_reminded_of_it(
    db_session, booked, lyon, make_user
):
    start = booked.starts_at
    late = make_user(lyon)
    registration(db_session, booked, late, at=start - 23 * HOUR)
    run_at(db_session, start - 22 * HOUR)  # the 24 h reminder, an hour late
    assert late.id not in {n.user_id for n in told(db_session, REMINDER)}
    run_at(db_session, start - 2 * HOUR)
    assert late.id in {n.user_id for n in told(db_session, REMINDER)}


def test_a_cancelled_workshop_gets_no_more_reminders_and_loses_unsent_ones(
    db_session, booked, moderator
):
    start = booked.starts_at
    run_at(db_session, start - 24 * HOUR)
    service.cancel_workshop(db_session, moderator, booked, "Salle inondée", now=start - 23 * HOUR)
    for note in told(db_session, REMINDER):
        assert set(deliveries(db_session, note).values()) == {"cancelled"}
    assert run_at(db_session, start - 2 * HOUR)["reminded"] == 0
    assert len(told(db_session, REMINDER)) == 2
    assert len(told(db_session, "workshop.changed")) == 2


def test_a_cancelled_registration_gets_no_more_reminders(db_session, booked, people):
    hilde, marie = people
    start = booked.starts_at
    run_at(db_session, start - 24 * HOUR)
    with time_machine.travel(start - 23 * HOUR, tick=False):
        registrations.cancel_registration(db_session, marie, booked)
    [hers] = told(db_session, REMINDER, marie.id)
    assert set(deliveries(db_session, hers).values()) == {"cancelled"}
    [his] = told(db_session, REMINDER, hilde.id)
    assert set(deliveries(db_session, his).values()) == {"pending"}
    run_at(db_session, start - 2 * HOUR)
    assert len(told(db_session, REMINDER, marie.id)) == 1
    assert len(told(db_session, REMINDER, hilde.id)) == 2


def test_moving_the_workshop_reminds_again_for_its_new_time(db_session, booked, moderator):
    start = booked.starts_at
    run_at(db_session, start - 24 * HOUR)
    later = start + 3 * DAY
    service.update_workshop(
        db_session,
        moderator,
        booked,
        starts_at=later,
        ends_at=later + 2 * HOUR,
        now=start - 23 * HOUR,
    )
    assert booked.ical_sequence == 1
    # The reminder of the old time, not yet delivered, is withdrawn; people were told the news.
    for note in told(db_session, REMINDER):
        assert set(deliveries(db_session, note).values()) == {"cancelled"}
    assert len(told(db_session, "workshop.changed")) == 2

    assert run_at(db_session, start - 2 * HOUR)["reminded"] == 0  # the old time
    assert run_at(db_session, later - 24 * HOUR)["reminded"] == 1
    newest = [
        n for n in told(db_session, REMINDER) if n.dedupe_key == reminder_key(booked.id, 24, later)
    ]
    assert len(newest) == 2
    event = parse(newest[0].attachments[0]["text"]).events[0]
    assert event.start.astimezone(UTC) == later and event["SEQUENCE"] == 1
    assert run_at(db_session, later - 2 * HOUR)["reminded"] == 1
    assert len(told(db_session, REMINDER)) == 6


def test_drafts_and_workshops_of_archived_campaigns_are_not_reminded(
    db_session, workshop_of, people, moderator, campaign
):
    draft = workshop_of(status=WorkshopStatus.DRAFT, published_at=None)
    live = workshop_of()
    for workshop in (draft, live):
        registration(db_session, workshop, people[0], at=utcnow() - DAY)
    campaigns.archive_campaign(db_session, moderator, campaign)
    assert run_at(db_session, live.starts_at - HOUR)["reminded"] == 0
    assert told(db_session, REMINDER) == []


def test_a_workshop_that_ended_is_completed_once(db_session, booked, workshop_of):
    called_off = workshop_of(status=WorkshopStatus.CANCELLED)
    end = booked.ends_at
    assert run_at(db_session, end - timedelta(minutes=1))["completed"] == 0
    assert run_at(db_session, end + timedelta(minutes=1))["completed"] == 1
    assert run_at(db_session, end + timedelta(minutes=2))["completed"] == 0
    db_session.refresh(booked)
    db_session.refresh(called_off)
    assert booked.status == WorkshopStatus.COMPLETED
    assert booked.completed_at == end + timedelta(minutes=1)
    assert called_off.status == WorkshopStatus.CANCELLED


# --- by email, through a real SMTP server ---------------------------------------------------


def test_the_reminder_email_is_in_the_readers_language_with_a_calendar_file(
    db_session,
    booked,
    people,
    smtp_server,  # noqa: F811  (the fixture imported above)
):
    hilde, _marie = people
    start, uid, address = booked.starts_at, booked.ical_uid, hilde.email
    run_at(db_session, start - 24 * HOUR)
    db_session.commit()
    deliver_due(db_session, now=start - 24 * HOUR)

    [message] = smtp_server.to(address)
    assert message["Content-Language"] == "de"
    assert "Hofwerkstatt" in message["Subject"]
    assert message.get_content_type() == "multipart/mixed"
    assert "Hofwerkstatt" in message.get_body(("plain",)).get_content()
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "PUBLISH"
    assert attached.get_filename() == "workshop.ics"
    calendar_file = parse(attached.get_content())
    assert str(calendar_file["METHOD"]) == "PUBLISH"
    [event] = calendar_file.events
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 0
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.start.astimezone(UTC) == start
    assert str(event["SUMMARY"]) == "Hofwerkstatt"
    assert [tz.tz_name for tz in calendar_file.timezones] == ["Europe/Paris"]


# --- two schedulers at once, on a database committed for real -------------------------------


def test_two_schedulers_at_once_remind_each_participant_once(committed_app):
    live = committed_app
    now = utcnow().replace(microsecond=0)
    start = now + 24 * HOUR - timedelta(minutes=1)
    with session_of(live) as session:
        _city, _root, people, campaign = live_campaign(session, 12)
        workshop = published_workshop(session, campaign, starts_at=start, published_at=now - DAY)
        for person in people:
            registration(session, workshop, person, at=now - DAY)
        session.commit()
        workshop_id = workshop.id

    def scheduler():
        with live.app_context(), session_of(live) as session:
            return workshop_schedule(session, now)

    results, errors = at_once(4, scheduler)
    assert errors == []
    assert sum(r["reminded"] for r in results) == 1
    with session_of(live) as session:
        keys = session.execute(
            sa.select(Notification.dedupe_key, sa.func.count()).group_by(Notification.dedupe_key)
        ).all()
        reminder_runs = session.scalars(
            sa.select(ReminderRun).where(ReminderRun.workshop_id == workshop_id)
        ).all()
    assert dict(keys) == {reminder_key(workshop_id, 24, start): 12}
    assert [(r.hours, r.recipients) for r in reminder_runs] == [(24, 12)]
