"""Telling people about their workshops: their registration, changes, reminders, the summary.

Everything goes through ``notifications.service.notify`` (``notify_one`` for the one person a
registration concerns) in the caller's transaction, rendered in each reader's language and
time zone. Dedupe keys name the state a person is told about
(a registration's place in the queue and the moment of the event, a workshop's SEQUENCE), so
telling the same thing twice tells nobody again, while a person promoted, removed or
registered again is told each new time.

Only people holding a seat get the online link and the calendar file: a waitlisted person
would otherwise put a workshop in their calendar they may never have a seat at.
"""

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifications.models import Delivery, DeliveryStatus, Notification
from notifications.service import Addressee, addressee, notify, notify_one
from surveys.models import Survey, SurveyStatus
from workshops.calendar import calendar_attachment, plain_text
from workshops.listing import waitlist_position
from workshops.models import Registration, RegistrationStatus, Workshop

REGISTRATION_KIND = "workshop.registration"
REMINDER_KIND = "workshop.reminder"
CHANGED_KIND = "workshop.changed"
SUMMARY_KIND = "workshop.summary"

REGISTRATION_EVENTS = ("confirmed", "waitlisted", "promoted", "invited", "removed")
CHANGE_EVENTS = ("changed", "cancelled")
#: Events after which the person holds a seat: they get the link and the calendar file.
SEATED_EVENTS = ("confirmed", "promoted")
#: Which workshop fields make which named change in the message.
CHANGE_TOPICS = {
    "starts_at": "time",
    "ends_at": "time",
    "address": "place",
    "latitude": "place",
    "longitude": "place",
    "online_url": "online",
}


def workshop_context(workshop: Workshop, *, with_link: bool) -> dict:
    """What every workshop.* template is given; texts stay translated dicts."""
    return {
        "workshop_id": workshop.id,
        "title": dict(workshop.title),
        "campaign_title": dict(workshop.campaign.title),
        "starts_at": workshop.starts_at,
        "ends_at": workshop.ends_at,
        "address": workshop.address,
        "accessibility": dict(workshop.accessibility or {}),
        "online": bool(workshop.online_url),
        "online_url": workshop.online_url if with_link else None,
        "seat": with_link,
    }


def reminder_prefix(workshop_id: int) -> str:
    return f"workshop:{workshop_id}:reminder:"


def reminder_key(workshop_id: int, hours: int, starts_at: datetime) -> str:
    """One reminder per lead and start time: a moved workshop is reminded again."""
    return f"{reminder_prefix(workshop_id)}{hours}:{int(starts_at.timestamp())}"


def _micros(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1_000_000) if moment is not None else 0


def _event_moment(registration: Registration, event: str) -> datetime | None:
    """The moment the told state began, which a new registration, seat or invitation renews."""
    if event in SEATED_EVENTS:
        return registration.confirmed_at
    if event == "invited":
        return registration.invited_at
    if event == "removed":
        return registration.cancelled_at or registration.updated_at
    return registration.registered_at


def registration_key(registration: Registration, event: str) -> str:
    marker = f"{registration.queue_number or 0}.{_micros(_event_moment(registration, event))}"
    return f"workshop:{registration.workshop_id}:registration:{registration.id}:{event}:{marker}"


def registration_addressee(session: Session, user_id: int) -> Addressee | None:
    """What telling the person of their registration needs to know about them: read before
    the workshop's lock is taken, so that the lock is held for less."""
    return addressee(session, user_id, REGISTRATION_KIND)


def tell_registration(
    session: Session,
    registration: Registration,
    event: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
    position: int | None = None,
    to: Addressee | None = None,
) -> None:
    """Tell the person of their seat, waitlist place, promotion, invitation or removal.

    ``position``: their waitlist place if counted already; ``to``: the person as
    ``registration_addressee`` read them (else they are read here).
    """
    if event not in REGISTRATION_EVENTS:
        raise ValueError(f"unknown registration event {event!r}")
    session.flush()  # the registration's queue number and times are what the key names
    workshop = registration.workshop
    seated = event in SEATED_EVENTS and registration.status == RegistrationStatus.CONFIRMED
    # Only a removal carries the moderator's reason to the person.
    said = (reason or registration.removed_reason or "").strip() if event == "removed" else ""
    if event == "waitlisted" and position is None:
        position = waitlist_position(session, registration)
    context = {
        **workshop_context(workshop, with_link=seated),
        "event": event,
        "position": position if event == "waitlisted" else None,
        "reason": said,
    }
    notify_one(
        session,
        to if to is not None and to.recipient.id == registration.user_id else registration.user_id,
        REGISTRATION_KIND,
        context,
        data={"workshop_id": workshop.id},
        dedupe_key=registration_key(registration, event),
        now=now,
        attachments=calendar_attachment(workshop, with_link=True) if seated else None,
    )
    if event == "removed":
        withdraw_reminders(session, workshop.id, [registration.user_id])


def _registered(workshop: Workshop, status: RegistrationStatus) -> sa.Select:
    return sa.select(Registration.user_id).where(
        Registration.workshop_id == workshop.id, Registration.status == status
    )


def _topics(changes: Iterable[str]) -> list[str]:
    found = {CHANGE_TOPICS[name] for name in changes if name in CHANGE_TOPICS}
    return [topic for topic in ("time", "place", "online") if topic in found]


def tell_changed(
    session: Session,
    workshop: Workshop,
    event: str,
    *,
    changes: Iterable[str] = (),
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """Tell everyone with a seat or on the waitlist that the workshop changed or was cancelled.

    Reminders not yet delivered are withdrawn first: they name the old time or place, or a
    workshop that no longer takes place. Returns how many people were told.
    """
    if event not in CHANGE_EVENTS:
        raise ValueError(f"unknown workshop event {event!r}")
    session.flush()
    withdraw_reminders(session, workshop.id)
    cancelled = event == "cancelled"
    base = {
        "event": event,
        "changed": _topics(changes),
        "reason": (reason or "").strip(),
    }
    # Each change is a new SEQUENCE of the calendar event: its key.
    key = f"workshop:{workshop.id}:{event}:{workshop.ical_sequence}"
    attach = calendar_attachment(workshop, with_link=True, cancelled=cancelled)
    told = 0
    for status, seat in (
        (RegistrationStatus.CONFIRMED, True),
        (RegistrationStatus.WAITLISTED, False),
    ):
        told += notify(
            session,
            _registered(workshop, status),
            CHANGED_KIND,
            {**workshop_context(workshop, with_link=seat and not cancelled), **base},
            data={"workshop_id": workshop.id},
            dedupe_key=key,
            now=now,
            attachments=attach if seat else None,
        )
    return told


def tell_reminder(
    session: Session, workshop: Workshop, hours: int, moment: datetime, now: datetime
) -> int:
    """Remind those who held their seat at ``moment`` (``hours`` before the start)."""
    seated = sa.select(Registration.user_id).where(
        Registration.workshop_id == workshop.id,
        Registration.status == RegistrationStatus.CONFIRMED,
        sa.func.coalesce(Registration.confirmed_at, Registration.registered_at) <= moment,
    )
    return notify(
        session,
        seated,
        REMINDER_KIND,
        {**workshop_context(workshop, with_link=True), "hours": hours},
        data={"workshop_id": workshop.id},
        dedupe_key=reminder_key(workshop.id, hours, workshop.starts_at),
        now=now,
        attachments=calendar_attachment(workshop, with_link=True),
    )


def _follow_up(session: Session, workshop: Workshop) -> Survey | None:
    """The follow-up survey, when residents can open it."""
    if workshop.follow_up_survey_id is None:
        return None
    survey = session.get(Survey, workshop.follow_up_survey_id)
    if survey is None or survey.status != SurveyStatus.PUBLISHED:
        return None
    if survey.current_version is None:
        return None
    return survey


def tell_summary(session: Session, workshop: Workshop, now: datetime | None = None) -> int:
    """Tell the attendees what the workshop led to, with the follow-up survey if there is one."""
    session.flush()
    survey = _follow_up(session, workshop)
    attended = sa.select(Registration.user_id).where(
        Registration.workshop_id == workshop.id, Registration.checked_in_at.is_not(None)
    )
    summary = {
        locale: plain_text(text) for locale, text in (workshop.summary or {}).items() if text
    }
    context = {
        **workshop_context(workshop, with_link=False),
        "summary": summary,
        "survey_id": survey.id if survey is not None else None,
        "survey_title": dict(survey.current_version.definition.get("title") or {})
        if survey is not None
        else {},
    }
    data = {"workshop_id": workshop.id}
    if survey is not None:
        data["survey_id"] = survey.id
    return notify(
        session,
        attended,
        SUMMARY_KIND,
        context,
        data=data,
        dedupe_key=f"workshop:{workshop.id}:summary",
        now=now,
    )


def withdraw_reminders(
    session: Session, workshop_id: int, user_ids: list[int] | None = None
) -> int:
    """Cancel the workshop's reminders not yet delivered (only ``user_ids``' if given)."""
    reminders = sa.select(Notification.id).where(
        Notification.kind == REMINDER_KIND,
        Notification.dedupe_key.startswith(reminder_prefix(workshop_id), autoescape=True),
    )
    if user_ids is not None:
        if not user_ids:
            return 0
        reminders = reminders.where(Notification.user_id.in_(user_ids))
    withdrawn = session.execute(
        sa.update(Delivery)
        .where(
            Delivery.notification_id.in_(reminders),
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DIGEST]),
        )
        .values(status=DeliveryStatus.CANCELLED, last_error="reminder withdrawn")
        .execution_options(synchronize_session=False)
    ).rowcount
    return withdrawn
