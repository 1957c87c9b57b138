"""What phones are shown of workshops: texts in the reader's language, times in the city's zone,
only the reader's own registration; the check-in QR code; and the cursor over my workshops,
which carries which part of the list (upcoming or past) it continues."""

import base64
import binascii
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import qrcode
from flask import g
from qrcode.image.svg import SvgPathImage

from app.db import MAX_ID
from app.extensions import db
from i18n import current_locale
from i18n.content import pick
from ideas.text import render
from workshops import listing, registrations
from workshops.checkin import display_code
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus

#: What the QR code holds: the console finds the registration from it (see
#: ``workshops.console_queries.QR_PAYLOAD``).
QR_PREFIX = "LLW1"
PARTS = ("upcoming", "past")


def text(value: dict | None, workshop: Workshop) -> str:
    return pick(value, current_locale(), workshop.city.default_locale)[0]


def local(moment: datetime | None, workshop: Workshop) -> datetime | None:
    """The moment with the offset of the city's time zone (the same instant)."""
    return moment.astimezone(ZoneInfo(workshop.city.timezone)) if moment is not None else None


def place_out(workshop: Workshop) -> dict:
    return {
        "address": workshop.address,
        "latitude": workshop.latitude,
        "longitude": workshop.longitude,
        "accessibility": text(workshop.accessibility, workshop) or None,
    }


def registration_out(registration: Registration, position: int | None = None) -> dict:
    """The person's own registration (only ever shown to them); ``position``: their waitlist
    place if counted already."""
    waiting = registration.status == RegistrationStatus.WAITLISTED
    removed = registration.status == RegistrationStatus.REMOVED
    if waiting and position is None:
        position = listing.waitlist_position(db.session, registration)
    return {
        "workshop_id": registration.workshop_id,
        "status": registration.status,
        "waitlist_position": position if waiting else None,
        "answers": dict(registration.answers or {}),
        "checked_in": registration.checked_in_at is not None,
        "registered_at": registration.registered_at,
        "removed_reason": registration.removed_reason if removed else None,
    }


def workshop_summary_out(
    workshop: Workshop, waiting: int, mine: Registration | None, now: datetime
) -> dict:
    title, language = pick(workshop.title, current_locale(), workshop.city.default_locale)
    return {
        "id": workshop.id,
        "campaign_id": workshop.campaign_id,
        "title": title,
        "description": render(text(workshop.description, workshop)),
        "language": language,
        "starts_at": local(workshop.starts_at, workshop),
        "ends_at": local(workshop.ends_at, workshop),
        "place": place_out(workshop),
        "online": workshop.online_url is not None,
        "capacity": workshop.capacity,
        "seats_left": listing.seats_left(workshop),
        "waitlist_length": waiting,
        "registration_open": registrations.registration_is_open(workshop, now),
        "status": workshop.status,
        "my_status": mine.status if mine is not None else None,
    }


def summaries_out(workshops: list[Workshop], now: datetime) -> list[dict]:
    """A list's items, with the counts and the reader's statuses read for all at once."""
    ids = [w.id for w in workshops]
    waiting = listing.waitlist_lengths(db.session, ids)
    mine = listing.my_registrations(db.session, g.user, ids)
    return [workshop_summary_out(w, waiting[w.id], mine.get(w.id), now) for w in workshops]


def questions_out(workshop: Workshop) -> list[dict]:
    return [
        {
            "code": question["code"],
            "label": text(question.get("label"), workshop),
            "required": bool(question.get("required")),
            "choices": [
                {"code": choice["code"], "label": text(choice.get("label"), workshop)}
                for choice in question["choices"]
            ]
            if question.get("choices")
            else None,
        }
        for question in workshop.questions or []
    ]


def outcome_out(shown: listing.ShownOutcome, workshop: Workshop) -> dict:
    outcome = shown.outcome
    title = shown.title if isinstance(shown.title, str) else text(shown.title, workshop)
    return {
        "kind": "idea" if outcome.idea_id is not None else "survey",
        "idea_id": outcome.idea_id,
        "survey_id": outcome.survey_id,
        "title": title,
        "note": text(outcome.note, workshop),
    }


def workshop_out(workshop: Workshop, mine: Registration | None, now: datetime) -> dict:
    waiting = listing.waitlist_lengths(db.session, [workshop.id])[workshop.id]
    published = workshop.summary_published_at is not None
    seated = (
        mine is not None
        and mine.status == RegistrationStatus.CONFIRMED
        and workshop.status != WorkshopStatus.CANCELLED
    )
    return {
        **workshop_summary_out(workshop, waiting, mine, now),
        "agenda": render(text(workshop.agenda, workshop)),
        "registration_opens_at": local(workshop.registration_opens_at, workshop),
        "registration_closes_at": local(workshop.registration_closes_at, workshop),
        "questions": questions_out(workshop),
        "registration": registration_out(mine) if mine is not None else None,
        "online_url": workshop.online_url if seated else None,
        "summary": render(text(workshop.summary, workshop)) if published else None,
        "outcomes": [
            outcome_out(shown, workshop)
            for shown in listing.published_outcomes(db.session, g.user, workshop)
        ],
        "follow_up_survey_id": listing.follow_up_survey(db.session, g.user, workshop),
    }


def my_workshop_out(registration: Registration, waiting: int, now: datetime) -> dict:
    workshop = registration.workshop
    return {
        "registration": registration_out(registration),
        "workshop": workshop_summary_out(workshop, waiting, registration, now),
    }


# --- check-in code --------------------------------------------------------------------------


def check_in_payload(registration: Registration) -> str:
    return f"{QR_PREFIX}:{registration.workshop_id}:{display_code(registration.checkin_code)}"


def qr_svg(payload: str) -> str:
    """The payload as a QR code in SVG (a path: no raster library needed)."""
    image = qrcode.make(payload, image_factory=SvgPathImage)
    return image.to_string(encoding="unicode")


def check_in_code_out(registration: Registration) -> dict:
    payload = check_in_payload(registration)
    code = display_code(registration.checkin_code)
    return {"code": code, "payload": payload, "svg": qr_svg(payload)}


# --- the cursor over my workshops -----------------------------------------------------------


def encode_my_cursor(after: tuple[str, datetime, int]) -> str:
    part, moment, workshop_id = after
    raw = json.dumps([part, moment.isoformat(), workshop_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_my_cursor(cursor: str) -> tuple[str, datetime, int]:
    """The (part, starts_at, workshop id) a cursor names; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        part, value, workshop_id = json.loads(raw)
        moment = datetime.fromisoformat(value)
    except (TypeError, UnicodeDecodeError, binascii.Error) as error:
        raise ValueError("not a cursor") from error
    if (
        part not in PARTS
        or moment.tzinfo is None
        or type(workshop_id) is not int
        or not 0 < workshop_id <= MAX_ID
    ):
        raise ValueError("not a cursor")
    return part, moment, workshop_id
