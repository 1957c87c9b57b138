"""Registering for a workshop: seats, the waitlist in arrival order, cancelling, and what
moderators do by hand (invite, remove, confirm).

Seats never run over (SECURITY.md #21): every change of status happens under the workshop
row's lock, taken in ``workshops.seats``; the registration is read afresh under it (or, for a
person never registered, inserted only if still absent: the unique (workshop, person) key
decides), and queue numbers are handed out under it, so their order is the order in which
people were served. Registering checks everything it can before taking the lock, and reads
what the person's notice needs then too, so that the lock is held for the writes only.

Decisions:
- Registering again is the same row (unique per workshop and person): already holding a seat
  or a waitlist place, the call changes nothing but the answers given; after cancelling, or
  when invited, the person goes to the end of the queue with a new number.
- Invited people may register outside the registration window, until the start.
- A person a moderator removed cannot register again by themselves; a moderator may invite
  them again.
- A freed seat goes to the first on the waitlist at once (``fill_seats``), while the workshop
  is published and has not started; after the start nobody is promoted any more.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import can, ensure
from campaigns.models import CampaignStatus
from campaigns.service import ensure_not_archived
from i18n import _
from notifications.service import Addressee
from workshops import notices, seats
from workshops.listing import waitlist_position
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus
from workshops.seats import fill_seats, free_seat, lock_workshop, take_number, take_seat

Status = RegistrationStatus
#: Statuses in which the person is expected: a seat or a place on the waitlist.
HOLDING = (Status.CONFIRMED, Status.WAITLISTED)
MAX_ANSWER = 500
MAX_REASON = 2000
# --- reading -------------------------------------------------------------------------------


#: Built once: registering runs it once or twice.
_MINE = (
    sa.select(Registration)
    .where(
        Registration.workshop_id == sa.bindparam("workshop_id"),
        Registration.user_id == sa.bindparam("user_id"),
    )
    .execution_options(populate_existing=True)
)


def my_registration(session: Session, user: User, workshop: Workshop) -> Registration | None:
    """The person's registration at the workshop, in any status, read afresh."""
    return session.scalar(_MINE, {"workshop_id": workshop.id, "user_id": user.id})


def registration_is_open(workshop: Workshop, now: datetime) -> bool:
    """Published (and its campaign), within [opens or publication, closes or start)."""
    if (
        workshop.status != WorkshopStatus.PUBLISHED
        or workshop.campaign.status != CampaignStatus.PUBLISHED
    ):
        return False
    opens = workshop.registration_opens_at or workshop.published_at
    closes = min(workshop.registration_closes_at or workshop.starts_at, workshop.starts_at)
    return (opens is None or opens <= now) and now < closes


# --- residents -----------------------------------------------------------------------------


def check_answers(workshop: Workshop, answers) -> dict[str, str]:
    """Answers to the workshop's questions by code: choices by their codes, written answers
    of at most 500 characters, every required question answered."""
    if not isinstance(answers, dict):
        raise Invalid(errors={"answers": [_("Answer the questions by their codes.")]})
    questions = {question["code"]: question for question in workshop.questions}
    problems: dict[str, list[str]] = {}
    checked: dict[str, str] = {}
    for code, value in answers.items():
        question = questions.get(code)
        if question is None:
            problems[str(code)] = [_("Not a question of this workshop.")]
            continue
        if value is not None and not isinstance(value, str):
            problems[code] = [_("Not a valid text.")]
            continue
        text = (value or "").replace("\r\n", "\n").strip()
        if not text:
            continue
        if question.get("choices") is not None:
            if text not in {choice["code"] for choice in question["choices"]}:
                problems[code] = [_("Not one of the choices.")]
                continue
        elif len(text) > MAX_ANSWER:
            problems[code] = [_("Longer than the maximum length of %(max)d.", max=MAX_ANSWER)]
            continue
        checked[code] = text
    for code, question in questions.items():
        if question.get("required") and code not in checked and code not in problems:
            problems[code] = [_("An answer is required.")]
    if problems:
        raise Invalid(errors={"answers": problems})
    return checked


def _ensure_visible(user: User, workshop: Workshop) -> None:
    """Residents act on workshops they may read; anything else reads as not found."""
    if not can(user, "workshop.read", workshop):
        raise NotFound()


def _ensure_may_register(user: User, workshop: Workshop) -> None:
    _ensure_visible(user, workshop)
    if workshop.status == WorkshopStatus.CANCELLED:
        raise Conflict(_("This workshop was cancelled."), slug="workshop-cancelled")
    if workshop.status == WorkshopStatus.COMPLETED:
        raise Conflict(_("This workshop is over."), slug="workshop-over")
    ensure(user, "workshop.register", workshop)
    ensure_not_archived(workshop.campaign)


def _ensure_open(workshop: Workshop, registration: Registration | None, now: datetime) -> None:
    if registration is not None and registration.status == Status.REMOVED:
        raise Conflict(
            _("The organisers took you off this workshop. Please contact them."), slug="removed"
        )
    invited = registration is not None and registration.status == Status.INVITED
    if invited and now < workshop.starts_at:
        return
    if registration_is_open(workshop, now):
        return
    opens = workshop.registration_opens_at or workshop.published_at
    if opens is not None and now < opens:
        raise Conflict(_("Registration has not opened yet."), slug="registration-not-open")
    raise Conflict(_("Registration for this workshop is closed."), slug="registration-closed")


def _keep_answers(
    session: Session, workshop: Workshop, registration: Registration, answers: dict | None
) -> Registration:
    """Registered already: only answers given change."""
    if answers is not None:
        checked = check_answers(workshop, answers)
        if checked != registration.answers:
            registration.answers = checked
            session.flush()
    return registration


@dataclass(frozen=True)
class Placed:
    """What ``register_and_place`` did."""

    registration: Registration
    #: True when this call registered; False: registered already.
    created: bool
    #: The waitlist place counted for the person's notice; None when none was counted.
    position: int | None = None


def register(
    session: Session,
    user: User,
    workshop: Workshop,
    *,
    answers: dict | None = None,
    now: datetime | None = None,
) -> tuple[Registration, bool]:
    """A seat if one is free, else a place on the waitlist; returns the registration and
    whether this call registered (False: registered already; answers given replace)."""
    placed = register_and_place(session, user, workshop, answers=answers, now=now)
    return placed.registration, placed.created


def register_and_place(
    session: Session,
    user: User,
    workshop: Workshop,
    *,
    answers: dict | None = None,
    now: datetime | None = None,
    before_writing: Callable[[], None] | None = None,
) -> Placed:
    """``register``, also giving the waitlist place its notice counted (so an answer need not
    count it again).

    The checks only read, and ``before_writing`` is called once they passed, before the lock is
    taken or anything written (the API ends its reading transaction there).
    """
    now = now or utcnow()
    _ensure_may_register(user, workshop)
    registration = my_registration(session, user, workshop)
    if registration is not None and registration.status in HOLDING:
        if (
            before_writing is not None
            and answers is not None
            and check_answers(workshop, answers) != registration.answers
        ):
            before_writing()
            # Afresh, now writing: the registration may have changed since it was read.
            return register_and_place(session, user, workshop, answers=answers, now=now)
        return Placed(_keep_answers(session, workshop, registration, answers), False)
    _ensure_open(workshop, registration, now)
    checked = check_answers(workshop, answers if answers is not None else {})
    to = notices.registration_addressee(session, user.id)
    if before_writing is not None:
        before_writing()
    number, taken, capacity = take_number(session, workshop)
    if registration is None:
        seated = taken < capacity and take_seat(session, workshop)
        registration, inserted, ahead = seats.insert_registration(
            session,
            workshop,
            lambda: my_registration(session, user, workshop),
            user_id=user.id,
            status=Status.CONFIRMED if seated else Status.WAITLISTED,
            queue_number=number,
            answers=checked,
            registered_at=now,
            confirmed_at=now if seated else None,
        )
        if inserted:
            return _tell(session, registration, seated, to, now, None if seated else ahead + 1)
        if seated:  # a parallel call of the same person was first: the seat is not ours
            free_seat(session, workshop)
    else:
        # Read again under the lock: a parallel call of the same person may have been first.
        registration = my_registration(session, user, workshop)
    if registration.status in HOLDING:
        return Placed(_keep_answers(session, workshop, registration, answers), False)
    _ensure_open(workshop, registration, now)
    seated = taken < capacity and take_seat(session, workshop)
    registration.status = Status.CONFIRMED if seated else Status.WAITLISTED
    registration.queue_number = number
    registration.answers = checked
    registration.registered_at = now
    registration.confirmed_at = now if seated else None
    registration.cancelled_at = None
    registration.removed_reason = None
    session.flush()
    return _tell(session, registration, seated, to, now)


def _tell(
    session: Session,
    registration: Registration,
    seated: bool,
    to: Addressee | None,
    now: datetime,
    position: int | None = None,
) -> Placed:
    """Tell the person of their seat or waitlist place (counted once, unless counted already,
    for the notice and the caller)."""
    if not seated and position is None:
        position = waitlist_position(session, registration)
    event = "confirmed" if seated else "waitlisted"
    notices.tell_registration(session, registration, event, now=now, position=position, to=to)
    return Placed(registration, True, position)


def cancel_registration(
    session: Session, user: User, workshop: Workshop, now: datetime | None = None
) -> Registration | None:
    """Give up one's seat, waitlist place or invitation, until the start; cancelling twice
    changes nothing. A seat freed goes to the first on the waitlist."""
    now = now or utcnow()
    _ensure_visible(user, workshop)
    registration = my_registration(session, user, workshop)
    if registration is None or registration.status not in (*HOLDING, Status.INVITED):
        return registration
    if workshop.status == WorkshopStatus.CANCELLED:
        raise Conflict(_("This workshop was cancelled."), slug="workshop-cancelled")
    if workshop.status != WorkshopStatus.PUBLISHED or now >= workshop.starts_at:
        raise Conflict(
            _("This workshop has started or is over: the registration stays as it is."),
            slug="too-late",
        )
    ensure_not_archived(workshop.campaign)
    lock_workshop(session, workshop)
    registration = my_registration(session, user, workshop)
    if registration is None or registration.status not in (*HOLDING, Status.INVITED):
        return registration
    return _end(session, workshop, registration, Status.CANCELLED, None, now)


def _end(
    session: Session,
    workshop: Workshop,
    registration: Registration,
    status: Status,
    reason: str | None,
    now: datetime,
) -> Registration:
    """Cancel or remove a registration (under the lock): its seat goes to the waitlist."""
    seated = registration.status == Status.CONFIRMED
    registration.status = status
    registration.cancelled_at = now
    registration.removed_reason = reason
    if seated:
        free_seat(session, workshop)
    session.flush()
    notices.withdraw_reminders(session, workshop.id, [registration.user_id])
    if status == Status.REMOVED:
        notices.tell_registration(session, registration, "removed", reason=reason, now=now)
    if seated:
        fill_seats(session, workshop, now)
    return registration


# --- moderators ----------------------------------------------------------------------------


def _ensure_managing(actor: User, workshop: Workshop) -> None:
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    if workshop.status != WorkshopStatus.PUBLISHED:
        raise Conflict(
            _("Registrations change only while the workshop is published."), slug="not-published"
        )


def _of_workshop(workshop: Workshop, registration: Registration) -> None:
    if registration.workshop_id != workshop.id:
        raise NotFound()


def _record(session: Session, actor: User, action: str, registration: Registration, **extra):
    audit.record(
        session,
        actor,
        f"workshop.{action}",
        "workshop_registration",
        registration.id,
        city_id=registration.city_id,
        details={"workshop_id": registration.workshop_id, "user_id": registration.user_id},
        **extra,
    )


def invite(
    session: Session, actor: User, workshop: Workshop, person: User, now: datetime | None = None
) -> Registration:
    """Invite a resident of the workshop's city; they hold no seat until they register (or
    a moderator confirms them). Inviting twice changes nothing."""
    now = now or utcnow()
    _ensure_managing(actor, workshop)
    if person.city_id != workshop.city_id or person.disabled_at is not None:
        raise Invalid(
            errors={"person": [_("Only residents of the workshop's city can be invited.")]}
        )
    if now >= workshop.starts_at:
        raise Conflict(_("This workshop has started."), slug="started")
    lock_workshop(session, workshop)
    registration = my_registration(session, person, workshop)
    if registration is not None and registration.status in HOLDING:
        raise Conflict(_("This person is registered already."), slug="registered")
    if registration is not None and registration.status == Status.INVITED:
        return registration
    if registration is None:
        registration, inserted, _ahead = seats.insert_registration(
            session,
            workshop,
            lambda: my_registration(session, person, workshop),
            user_id=person.id,
            status=Status.INVITED,
            registered_at=now,
            invited_at=now,
            invited_by_id=actor.id,
        )
        if not inserted:  # cannot happen under the lock: nobody registers them meanwhile
            raise Conflict(_("This changed meanwhile. Please try again."))
    registration.status = Status.INVITED
    registration.queue_number = None
    registration.invited_at = now
    registration.invited_by_id = actor.id
    registration.cancelled_at = None
    registration.removed_reason = None
    session.flush()
    notices.tell_registration(session, registration, "invited", now=now)
    _record(session, actor, "invite", registration, now=now)
    return registration


def checked_reason(reason: str | None) -> str | None:
    """A moderator's reason, which the person will read; None when none is given."""
    text = (reason or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_REASON:
        raise Invalid(
            errors={"reason": [_("Longer than the maximum length of %(max)d.", max=MAX_REASON)]}
        )
    return text or None


def remove(
    session: Session,
    actor: User,
    workshop: Workshop,
    registration: Registration,
    reason: str | None,
    now: datetime | None = None,
) -> Registration:
    """Take a person off the workshop (seat, waitlist or invitation), telling them why; their
    seat goes to the waitlist. Removing twice changes nothing."""
    now = now or utcnow()
    _ensure_managing(actor, workshop)
    _of_workshop(workshop, registration)
    reason = checked_reason(reason)
    lock_workshop(session, workshop)
    session.refresh(registration)
    if registration.status not in (*HOLDING, Status.INVITED):
        return registration
    _end(session, workshop, registration, Status.REMOVED, reason, now)
    _record(session, actor, "remove", registration, reason=reason, now=now)
    return registration


def confirm(
    session: Session,
    actor: User,
    workshop: Workshop,
    registration: Registration,
    now: datetime | None = None,
) -> Registration:
    """Give an invited or waitlisted person a seat, if one is free."""
    now = now or utcnow()
    _ensure_managing(actor, workshop)
    _of_workshop(workshop, registration)
    number, _taken, _capacity = take_number(session, workshop)
    session.refresh(registration)
    if registration.status == Status.CONFIRMED:
        return registration
    if registration.status not in (Status.INVITED, Status.WAITLISTED):
        raise Conflict(
            _("Only invited or waitlisted people can be confirmed."), slug="not-confirmable"
        )
    if not take_seat(session, workshop):
        raise Conflict(
            _("No seat is free. Raise the capacity or remove someone first."), slug="full"
        )
    if registration.queue_number is None:
        registration.queue_number = number
    registration.status = Status.CONFIRMED
    registration.confirmed_at = now
    session.flush()
    notices.tell_registration(session, registration, "confirmed", now=now)
    _record(session, actor, "confirm", registration, now=now)
    return registration
