"""Checking people in at the door: by their registration (a name picked from the list) or by
the code they show (QR code or typed).

Codes are 8 characters of Crockford's base32 (no I, L, O, U), shown in two groups of four
(K7QM-2XPD); what is typed is read case-insensitively, without spaces or dashes, with O as 0
and I or L as 1, so a code read aloud or typed from a phone's screen still matches.

Attendance is recorded once: the check-in is a conditional UPDATE on ``checked_in_at IS
NULL``, so two moderators scanning the same person at once record one time, and a second
scan answers when the first was (``False``), changing nothing.
"""

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import MAX_ID, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import ensure
from campaigns.service import ensure_not_archived
from i18n import _
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
#: Letters people type for the digits they look like.
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
#: Check-in opens this long before the start (people arrive early).
OPENS_BEFORE = timedelta(hours=2)
#: Who may be checked in: a seat, or a waitlisted person let in at the door.
EXPECTED = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


def new_code() -> str:
    """A random code. The unique constraint (workshop, code) stands behind it: an insert that
    meets a code taken draws another (``seats.insert_registration``): one chance in ~10^12."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """A code as people see it, in two groups of four: K7QM-2XPD."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalized_code(typed: str) -> str | None:
    """The stored form of a typed or scanned code, or None when it cannot be one."""
    code = "".join(typed.split()).replace("-", "").upper().translate(LOOKALIKES)
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def already_checked_in(registration: Registration) -> str:
    """What a second scan answers: when the person was checked in, on the city's clock."""
    moment = registration.checked_in_at
    local = moment.astimezone(ZoneInfo(registration.workshop.city.timezone)) if moment else None
    return _("Already checked in at %(time)s.", time=local.strftime("%H:%M") if local else "")


def _ensure_checkin_open(workshop: Workshop, now: datetime) -> None:
    if workshop.status == WorkshopStatus.CANCELLED:
        raise Conflict(_("This workshop was cancelled."), slug="workshop-cancelled")
    if workshop.status == WorkshopStatus.DRAFT:
        raise Conflict(_("This workshop is not published."), slug="not-published")
    if now < workshop.starts_at - OPENS_BEFORE:
        raise Conflict(
            _("Check-in opens two hours before the workshop starts."), slug="checkin-not-open"
        )


def _find(
    session: Session, workshop: Workshop, registration_id: int | None, code: str | None
) -> Registration:
    if (registration_id is None) == (code is None):
        raise Invalid(detail=_("Give either a registration or a code."))
    if code is not None:
        stored = normalized_code(code) if isinstance(code, str) else None
        if stored is None:
            raise Invalid(errors={"code": [_("A code has 8 letters and digits, like ABCD-2345.")]})
        where = Registration.checkin_code == stored
    else:
        if not 0 < registration_id <= MAX_ID:
            raise NotFound(detail=_("No registration of this workshop."))
        where = Registration.id == registration_id
    registration = session.scalar(
        sa.select(Registration)
        .where(Registration.workshop_id == workshop.id, where)
        .execution_options(populate_existing=True)
    )
    if registration is None:
        if code is not None:
            raise NotFound(detail=_("No registration of this workshop has this code."))
        raise NotFound(detail=_("No registration of this workshop."))
    return registration


def check_in(
    session: Session,
    actor: User,
    workshop: Workshop,
    *,
    registration_id: int | None = None,
    code: str | None = None,
    now: datetime | None = None,
) -> tuple[Registration, bool]:
    """Record that a person came; returns the registration and whether this call recorded it
    (False: checked in already, nothing changed)."""
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    now = now or utcnow()
    _ensure_checkin_open(workshop, now)
    registration = _find(session, workshop, registration_id, code)
    if registration.checked_in_at is not None:
        return registration, False
    if registration.status not in EXPECTED:
        raise Conflict(
            _("This person holds no seat and is not on the waitlist."), slug="not-registered"
        )
    recorded = session.execute(
        sa.update(Registration)
        .where(
            Registration.id == registration.id,
            Registration.checked_in_at.is_(None),
            Registration.status.in_(EXPECTED),
        )
        .values(checked_in_at=now, checked_in_by_id=actor.id, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(registration)
    if not recorded and registration.checked_in_at is None:
        # Cancelled or removed a moment ago.
        raise Conflict(
            _("This person holds no seat and is not on the waitlist."), slug="not-registered"
        )
    return registration, bool(recorded)


def undo_check_in(
    session: Session, actor: User, workshop: Workshop, registration_id: int
) -> Registration:
    """Take back a check-in made by mistake."""
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    registration = _find(session, workshop, registration_id, None)
    if registration.checked_in_at is not None:
        registration.checked_in_at = None
        registration.checked_in_by_id = None
        session.flush()
    return registration
