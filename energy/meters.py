"""A resident's meters and household facts, and withdrawing the energy consent.

Only the owner ever sees a meter: another person's, like one that does not exist, is not
found. Nothing is stored before the person has agreed to the energy feedback text.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.consent import require_consent, withdraw_consent
from app.consent_models import Purpose
from app.db import MAX_ID, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import ensure
from energy.feedback.participation import apply_campaign, check_campaign, check_district
from energy.models import (
    Commodity,
    ConnectionStatus,
    DwellingType,
    FeedbackReport,
    HeatingType,
    Household,
    Meter,
    MeterImport,
    ProviderConnection,
    Reading,
    Unit,
)
from i18n import _, _l

#: The base units a commodity may be counted in; the first is the default.
UNITS = {
    Commodity.ELECTRICITY: (Unit.WH,),
    Commodity.DISTRICT_HEAT: (Unit.WH,),
    Commodity.GAS: (Unit.WH, Unit.M3),
    Commodity.WATER: (Unit.LITRE,),
}
#: How a commodity is named in messages.
COMMODITY_NAMES = {
    Commodity.ELECTRICITY: _l("electricity"),
    Commodity.DISTRICT_HEAT: _l("district heat"),
    Commodity.GAS: _l("gas"),
    Commodity.WATER: _l("water"),
}
#: Enough for a flat, a heat pump, a garage and the water; more is a script, not a household.
MAX_METERS = 20
MAX_LABEL_LENGTH = 100
METER_FIELDS = ("commodity", "unit", "timezone", "label")
HOUSEHOLD_FIELDS = ("people", "floor_area_m2", "dwelling_type", "heating_type")
#: Where the household takes part (energy/feedback/participation.py): checked against the city.
PARTICIPATION_FIELDS = ("district", "campaign")
PEOPLE_RANGE = (1, 20)
FLOOR_AREA_RANGE = (5.0, 2000.0)


def _zone_name(value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _check_meter(values: dict, errors: dict) -> dict:
    """The meter fields of ``values`` checked; problems go to ``errors`` by field."""
    checked: dict = {}
    if "commodity" in values:
        try:
            checked["commodity"] = Commodity(values["commodity"])
        except ValueError:
            errors["commodity"] = [_("Choose electricity, district heat, gas or water.")]
    if values.get("unit") is not None:
        try:
            checked["unit"] = Unit(values["unit"])
        except ValueError:
            errors["unit"] = [_("Choose Wh, m3 or L.")]
    if values.get("timezone") is not None:
        zone = _zone_name(values["timezone"])
        if zone is None:
            errors["timezone"] = [_("Not a known time zone.")]
        else:
            checked["timezone"] = zone
    if "label" in values:
        label = values["label"] if values["label"] is not None else ""
        if not isinstance(label, str) or len(label.strip()) > MAX_LABEL_LENGTH:
            errors["label"] = [
                _("Longer than the maximum length of %(max)d.", max=MAX_LABEL_LENGTH)
            ]
        else:
            checked["label"] = label.strip()
    return checked


def _unit_for(commodity: Commodity, unit: Unit | None, errors: dict) -> Unit | None:
    allowed = UNITS[commodity]
    if unit is None:
        return allowed[0]
    if unit not in allowed:
        errors["unit"] = [
            _(
                "This kind of meter counts in %(units)s.",
                units=", ".join(u.value for u in allowed),
            )
        ]
        return None
    return unit


def create_meter(
    session: Session,
    user: User,
    *,
    commodity: str,
    unit: str | None = None,
    timezone: str | None = None,
    label: str = "",
) -> Meter:
    """Register one of the person's meters (their consent to energy feedback is needed)."""
    ensure(user, "energy.use", user.city)
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    errors: dict = {}
    values = _check_meter(
        {"commodity": commodity, "unit": unit, "timezone": timezone, "label": label}, errors
    )
    if "commodity" in values:
        values["unit"] = _unit_for(values["commodity"], values.get("unit"), errors)
    if errors:
        raise Invalid(errors=errors)
    count = session.scalar(sa.select(sa.func.count(Meter.id)).where(Meter.user_id == user.id))
    if count >= MAX_METERS:
        raise Conflict(
            _("You have registered as many meters as one household may (%(max)d).", max=MAX_METERS)
        )
    meter = Meter(
        user_id=user.id,
        city_id=user.city_id,
        commodity=values["commodity"].value,
        unit=values["unit"].value,
        timezone=values.get("timezone") or user.city.timezone,
        label=values.get("label", ""),
    )
    session.add(meter)
    session.flush()
    return meter


def get_meter(session: Session, user: User, meter_id: int) -> Meter:
    """One of the person's own meters; any other id is not found."""
    if not isinstance(meter_id, int) or not 0 < meter_id <= MAX_ID:
        raise NotFound()
    meter = session.get(Meter, meter_id)
    if meter is None or meter.user_id != user.id:
        raise NotFound()
    return meter


def _own(user: User, meter: Meter) -> None:
    if meter.user_id != user.id:
        raise NotFound()


def has_readings(session: Session, meter: Meter) -> bool:
    return (
        session.scalar(sa.select(Reading.start_at).where(Reading.meter_id == meter.id).limit(1))
        is not None
    )


def update_meter(session: Session, user: User, meter: Meter, **values: Any) -> Meter:
    """Change the given fields; commodity and unit only while no readings are stored."""
    _own(user, meter)
    errors: dict = {field: [_("Unknown field.")] for field in values if field not in METER_FIELDS}
    checked = _check_meter(values, errors)
    if ("commodity" in checked or "unit" in checked) and has_readings(session, meter):
        for field in ("commodity", "unit"):
            if field in checked and checked[field].value != getattr(meter, field):
                errors[field] = [
                    _("Readings are stored in this meter's unit: delete them first to change it.")
                ]
    if "commodity" in checked or "unit" in checked:
        commodity = checked.get("commodity") or Commodity(meter.commodity)
        unit = checked.get("unit")
        if unit is None and Unit(meter.unit) in UNITS[commodity]:
            # Another commodity without a unit keeps the meter's unit where it fits.
            unit = Unit(meter.unit)
        if "commodity" not in errors and "unit" not in errors:
            checked["unit"] = _unit_for(commodity, unit, errors)
    if errors:
        raise Invalid(errors=errors)
    for field, value in checked.items():
        setattr(meter, field, value.value if isinstance(value, Commodity | Unit) else value)
    session.flush()
    return meter


def delete_meter(session: Session, user: User, meter: Meter) -> None:
    """Delete the meter with its readings and imports."""
    _own(user, meter)
    for model in (Reading, MeterImport):
        session.execute(
            sa.delete(model)
            .where(model.meter_id == meter.id)
            .execution_options(synchronize_session=False)
        )
    session.delete(meter)
    session.flush()


def meters_of(session: Session, user: User) -> list[Meter]:
    """The person's meters, oldest first."""
    return list(
        session.scalars(sa.select(Meter).where(Meter.user_id == user.id).order_by(Meter.id))
    )


def household_of(session: Session, user: User) -> Household | None:
    return session.scalar(sa.select(Household).where(Household.user_id == user.id))


def _check_household(facts: dict, errors: dict) -> dict:
    checked: dict = {}
    for field, value in facts.items():
        if field not in HOUSEHOLD_FIELDS:
            errors[field] = [_("Unknown field.")]
        elif value is None:
            checked[field] = None
        elif field == "people":
            low, high = PEOPLE_RANGE
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[field] = [
                    _("Enter a whole number from %(min)d to %(max)d.", min=low, max=high)
                ]
            else:
                checked[field] = value
        elif field == "floor_area_m2":
            low, high = FLOOR_AREA_RANGE
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                errors[field] = [_("Enter an area from %(min)d to %(max)d m².", min=low, max=high)]
            else:
                checked[field] = float(value)
        else:
            kinds = DwellingType if field == "dwelling_type" else HeatingType
            try:
                checked[field] = kinds(value).value
            except ValueError:
                errors[field] = [
                    _("Choose one of: %(choices)s.", choices=", ".join(k.value for k in kinds))
                ]
    return checked


def set_household(
    session: Session, user: User, now: datetime | None = None, **facts: Any
) -> Household:
    """Record the given household facts (None clears one); the others stay as they were.

    ``district`` is one of the city's; ``campaign`` (a slug) joins an open campaign of the
    city today, and None leaves it.
    """
    ensure(user, "energy.use", user.city)
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    errors: dict = {}
    taking_part = {field: facts.pop(field) for field in PARTICIPATION_FIELDS if field in facts}
    checked = _check_household(facts, errors)
    household = household_of(session, user)
    if "district" in taking_part:
        checked["district"] = check_district(user.city, taking_part["district"], errors)
    if "campaign" in taking_part:
        campaign = check_campaign(session, user, household, taking_part["campaign"], errors)
    if errors:
        raise Invalid(errors=errors)
    if household is None:
        household = Household(user_id=user.id, city_id=user.city_id)
        session.add(household)
    for field, value in checked.items():
        setattr(household, field, value)
    if "campaign" in taking_part:
        apply_campaign(household, campaign, user.city, now or utcnow())
    session.flush()
    return household


def readings_count(session: Session, user: User) -> int:
    """How many readings of the person's meters are stored (what withdrawing would delete)."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Reading)
        .join(Meter, Meter.id == Reading.meter_id)
        .where(Meter.user_id == user.id)
    )


def withdraw_energy_consent(session: Session, user: User, now: datetime | None = None) -> int:
    """Withdraw the energy consent and delete every reading and import of the person's
    meters, and the feedback computed from them; returns how many readings went."""
    now = now or utcnow()
    withdraw_consent(session, user, Purpose.ENERGY_FEEDBACK, now)
    session.execute(
        sa.delete(FeedbackReport)
        .where(FeedbackReport.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    meter_ids = sa.select(Meter.id).where(Meter.user_id == user.id)
    deleted = session.execute(
        sa.delete(Reading)
        .where(Reading.meter_id.in_(meter_ids))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        sa.delete(MeterImport)
        .where(MeterImport.meter_id.in_(meter_ids))
        .execution_options(synchronize_session=False)
    )
    # Providers stop feeding the meters: connections end, their tokens erased.
    session.execute(
        sa.update(ProviderConnection)
        .where(ProviderConnection.user_id == user.id)
        .values(
            status=ConnectionStatus.REVOKED.value,
            access_token=None,
            refresh_token=None,
            token_expires_at=None,
            state_sha256=None,
            last_error="consent_withdrawn",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return deleted
