"""Assembling feedback reports: the meters of consenting residents, their figures, the
comparison with similar households, savings and tips, as rows (stored by reports.py).

Everything is read in bulk: the meters and households in one query per chunk of ids, the
figures by chunks of meters (energy/feedback/figures.py), the comparison from the reports
being made and the stored ones of other meters, savings with one query per baseline window.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.consent import current_text
from app.consent_models import Consent, Purpose
from app.db import utcnow
from app.models import City, User
from energy.feedback import cohort, savings
from energy.feedback.figures import figures_for_meters, temperature_span, temperatures_of
from energy.feedback.periods import period_days
from energy.feedback.tips import choose_tips
from energy.feedback.weather import heats
from energy.models import FeedbackPeriod, Household, Meter
from energy.tariffs import tariffs_of

#: Ids per IN (…) list.
CHUNK = 500


def consenting(city_id: int, text_id: int) -> sa.Select:
    """The ids of the city's live accounts consenting to its current energy text."""
    return (
        sa.select(Consent.user_id)
        .join(User, User.id == Consent.user_id)
        .where(
            Consent.text_id == text_id,
            Consent.purpose == Purpose.ENERGY_FEEDBACK.value,
            Consent.withdrawn_at.is_(None),
            User.city_id == city_id,
            User.disabled_at.is_(None),
        )
    )


def eligible_meters(
    session: Session, city: City, meter_ids: Sequence[int] | None = None
) -> tuple[list[Meter], sa.Select | None]:
    """The meters feedback is computed for (of ``meter_ids`` if given), and the select of the
    consenting people."""
    text = current_text(session, city.id, Purpose.ENERGY_FEEDBACK)
    if text is None:
        return [], None
    users = consenting(city.id, text.id)
    query = sa.select(Meter).where(Meter.user_id.in_(users)).order_by(Meter.id)
    if meter_ids is None:
        return list(session.scalars(query)), users
    found: list[Meter] = []
    wanted = sorted(set(meter_ids))
    for start in range(0, len(wanted), CHUNK):
        found += session.scalars(query.where(Meter.id.in_(wanted[start : start + CHUNK])))
    return found, users


def _temperatures(
    session: Session, city_id: int, period: FeedbackPeriod, starts_on: date, joined: list[date]
) -> dict[date, float]:
    """The city's temperatures over the period, last year's and the baseline windows."""
    first, last = temperature_span(period, starts_on)
    if joined:
        first = min(first, min(joined) - timedelta(days=savings.BASELINE_DAYS))
        last = max(last, max(joined) + timedelta(days=savings.BASELINE_DAYS))
    return temperatures_of(session, city_id, first, last)


def _facts(
    session: Session, user_ids: set[int], households: Mapping[int, Household]
) -> dict[int, tuple[int | None, float | None]]:
    """(people, floor area) by user id: from ``households``, else read."""
    facts = {uid: (h.people, h.floor_area_m2) for uid, h in households.items()}
    unknown = sorted(user_ids - set(facts))
    for start in range(0, len(unknown), CHUNK):
        rows = session.execute(
            sa.select(Household.user_id, Household.people, Household.floor_area_m2).where(
                Household.user_id.in_(unknown[start : start + CHUNK])
            )
        )
        facts.update({uid: (people, area) for uid, people, area in rows})
    return facts


def _entry(meter: Meter, figures: Mapping) -> cohort.Entry:
    consumption = figures["consumption"]
    return cohort.Entry(
        meter.id,
        meter.user_id,
        meter.commodity,
        meter.unit,
        consumption["value"],
        float(consumption["how"].get("coverage") or 0.0),
        figures["baseload"]["value"],
    )


def build(
    session: Session,
    city: City,
    meters: Sequence[Meter],
    period: FeedbackPeriod,
    starts_on: date,
    households: Mapping[int, Household],
    users: sa.Select,
) -> list[dict]:
    """The reports of ``meters`` as rows (not stored); ``households`` by user id."""
    period = FeedbackPeriod(period)
    first, last = period_days(period, starts_on)
    joined = {m.id: households[m.user_id].joined_on for m in meters if _joined(households, m)}
    temperatures = _temperatures(session, city.id, period, starts_on, list(joined.values()))
    found = figures_for_meters(
        session,
        meters,
        period,
        starts_on,
        tariffs=tariffs_of(session, city.id),
        temperatures=temperatures,
        households=households,
    )
    fresh = [_entry(meter, found[meter.id]) for meter in meters]
    ids = [meter.id for meter in meters]
    # Every household in the comparison: those computed now and the others' stored reports.
    entries = fresh + cohort.stored_entries(session, city.id, period, starts_on, users, ids)
    pool = cohort.members(entries, _facts(session, {e.user_id for e in entries}, households))
    heating = {m.id: heats(m, households.get(m.user_id)) for m in meters}
    base_c = current_app.config["ENERGY_HDD_BASE_C"]
    baselines = savings.baselines(session, meters, joined, heating, temperatures, base_c)
    stored = {}
    for start in range(0, len(ids), CHUNK):
        stored |= savings.stored_savings(session, ids[start : start + CHUNK], starts_on, last)
    minimum = current_app.config["ENERGY_MIN_GROUP"]
    now = utcnow()
    rows = []
    for meter, entry in zip(meters, fresh, strict=True):
        household = households.get(meter.user_id)
        joined_on = joined.get(meter.id)
        figures = dict(found[meter.id])
        figures["comparison"], group_baseload = cohort.comparison(
            meter.user_id, entry, pool.get((meter.commodity, meter.unit)), minimum
        )
        shown, saving = savings.period_savings(
            baselines.get(meter.id), figures, meter.unit, first, last, joined_on
        )
        figures |= shown
        figures |= savings.progress(
            meter.unit,
            period,
            saving,
            entry.consumption,
            stored.get(meter.id),
            joined_on,
            household.goal_percent if household is not None else None,
        )
        rows.append(
            {
                "meter_id": meter.id,
                "user_id": meter.user_id,
                "city_id": city.id,
                "commodity": meter.commodity,
                "period": period.value,
                "starts_on": first,
                "ends_on": last,
                "consumption": entry.consumption,
                "saving": saving,
                "figures": figures,
                "tips": choose_tips(meter.commodity, figures, first, last, group_baseload),
                "computed_at": now,
            }
        )
    return rows


def _joined(households: Mapping[int, Household], meter: Meter) -> bool:
    household = households.get(meter.user_id)
    return household is not None and household.joined_on is not None


def households_of(session: Session, user_ids: set[int]) -> dict[int, Household]:
    found: dict[int, Household] = {}
    wanted = sorted(user_ids)
    for start in range(0, len(wanted), CHUNK):
        found |= {
            h.user_id: h
            for h in session.scalars(
                sa.select(Household).where(Household.user_id.in_(wanted[start : start + CHUNK]))
            )
        }
    return found
