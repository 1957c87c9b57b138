"""Calendar files of workshops (iCalendar, RFC 5545) and each person's private feed of them.

A workshop's file carries one VEVENT whose UID never changes and whose SEQUENCE goes up with
every change people are told of, so a calendar that imported it updates the event in place;
a cancelled workshop's file says METHOD:CANCEL and STATUS:CANCELLED, which removes it.
Times are written in the city's zone with its VTIMEZONE, so the event stays at the right
wall-clock time whatever the reader's device says; the one exception is a start or end in
the hour repeated when clocks go back, which local time cannot name (RFC 5545 reads it as
the first of the two), so it is written in UTC.

The feed URL carries a secret token; only its SHA-256 is kept (``CalendarFeed``), one per
person: issuing a new one makes the old URL stop working, revoking deletes it.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from flask import current_app
from markdown_it import MarkdownIt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import User
from i18n import _, force_locale
from i18n.content import pick
from workshops.models import CalendarFeed, Registration, RegistrationStatus, Workshop
from workshops.models import WorkshopStatus as Status

PRODID = "-//Living Lab//Workshops//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
#: How far back the feed reaches: recent workshops stay in people's calendars.
FEED_PAST = timedelta(days=30)
#: How often calendar apps are asked to fetch the feed again.
FEED_REFRESH = timedelta(hours=1)
#: A feed read is recorded at most this often: polling calendars need not write every time.
FEED_READ_PRECISION = timedelta(minutes=15)
#: Longer tokens than any we issue are not looked up.
TOKEN_MAX_LENGTH = 100

# The markdown subset of descriptions (as ideas/text.py reads it), parsed to be flattened.
_markdown = MarkdownIt("zero", {"html": False, "breaks": True}).enable(
    ["list", "newline", "escape", "emphasis", "link", "autolink", "entity"]
)


def plain_text(text: str | None) -> str:
    """A text of the markdown subset as plain text: paragraphs, list bullets, links spelled out."""
    if not text or not text.strip():
        return ""
    out: list[str] = []
    depth = 0
    for token in _markdown.parse(text.replace("\r\n", "\n")):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                out.append("\n")
        elif token.type == "list_item_open":
            bullet = f"{token.info}{token.markup}" if token.info else "-"
            out.append("  " * (depth - 1) + bullet + " ")
        elif token.type == "paragraph_close":
            # Paragraphs in a tight list are hidden: an item is one line.
            out.append("\n" if token.hidden else "\n\n")
        elif token.type == "inline":
            out.append(_inline_text(token.children or []))
    lines = "".join(out).strip().split("\n")
    return "\n".join(line.rstrip() for line in lines)


def _inline_text(children) -> str:
    parts: list[str] = []
    href, label_start = None, 0
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            href, label_start = str(child.attrs.get("href", "")), len(parts)
        elif child.type == "link_close" and href:
            label = "".join(parts[label_start:])
            if href not in (label, f"mailto:{label}"):
                parts.append(f" ({href})")
            href = None
    return "".join(parts)


def _instant(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment in the city's wall-clock time, or in UTC where that time is ambiguous."""
    local = moment.astimezone(zone)
    if local.fold:
        # The second pass of the repeated hour: TZID would name the first.
        return moment.astimezone(UTC)
    return local


def _organizer(city_name: str) -> icalendar.vCalAddress:
    """The programme's sender address: RFC 5546 wants an organizer on published events."""
    address = parseaddr(current_app.config.get("MAIL_FROM") or "")[1] or "no-reply@localhost"
    organizer = icalendar.vCalAddress(f"mailto:{address}")
    organizer.params["CN"] = city_name
    return organizer


def _description(workshop: Workshop, locale: str, city_locale: str, with_link: bool) -> str:
    """The description, agenda, accessibility and (for participants) the online link."""
    sections = [plain_text(pick(workshop.description, locale, city_locale)[0])]
    agenda = plain_text(pick(workshop.agenda, locale, city_locale)[0])
    if agenda:
        sections.append(_("Agenda:") + "\n" + agenda)
    access = plain_text(pick(workshop.accessibility, locale, city_locale)[0])
    if access:
        sections.append(_("Accessibility:") + "\n" + access)
    if with_link and workshop.online_url:
        sections.append(_("Join online: %(url)s", url=workshop.online_url))
    return "\n\n".join(section for section in sections if section)


def _location(workshop: Workshop, with_link: bool) -> str | None:
    if workshop.address:
        return workshop.address
    if with_link and workshop.online_url:
        return workshop.online_url
    return _("Online") if workshop.online_url else None


def workshop_event(
    workshop: Workshop, locale: str, *, with_link: bool, cancelled: bool | None = None
) -> icalendar.Event:
    """The workshop as one VEVENT, its texts in ``locale`` (call inside ``force_locale``)."""
    city = workshop.city
    zone = ZoneInfo(city.timezone)
    if cancelled is None:
        cancelled = workshop.status == Status.CANCELLED
    event = icalendar.Event()
    event.add("uid", workshop.ical_uid)
    event.add("sequence", workshop.ical_sequence)
    # The last revision: the same workshop gives the same file until it changes.
    event.add("dtstamp", (workshop.updated_at or workshop.created_at or utcnow()).astimezone(UTC))
    event.add("dtstart", _instant(workshop.starts_at, zone))
    event.add("dtend", _instant(workshop.ends_at, zone))
    event.add("summary", pick(workshop.title, locale, city.default_locale)[0])
    description = _description(workshop, locale, city.default_locale, with_link)
    if description:
        event.add("description", description)
    location = _location(workshop, with_link)
    if location:
        event.add("location", location)
    if workshop.latitude is not None and workshop.longitude is not None:
        event.add("geo", (workshop.latitude, workshop.longitude))
    if with_link and workshop.online_url:
        event.add("url", workshop.online_url)
    event.add("organizer", _organizer(city.name))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _calendar(method: str, events: list[icalendar.Event], zones_from: date, zones_to: date):
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    # Only the transitions around the events: a VTIMEZONE since 1970 would dwarf the file.
    calendar.add_missing_timezones(first_date=zones_from, last_date=zones_to)
    return calendar


def _zone_span(workshops: list[Workshop], now: datetime) -> tuple[date, date]:
    moments = [w.starts_at for w in workshops] + [w.ends_at for w in workshops] + [now]
    return (min(moments) - timedelta(days=366)).date(), (max(moments) + timedelta(days=366)).date()


def workshop_calendar(
    workshop: Workshop, locale: str, *, with_link: bool, cancelled: bool | None = None
) -> str:
    """The workshop's calendar file in ``locale``; METHOD:CANCEL once it is cancelled.

    ``cancelled`` overrides the workshop's status (for a cancellation being recorded).
    """
    if cancelled is None:
        cancelled = workshop.status == Status.CANCELLED
    with force_locale(locale):
        event = workshop_event(workshop, locale, with_link=with_link, cancelled=cancelled)
    method = "CANCEL" if cancelled else "PUBLISH"
    calendar = _calendar(method, [event], *_zone_span([workshop], utcnow()))
    return calendar.to_ical().decode()


def calendar_attachment(
    workshop: Workshop, *, with_link: bool, cancelled: bool | None = None
) -> Callable[[str], list[dict]]:
    """For ``notify(attachments=...)``: the workshop's file, in each reader's language."""

    def attach(locale: str) -> list[dict]:
        gone = workshop.status == Status.CANCELLED if cancelled is None else cancelled
        method = "CANCEL" if gone else "PUBLISH"
        text = workshop_calendar(workshop, locale, with_link=with_link, cancelled=gone)
        return [
            {
                "filename": "workshop-cancelled.ics" if gone else "workshop.ics",
                "content_type": f"{CONTENT_TYPE}; method={method}",
                "text": text,
            }
        ]

    return attach


# --- a person's feed ------------------------------------------------------------------------


def feed_workshops(session: Session, user: User, now: datetime | None = None) -> list[Workshop]:
    """The workshops in the person's feed: where they hold a seat, from FEED_PAST ago on."""
    now = now or utcnow()
    return list(
        session.scalars(
            sa.select(Workshop)
            .join(Registration, Registration.workshop_id == Workshop.id)
            .where(
                Registration.user_id == user.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                # Cancelled ones stay, marked so: calendars drop them.
                Workshop.status.in_([Status.PUBLISHED, Status.COMPLETED, Status.CANCELLED]),
                Workshop.ends_at >= now - FEED_PAST,
            )
            .order_by(Workshop.starts_at, Workshop.id)
        )
    )


def feed_calendar(session: Session, user: User, locale: str, now: datetime | None = None) -> str:
    """The person's workshops as a calendar to subscribe to, named in their language."""
    now = now or utcnow()
    workshops = feed_workshops(session, user, now)
    with force_locale(locale):
        name = _("My Living Lab workshops")
        events = [
            workshop_event(w, locale, with_link=w.status != Status.CANCELLED) for w in workshops
        ]
    calendar = _calendar("PUBLISH", events, *_zone_span(workshops, now))
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", FEED_REFRESH)
    return calendar.to_ical().decode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed(session: Session, user: User) -> str:
    """A new secret token for the person's feed URL; any earlier one stops working."""
    token = secrets.token_urlsafe(32)
    digest = _hash(token)
    feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        try:
            with session.begin_nested():
                session.add(CalendarFeed(user_id=user.id, token_hash=digest))
                session.flush()
            return token
        except IntegrityError:
            # Issued in parallel: this call's token replaces that one.
            feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    feed.token_hash = digest
    feed.created_at = utcnow()
    feed.last_read_at = None
    session.flush()
    return token


def revoke_feed(session: Session, user: User) -> bool:
    """Delete the person's feed; True if there was one."""
    deleted = session.execute(
        sa.delete(CalendarFeed)
        .where(CalendarFeed.user_id == user.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return bool(deleted)


def feed_owner(session: Session, token: str, now: datetime | None = None) -> User | None:
    """Whose feed ``token`` opens (an enabled account), recording the read; else None."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    now = now or utcnow()
    found = session.execute(
        sa.select(CalendarFeed, User)
        .join(User, User.id == CalendarFeed.user_id)
        .where(CalendarFeed.token_hash == _hash(token), User.disabled_at.is_(None))
    ).first()
    if found is None:
        return None
    feed, user = found
    if feed.last_read_at is None or feed.last_read_at <= now - FEED_READ_PRECISION:
        feed.last_read_at = now
        session.flush()
    return user
