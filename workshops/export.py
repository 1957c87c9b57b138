"""A workshop's participants as CSV for its organisers: who comes, who waits, who was invited.

One row per registration holding a seat, a place on the waitlist or an invitation, in that
order (the waitlist in queue order, with each person's position): registration id, name,
email, status, waitlist position, when they registered, when they were checked in (in the
city's time zone, ISO 8601 with offset), then one column per registration question, headed
by its code, holding the answer: a choice's label in the exporter's language (falling back to
the city's), or what was written.

Every text a person typed (names, emails, answers, labels) that a spreadsheet would read as a
formula is neutralised. UTF-8 with a byte order mark (for Excel), RFC 4180 (CRLF, quotes
doubled). A workshop holds at most a few thousand people, so the file is built in memory.
"""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models import User
from app.policy import ensure
from app.spreadsheet import BOM, neutralised
from i18n.content import pick
from workshops.console_queries import participants
from workshops.models import Registration, Workshop

COLUMNS = (
    "registration_id",
    "name",
    "email",
    "status",
    "waitlist_position",
    "registered_at",
    "checked_in_at",
)


def _moment(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds") if value else ""


def _answer(question: dict, value: object, locale: str, default_locale: str) -> object:
    """The answer as the organisers read it: a choice's label, else what was written."""
    if value is None or value == "":
        return ""
    for choice in question.get("choices") or []:
        if choice.get("code") == value:
            label, _locale = pick(choice.get("label"), locale, default_locale)
            return neutralised(label or value)
    return neutralised(value if isinstance(value, str) else str(value))


def participants_csv(session: Session, actor: User, workshop: Workshop, locale: str) -> str:
    """The CSV text; choice labels in ``locale``."""
    ensure(actor, "workshop.manage", workshop)
    questions = [q for q in workshop.questions or [] if q.get("code")]
    zone = ZoneInfo(workshop.city.timezone)
    default_locale = workshop.city.default_locale
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *(neutralised(q["code"]) for q in questions)])
    found = participants(session, workshop)
    rows: list[tuple[Registration, int | None]] = [(r, None) for r in found.confirmed]
    rows += [(r, position) for position, r in enumerate(found.waitlisted, start=1)]
    rows += [(r, None) for r in found.invited]
    for registration, position in rows:
        person = registration.user
        answers = registration.answers or {}
        writer.writerow(
            [
                registration.id,
                neutralised(person.display_name),
                neutralised(person.email),
                registration.status,
                position if position is not None else "",
                _moment(registration.registered_at, zone),
                _moment(registration.checked_in_at, zone),
                *(_answer(q, answers.get(q["code"]), locale, default_locale) for q in questions),
            ]
        )
    return buffer.getvalue()
