"""Telling people about their workshops: registrations, changes, cancellations, the summary."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.db import utcnow
from notifications.models import Delivery, DeliveryStatus, Notification
from notifications.service import notify
from tests.surveys.helpers import make_survey
from tests.workshops.helpers import registration
from tests.workshops.telling import deliveries, event_of, told
from workshops import notices
from workshops.models import RegistrationStatus, WorkshopStatus

pytestmark = pytest.mark.usefixtures("in_app")

Status = RegistrationStatus
LINK = "https://meet.example.org/cour-7"
LYON = ZoneInfo("Europe/Paris")


def test_a_seat_is_told_with_time_place_link_and_calendar_file(
    db_session, workshop_of, resident, translate
):
    workshop = workshop_of(online_url=LINK, accessibility={"fr": "Accès de plain-pied"})
    seat = registration(db_session, workshop, resident)
    notices.tell_registration(db_session, seat, "confirmed")

    [note] = told(db_session, "workshop.registration")
    assert note.user_id == resident.id and note.locale == "fr"
    assert note.subject == translate("fr", "Your seat: %(title)s", title="Atelier de la cour")
    assert note.data == {"workshop_id": workshop.id}
    assert deliveries(db_session, note) == {"inbox": "pending", "email": "pending"}
    start = workshop.starts_at.astimezone(LYON)
    end = workshop.ends_at.astimezone(LYON)
    for body in (note.body_text, note.body_html):
        assert "12 rue de la République, 69002 Lyon" in body
        assert LINK in body
        assert f"de {start:%H:%M} à {end:%H:%M}" in body  # on Lyon's clock, in French
        assert "Accès de plain-pied" in body
    assert f'<a href="{LINK}">' in note.body_html
    [ics] = note.attachments
    assert ics["filename"] == "workshop.ics"
    assert ics["content_type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    event = event_of(ics["text"])
    assert str(event["UID"]) == workshop.ical_uid
    assert str(event["URL"]) == LINK
    assert str(event["SUMMARY"]) == "Atelier de la cour"


def test_a_german_speaker_reads_it_in_german_with_a_german_calendar_file(
    db_session, workshop_of, lyon, make_user
):
    hilde = make_user(lyon, locale="de")
    workshop = workshop_of(title={"fr": "Atelier de la cour", "de": "Hofwerkstatt"})
    notices.tell_registration(db_session, registration(db_session, workshop, hilde), "confirmed")
    [note] = told(db_session, "workshop.registration")
    assert note.locale == "de" and "Hofwerkstatt" in note.subject
    assert str(event_of(note.attachments[0]["text"])["SUMMARY"]) == "Hofwerkstatt"


def test_the_waitlist_learns_its_place_but_gets_neither_link_nor_calendar(
    db_session, workshop_of, lyon, make_user, translate
):
    workshop = workshop_of(online_url=LINK, capacity=1)
    registration(db_session, workshop, make_user(lyon))
    registration(db_session, workshop, make_user(lyon), Status.WAITLISTED)
    waiting = registration(db_session, workshop, make_user(lyon), Status.WAITLISTED)
    notices.tell_registration(db_session, waiting, "waitlisted")

    [note] = told(db_session, "workshop.registration")
    assert note.subject == translate("fr", "On the waitlist: %(title)s", title="Atelier de la cour")
    place = translate("fr", "Your place on the waitlist: %(position)s.", position=2)
    assert place in note.body_text and place in note.body_html
    assert LINK not in note.body_text and LINK not in note.body_html
    assert note.attachments == []


def test_each_new_state_is_told_once_and_again_when_it_comes_back(
    db_session, workshop_of, resident
):
    workshop = workshop_of(capacity=1)
    mine = registration(db_session, workshop, resident, Status.WAITLISTED)
    for _twice in range(2):
        notices.tell_registration(db_session, mine, "waitlisted")
    mine.status, mine.confirmed_at = Status.CONFIRMED, utcnow()
    for _twice in range(2):
        notices.tell_registration(db_session, mine, "promoted")
    assert [n.dedupe_key.split(":")[4] for n in told(db_session, "workshop.registration")] == [
        "waitlisted",
        "promoted",
    ]
    # Cancelled, registered again at the end of the queue, promoted again: told each time.
    workshop.queue_seq += 1
    later = utcnow() + timedelta(minutes=5)
    mine.status, mine.queue_number, mine.registered_at = (
        Status.WAITLISTED,
        workshop.queue_seq,
        later,
    )
    notices.tell_registration(db_session, mine, "waitlisted")
    mine.status, mine.confirmed_at = Status.CONFIRMED, later + timedelta(minutes=1)
    notices.tell_registration(db_session, mine, "promoted")
    events = [n.dedupe_key.split(":")[4] for n in told(db_session, "workshop.registration")]
    assert events == ["waitlisted", "promoted", "waitlisted", "promoted"]
    promoted = [n for n in told(db_session, "workshop.registration") if "promoted" in n.dedupe_key]
    assert all(n.attachments for n in promoted)  # a seat: the calendar file


def test_an_invitation_names_the_workshop_without_its_link(
    db_session, workshop_of, resident, translate
):
    workshop = workshop_of(online_url=LINK)
    invited = registration(db_session, workshop, resident, Status.INVITED, invited_at=utcnow())
    notices.tell_registration(db_session, invited, "invited")
    [note] = told(db_session, "workshop.registration")
    assert note.subject == translate("fr", "Invitation: %(title)s", title="Atelier de la cour")
    assert LINK not in note.body_text and note.attachments == []


def remind_everyone(session, workshop):
    """Record the 24 h reminder now, for everyone holding a seat."""
    now = utcnow()
    return notices.tell_reminder(session, workshop, 24, now, now)


def test_a_removal_gives_the_reason_escaped_and_withdraws_their_reminders(
    db_session, workshop_of, lyon, make_user, translate
):
    workshop = workshop_of()
    earlier = utcnow() - timedelta(hours=1)
    removed = registration(db_session, workshop, make_user(lyon), at=earlier)
    other = registration(db_session, workshop, make_user(lyon), at=earlier)
    assert remind_everyone(db_session, workshop) == 2

    reason = "<b>Inscrit deux fois</b>"
    removed.status, removed.cancelled_at, removed.removed_reason = Status.REMOVED, utcnow(), reason
    notices.tell_registration(db_session, removed, "removed", reason=reason)

    [note] = told(db_session, "workshop.registration")
    assert note.user_id == removed.user_id and note.attachments == []
    assert translate("fr", "Their reason: %(reason)s", reason=reason) in note.body_text
    assert "&lt;b&gt;Inscrit deux fois&lt;/b&gt;" in note.body_html and "<b>" not in note.body_html
    reminders = {n.user_id: n for n in told(db_session, "workshop.reminder")}
    assert set(deliveries(db_session, reminders[removed.user_id]).values()) == {"cancelled"}
    assert set(deliveries(db_session, reminders[other.user_id]).values()) == {"pending"}


def test_a_change_tells_seats_with_a_new_calendar_and_the_waitlist_without(
    db_session, workshop_of, lyon, make_user, translate
):
    workshop = workshop_of(online_url=LINK, capacity=1)
    seat = registration(db_session, workshop, make_user(lyon))
    waiting = registration(db_session, workshop, make_user(lyon), Status.WAITLISTED)
    registration(db_session, workshop, make_user(lyon), Status.CANCELLED)
    workshop.starts_at += timedelta(days=1)
    workshop.ends_at += timedelta(days=1)
    workshop.ical_sequence = 1

    changed = ["starts_at", "ends_at"]
    assert notices.tell_changed(db_session, workshop, "changed", changes=changed) == 2
    assert notices.tell_changed(db_session, workshop, "changed", changes=changed) == 0
    notes = {n.user_id: n for n in told(db_session, "workshop.changed")}
    assert set(notes) == {seat.user_id, waiting.user_id}
    mine, theirs = notes[seat.user_id], notes[waiting.user_id]
    assert mine.subject == translate("fr", "Changed: %(title)s", title="Atelier de la cour")
    assert translate("fr", "The time has changed.") in mine.body_text
    assert f"{workshop.starts_at.astimezone(LYON):%H:%M}" in mine.body_text
    assert LINK in mine.body_text and LINK not in theirs.body_text
    assert translate("fr", "You are still on the waitlist.") in theirs.body_text
    assert theirs.attachments == []
    event = event_of(mine.attachments[0]["text"])
    assert event["SEQUENCE"] == 1 and event.start == workshop.starts_at

    workshop.address, workshop.ical_sequence = "Maison du projet, 3 place Abbé Pierre", 2
    assert notices.tell_changed(db_session, workshop, "changed", changes=["address"]) == 2
    newest = told(db_session, "workshop.changed", seat.user_id)[-1]
    assert translate("fr", "The place has changed.") in newest.body_text
    assert translate("fr", "The time has changed.") not in newest.body_text


def test_a_cancellation_sends_a_cancelling_calendar_and_withdraws_reminders(
    db_session, workshop_of, lyon, make_user, translate
):
    workshop = workshop_of(online_url=LINK, capacity=1)
    seat = registration(db_session, workshop, make_user(lyon), at=utcnow() - timedelta(hours=1))
    waiting = registration(db_session, workshop, make_user(lyon), Status.WAITLISTED)
    remind_everyone(db_session, workshop)
    workshop.status, workshop.ical_sequence = WorkshopStatus.CANCELLED, 1

    told_now = notices.tell_changed(db_session, workshop, "cancelled", reason="Salle inondée")
    assert told_now == 2
    notes = {n.user_id: n for n in told(db_session, "workshop.changed")}
    mine = notes[seat.user_id]
    assert mine.subject == translate("fr", "Cancelled: %(title)s", title="Atelier de la cour")
    reason = translate("fr", "The organisers' reason: %(reason)s", reason="Salle inondée")
    assert reason in mine.body_text and reason in notes[waiting.user_id].body_text
    assert LINK not in mine.body_text  # nothing to join any more
    [ics] = mine.attachments
    assert ics["content_type"].endswith("method=CANCEL")
    calendar_text = ics["text"]
    assert "METHOD:CANCEL" in calendar_text and "STATUS:CANCELLED" in calendar_text
    assert event_of(calendar_text)["UID"] == workshop.ical_uid
    assert notes[waiting.user_id].attachments == []
    [reminder] = told(db_session, "workshop.reminder")
    assert set(deliveries(db_session, reminder).values()) == {"cancelled"}


def test_the_summary_reaches_attendees_with_the_follow_up_survey(
    db_session, workshop_of, lyon, make_user, moderator, campaign, translate
):
    survey = make_survey(db_session, moderator, campaign)
    workshop = workshop_of(
        status=WorkshopStatus.COMPLETED,
        summary={"fr": "Nous avons **choisi** trois arbres.\n\n- un banc\n- une fontaine"},
        follow_up_survey_id=survey.id,
    )
    came = registration(db_session, workshop, make_user(lyon), checked_in_at=utcnow())
    registration(db_session, workshop, make_user(lyon))  # did not come

    assert notices.tell_summary(db_session, workshop) == 1
    assert notices.tell_summary(db_session, workshop) == 0
    [note] = told(db_session, "workshop.summary")
    assert note.user_id == came.user_id
    assert note.data == {"workshop_id": workshop.id, "survey_id": survey.id}
    assert "Nous avons choisi trois arbres." in note.body_text and "**" not in note.body_text
    assert "- un banc\n- une fontaine" in note.body_text
    follow_up = translate(
        "fr",
        "Tell us what you think in the follow-up survey “%(survey)s” in the Living Lab app.",
        survey="Votre chauffage",
    )
    assert follow_up in note.body_text


def test_a_follow_up_survey_not_yet_published_is_not_offered(
    db_session, workshop_of, lyon, make_user, moderator, campaign
):
    draft = make_survey(db_session, moderator, campaign, publish=False)
    workshop = workshop_of(status=WorkshopStatus.COMPLETED, follow_up_survey_id=draft.id)
    registration(db_session, workshop, make_user(lyon), checked_in_at=utcnow())
    notices.tell_summary(db_session, workshop)
    [note] = told(db_session, "workshop.summary")
    assert note.data == {"workshop_id": workshop.id}
    assert "Votre chauffage" not in note.body_text


def test_withdrawing_touches_only_unsent_reminders_of_that_workshop(
    db_session, workshop_of, lyon, make_user
):
    workshop = workshop_of()
    earlier = utcnow() - timedelta(hours=1)
    anna, ben = make_user(lyon), make_user(lyon)
    for person in (anna, ben):
        registration(db_session, workshop, person, at=earlier)
    remind_everyone(db_session, workshop)
    # A workshop whose id starts with this one's, and a reminder already delivered by email.
    context = notices.workshop_context(workshop, with_link=False) | {"hours": 2}
    lookalike = f"workshop:{workshop.id}0:reminder:2:1"
    notify(db_session, [anna], "workshop.reminder", context, dedupe_key=lookalike)
    sent = (
        sa.select(Delivery.id)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == ben.id, Delivery.channel == "email")
    )
    db_session.execute(
        sa.update(Delivery).where(Delivery.id.in_(sent)).values(status=DeliveryStatus.SENT)
    )

    assert notices.withdraw_reminders(db_session, workshop.id, []) == 0
    assert notices.withdraw_reminders(db_session, workshop.id, [anna.id]) == 2
    assert notices.withdraw_reminders(db_session, workshop.id) == 1  # ben's inbox entry
    db_session.expire_all()
    by_key = {(n.user_id, n.dedupe_key): n for n in told(db_session, "workshop.reminder")}
    key = notices.reminder_key(workshop.id, 24, workshop.starts_at)
    assert deliveries(db_session, by_key[anna.id, key]) == {
        "inbox": "cancelled",
        "email": "cancelled",
    }
    assert deliveries(db_session, by_key[ben.id, key]) == {"inbox": "cancelled", "email": "sent"}
    assert set(deliveries(db_session, by_key[anna.id, lookalike]).values()) == {"pending"}


def test_unknown_events_are_a_programming_error(db_session, workshop_of, resident):
    workshop = workshop_of()
    seat = registration(db_session, workshop, resident)
    with pytest.raises(ValueError):
        notices.tell_registration(db_session, seat, "teleported")
    with pytest.raises(ValueError):
        notices.tell_changed(db_session, workshop, "postponed")
