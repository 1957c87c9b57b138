"""Households taking part in energy feedback, made for the district totals: each a resident
with a consent to the city's current energy text, a meter, household facts (district,
campaign) and weekly reports inserted as the feedback job would store them."""

import secrets
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy.orm import Session

from app import consent
from app.consent_models import ConsentText, Purpose
from app.db import utcnow
from app.models import City, User
from energy import meters
from energy.models import FeedbackReport, Household

#: (first day of an ISO week, consumption, saving) in the meter's base unit.
Week = tuple[date, float, float | None]
TEXT = {"fr": "Vos relevés servent à vos conseils.", "en": "Your readings give you feedback."}


def energy_text(session: Session, city: City, publisher: User) -> ConsentText:
    """The city's current energy feedback text, published by ``publisher`` when it has none."""
    current = consent.current_text(session, city.id, Purpose.ENERGY_FEEDBACK)
    if current is not None:
        return current
    texts = {locale: TEXT.get(locale, TEXT["en"]) for locale in city.enabled_locales}
    return consent.publish_text(session, publisher, city, Purpose.ENERGY_FEEDBACK, texts)


def weeks(first: date, count: int, consumption: float, saving: float | None) -> list[Week]:
    return [(first + timedelta(weeks=i), consumption, saving) for i in range(count)]


def households(
    session: Session,
    city: City,
    district: str | None,
    count: int,
    reports: Iterable[Week] = (),
    *,
    commodity: str = "electricity",
    unit: str | None = None,
    campaign_id: int | None = None,
    joined_on: date | None = None,
    consented: bool = True,
) -> list[User]:
    """``count`` households of ``district`` with a meter of ``commodity`` and the same weekly
    reports each; without ``consented``, one who withdrew (their reports stay, as a test of
    who is counted)."""
    text = consent.current_text(session, city.id, Purpose.ENERGY_FEEDBACK)
    reports = list(reports)
    made = []
    for _i in range(count):
        person = User(
            email=f"household-{secrets.token_hex(5)}@example.org",
            password_hash="-",
            city_id=city.id,
            display_name=f"Household {secrets.token_hex(2)}",
            email_verified_at=utcnow(),
        )
        session.add(person)
        session.flush()
        consent.give_consent(session, person, Purpose.ENERGY_FEEDBACK, text.version)
        meter = meters.create_meter(session, person, commodity=commodity, unit=unit)
        session.add(
            Household(
                user_id=person.id,
                city_id=city.id,
                district=district,
                campaign_id=campaign_id,
                joined_on=joined_on,
            )
        )
        for starts_on, used, saved in reports:
            session.add(
                FeedbackReport(
                    meter_id=meter.id,
                    user_id=person.id,
                    city_id=city.id,
                    commodity=commodity,
                    period="week",
                    starts_on=starts_on,
                    ends_on=starts_on + timedelta(days=6),
                    consumption=used,
                    saving=saved,
                    figures={},
                    tips=[],
                )
            )
        if not consented:
            consent.withdraw_consent(session, person, Purpose.ENERGY_FEEDBACK)
        made.append(person)
    session.flush()
    return made
