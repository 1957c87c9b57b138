"""Energy in the demo: each city's districts, tariffs and a meter portal's CSV format, and a
street of twelve households who agreed to energy feedback, the demo resident among them, with
eight weeks of hourly electricity readings, so the scheduler's first run gives each a week's
feedback compared with the others."""

import math
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import consent
from app.consent_models import Purpose
from app.models import City, User
from app.passwords import hash_password
from energy import meters, presets
from energy.district import set_districts
from energy.models import Reading
from energy.tariffs import set_tariff

DISTRICTS = {
    "lyon": ["Croix-Rousse", "Part-Dieu", "Confluence", "Guillotière", "Vaise"],
    "vienna": ["Leopoldstadt", "Landstraße", "Favoriten", "Ottakring", "Floridsdorf"],
}
#: Price per kWh in the city's currency, by commodity (2025 household prices, rounded).
TARIFFS = {
    "lyon": {"electricity": "0.2516", "district_heat": "0.1100"},
    "vienna": {"electricity": "0.3000", "district_heat": "0.1300"},
}
PRESETS = {
    "lyon": (
        "Enedis, Mes données (courbe de charge)",
        {
            "timestamp": "Horodate",
            "value": "Valeur",
            "stamp_marks": "end",
            "value_kind": "power",
            "value_unit": "W",
            "interval_minutes": 30,
        },
    ),
    "vienna": (
        "Wiener Netze Smart Meter-Webportal",
        {
            "timestamp": "Datum",
            "time": "Zeit bis",
            "value": "Verbrauch [kWh]",
            "stamp_marks": "end",
            "value_kind": "energy",
            "value_unit": "kWh",
            "timestamp_format": "%d.%m.%Y %H:%M",
            "decimal": ",",
            "interval_minutes": 15,
        },
    ),
}
NEIGHBOURS = 11
WEEKS = 8


def energy_demo(session: Session, admin: User, city: City, campaign, now: datetime) -> None:
    """The city's energy settings, and its street of households with their readings."""
    set_districts(session, admin, city, DISTRICTS[city.slug])
    for commodity, price in TARIFFS[city.slug].items():
        set_tariff(session, admin, city, commodity, price, "EUR")
    name, mapping = PRESETS[city.slug]
    presets.create_preset(session, admin, city, name, mapping)
    resident = session.scalar(
        sa.select(User).where(User.city_id == city.id, User.email.like("resident.%"))
    )
    people = [resident]
    for number in range(1, NEIGHBOURS + 1):
        person = User(
            email=f"household{number}.{city.slug}@example.org",
            password_hash=hash_password(secrets.token_urlsafe(16)),
            city_id=city.id,
            display_name=f"Household {number}",
            email_verified_at=now,
        )
        session.add(person)
        people.append(person)
    session.flush()
    text = consent.current_text(session, city.id, Purpose.ENERGY_FEEDBACK)
    # The street also lends its figures to research: the city's researcher has data to export.
    research = consent.current_text(session, city.id, Purpose.RESEARCH)
    zone = ZoneInfo(city.timezone)
    end = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), tzinfo=zone)
    for number, person in enumerate(people):
        consent.give_consent(session, person, Purpose.ENERGY_FEEDBACK, text.version, now=now)
        consent.give_consent(session, person, Purpose.RESEARCH, research.version, now=now)
        meters.set_household(
            session,
            person,
            now=now,
            people=2,
            floor_area_m2=float(55 + 2 * number),
            dwelling_type="apartment",
            heating_type="district_heat",
            district=DISTRICTS[city.slug][number % len(DISTRICTS[city.slug])],
            campaign=campaign.slug,
        )
        meter = meters.create_meter(session, person, commodity="electricity", label="Home")
        _readings(session, meter.id, end, zone, always_on=60 + 25 * number)


def _readings(session: Session, meter_id: int, end: datetime, zone: ZoneInfo, always_on: int):
    """Hourly Wh for ``WEEKS`` weeks up to ``end``: the always-on watts, a morning and a long
    evening peak, more at weekends, and a little day-to-day variation."""
    rows = []
    moment = (end - timedelta(weeks=WEEKS)).astimezone(ZoneInfo("UTC"))
    while moment < end:
        local = moment.astimezone(zone)
        hour, weekend = local.hour, local.weekday() >= 5
        peak = 450 if 18 <= hour < 22 else 250 if 7 <= hour < 9 else 0
        daytime = 150 if weekend and 10 <= hour < 18 else 0
        wobble = 30 * math.sin(moment.timestamp() / 86_400 * 1.7)
        rows.append(
            {
                "meter_id": meter_id,
                "start_at": moment,
                "end_at": moment + timedelta(hours=1),
                "value": round(always_on + peak + daytime + wobble, 1),
                "import_id": None,
            }
        )
        moment += timedelta(hours=1)
    session.execute(sa.insert(Reading), rows)
