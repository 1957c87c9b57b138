"""Workshops and registrations made directly with the models, for tests anywhere in the suite."""

import secrets
from datetime import datetime, timedelta

from app.db import utcnow
from campaigns.models import Campaign
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus

#: Asked at registration: a required choice and an optional written answer (fr, en).
QUESTIONS = [
    {
        "code": "diet",
        "label": {"fr": "Régime alimentaire", "en": "Diet"},
        "required": True,
        "choices": [
            {"code": "vegan", "label": {"fr": "Végane", "en": "Vegan"}},
            {"code": "none", "label": {"fr": "Aucun", "en": "None"}},
        ],
    },
    {"code": "access", "label": {"fr": "Besoins d'accès", "en": "Access needs"}},
]


def published_workshop(session, campaign: Campaign, **values) -> Workshop:
    """A published workshop of ``campaign`` in a week (or at ``starts_at``), two hours long,
    at an address of Lyon, with 20 seats and a unique iCalendar UID, unless told otherwise."""
    starts = values.get("starts_at") or utcnow().replace(microsecond=0) + timedelta(days=7)
    values = {
        "title": {"fr": "Atelier de la cour", "en": "Courtyard workshop"},
        "description": {"fr": "Dessinons la cour ensemble."},
        "status": WorkshopStatus.PUBLISHED,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "address": "12 rue de la République, 69002 Lyon",
        "capacity": 20,
        "published_at": utcnow(),
        "ical_uid": f"workshop-{secrets.token_hex(8)}@livinglab.test",
    } | values
    workshop = Workshop(city_id=campaign.city_id, campaign_id=campaign.id, **values)
    session.add(workshop)
    session.flush()
    return workshop


def registration(
    session,
    workshop: Workshop,
    person,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    *,
    at: datetime | None = None,
    **values,
) -> Registration:
    """``person``'s registration in ``status``, the next in the queue, made at ``at``."""
    at = at or utcnow()
    workshop.queue_seq += 1
    if status == RegistrationStatus.CONFIRMED:
        workshop.confirmed_count += 1
    row = Registration(
        workshop_id=workshop.id,
        city_id=workshop.city_id,
        user_id=person.id,
        status=status,
        queue_number=workshop.queue_seq,
        checkin_code=secrets.token_hex(4).upper(),
        registered_at=at,
        confirmed_at=at if status == RegistrationStatus.CONFIRMED else None,
        **values,
    )
    session.add(row)
    session.flush()
    return row
