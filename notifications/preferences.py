"""A person's notification settings: channels per kind, time zone, quiet hours, email pause.

Kinds without a stored choice follow their defaults (notifications.kinds); ``notify`` reads
the same rows (notifications.service.choices), so what is shown here is what happens.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask_babel import LazyString
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Invalid
from app.models import User
from i18n import _
from notifications.kinds import Kind, choosable
from notifications.models import EmailMode, NotificationPreference, NotificationSettings

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def email_modes(kind: Kind) -> list[EmailMode]:
    """The email choices a kind offers: only low-priority kinds may wait for a digest."""
    if kind.may_digest:
        return list(EmailMode)
    return [EmailMode.OFF, EmailMode.IMMEDIATE]


@dataclass(frozen=True)
class KindSetting:
    kind: str
    label: LazyString
    inbox: bool
    push: bool
    email: EmailMode
    email_modes: list[EmailMode]


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time


@dataclass(frozen=True)
class Settings:
    #: The person's own zone; None follows their city's (``city_timezone``).
    timezone: str | None
    city_timezone: str
    quiet_hours: QuietHours | None
    email_paused: bool
    kinds: list[KindSetting]


def read_settings(session: Session, user: User) -> Settings:
    """Everything a person may choose, with what applies now."""
    stored = {
        pref.kind: pref
        for pref in session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    listed = []
    for kind in choosable():
        pref = stored.get(kind.name)
        listed.append(
            KindSetting(
                kind=kind.name,
                label=kind.label,
                inbox=pref.inbox if pref else kind.inbox,
                push=pref.push if pref else kind.push,
                email=EmailMode(pref.email if pref else kind.email),
                email_modes=email_modes(kind),
            )
        )
    row = session.get(NotificationSettings, user.id)
    quiet = None
    if row is not None and row.quiet_start is not None and row.quiet_end is not None:
        quiet = QuietHours(row.quiet_start, row.quiet_end)
    return Settings(
        timezone=row.timezone if row else None,
        city_timezone=user.city.timezone,
        quiet_hours=quiet,
        email_paused=row is not None and row.email_paused_at is not None,
        kinds=listed,
    )


def _clock(value: str | None) -> time | None:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    return time(int(match[1]), int(match[2])) if match else None


def _check_quiet_hours(
    value: tuple[str | None, str | None] | None, errors: dict
) -> tuple[time, time] | None:
    if value is None:
        return None
    start_text, end_text = value
    if start_text is None and end_text is None:
        return None
    if start_text is None or end_text is None:
        errors["quiet_hours"] = [_("Give both a start and an end, or neither.")]
        return None
    start, end = _clock(start_text), _clock(end_text)
    wrong = {
        name: [_("Use a time of day such as 22:00 (hours and minutes).")]
        for name, clock in (("start", start), ("end", end))
        if clock is None
    }
    if wrong:
        errors["quiet_hours"] = wrong
        return None
    if start == end:
        errors["quiet_hours"] = [_("Quiet hours must end at another time than they start.")]
        return None
    return start, end


def _check_kinds(changes: dict[str, dict], errors: dict) -> dict[str, Kind]:
    listed = {kind.name: kind for kind in choosable()}
    found, wrong = {}, {}
    for name, change in changes.items():
        kind = listed.get(name)
        if kind is None:
            wrong[name] = [_("There is no such kind of notification to choose for.")]
            continue
        email = change.get("email")
        if email is not None and email not in {mode.value for mode in EmailMode}:
            wrong[name] = {"email": [_("Not a valid choice.")]}
            continue
        if email is not None and email not in email_modes(kind):
            wrong[name] = {"email": [_("This kind of notification cannot wait for a digest.")]}
            continue
        found[name] = kind
    if wrong:
        errors["kinds"] = wrong
    return found


def _row(session: Session, model, key, **values):
    """The person's row, made now if they have none yet (also when a parallel request just
    made it)."""
    row = session.get(model, key)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**values)
            session.add(row)
    except IntegrityError:
        row = session.get(model, key, populate_existing=True)
    return row


def update_settings(
    session: Session,
    user: User,
    *,
    timezone: str | None = ...,
    quiet_hours: tuple[str | None, str | None] | None = ...,
    email_paused: bool = ...,
    kinds: dict[str, dict] | None = None,
    now: datetime | None = None,
) -> Settings:
    """Change what is given, all or nothing; returns the settings as they then are.

    ``timezone``: an IANA name or None (the city's). ``quiet_hours``: a pair of "HH:MM" texts,
    or None for none. ``email_paused``: stop all optional email. ``kinds``: per kind name, any
    of ``inbox`` and ``push`` (bool) and ``email`` (an EmailMode value). Arguments left out
    (``...``) stay as they are.
    """
    errors: dict = {}
    if timezone is not ... and timezone is not None and timezone not in _zones():
        errors["timezone"] = [_("Not a known time zone.")]
    quiet = None
    if quiet_hours is not ...:
        quiet = _check_quiet_hours(quiet_hours, errors)
    chosen = _check_kinds(kinds or {}, errors)
    if errors:
        raise Invalid(errors=errors)

    if any(v is not ... for v in (timezone, quiet_hours, email_paused)):
        row = _row(session, NotificationSettings, user.id, user_id=user.id)
        if timezone is not ...:
            row.timezone = timezone
        if quiet_hours is not ...:
            row.quiet_start, row.quiet_end = quiet or (None, None)
        if email_paused is not ...:
            if not email_paused:
                row.email_paused_at = None
            elif row.email_paused_at is None:
                row.email_paused_at = now or utcnow()
    for name, kind in chosen.items():
        change = kinds[name]
        pref = _row(
            session,
            NotificationPreference,
            (user.id, name),
            user_id=user.id,
            kind=name,
            inbox=kind.inbox,
            push=kind.push,
            email=kind.email,
        )
        for field in ("inbox", "push", "email"):
            if change.get(field) is not None:
                setattr(pref, field, change[field])
    session.flush()
    return read_settings(session, user)
