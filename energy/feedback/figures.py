"""The figures of a meter's weekly or monthly feedback, each with how it was computed.

Every result has every key of ``KEYS``; a figure that cannot be computed has the value None
and a reason code in ``how["missing"]`` (energy/feedback/values.py).

The figures come from four modules: consumption and comparisons (consumption.py), hourly
patterns (hourly.py), baseload (baseload.py) and heating degree days (weather.py).

Decisions:
- Meters go by time zone and in chunks of ``CHUNK``: three grouped queries per chunk (hourly
  sums of the period, totals of the previous period and of last year's), never one per meter
  (sums.py). 10,000 meters of quarter hours take some 20 s on PostgreSQL.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from energy.feedback.baseload import baseload, baseload_figures, heating_share
from energy.feedback.consumption import Window, change, consumption, covered, window_of
from energy.feedback.hourly import (
    Clock,
    Profile,
    clock_of,
    evening_share,
    peak_hour,
    profile_of,
    weekday_share,
)
from energy.feedback.periods import last_year_start, period_days, previous_start
from energy.feedback.sums import Totals, hourly_sums, window_totals
from energy.feedback.values import Figure
from energy.feedback.weather import hdd_figures, heating_degree_days, heats, temperatures_of
from energy.models import FeedbackPeriod, Household, Meter, Tariff
from energy.tariffs import tariffs_of

__all__ = [
    "KEYS",
    "Figure",
    "figures_for_meters",
    "heating_degree_days",
    "meter_figures",
    "temperature_span",
    "temperatures_of",
]

KEYS = (
    "consumption",
    "previous",
    "change_previous_pct",
    "last_year",
    "change_last_year_pct",
    "baseload",
    "baseload_share_pct",
    "baseload_yearly",
    "baseload_yearly_cost",
    "peak_hour",
    "evening_share_pct",
    "weekday_share",
    "hdd",
    "hdd_last_year",
    "per_hdd",
    "per_hdd_last_year",
    "normalised_change_last_year_pct",
    "heating_share_pct",
)
#: Meters per query: their hours (168 a week each) fit PostgreSQL's default work_mem.
CHUNK = 200


@dataclass(frozen=True, slots=True)
class _Setting:
    """What every meter's figures take besides its readings."""

    now: Window
    previous: Window
    last_year: Window
    clock: Clock
    tariffs: Mapping[str, Tariff]
    temperatures: Mapping[date, float]
    households: Mapping[int, Household]
    base_c: float


def figures_for_meters(
    session: Session,
    meters: Sequence[Meter],
    period: FeedbackPeriod,
    starts_on: date,
    *,
    tariffs: Mapping[str, Tariff] | None = None,
    temperatures: Mapping[date, float] | None = None,
    households: Mapping[int, Household] | None = None,
) -> dict[int, dict[str, Figure]]:
    """Per meter id, the figures of the period starting on ``starts_on``.

    ``meters`` are of one city: ``tariffs`` are its prices by commodity, ``temperatures`` its
    daily means over the period and the same period last year (``temperature_span``), and
    ``households`` the households by user id.
    """
    period_days(period, starts_on)  # a period that does not exist is refused first
    period = FeedbackPeriod(period)
    by_zone: dict[str, list[Meter]] = defaultdict(list)
    for meter in meters:
        by_zone[meter.timezone].append(meter)
    result: dict[int, dict[str, Figure]] = {}
    for name, group in by_zone.items():
        zone = ZoneInfo(name)
        now = window_of(period, starts_on, zone)
        setting = _Setting(
            now=now,
            previous=window_of(period, previous_start(period, starts_on), zone),
            last_year=window_of(period, last_year_start(period, starts_on), zone),
            clock=clock_of(zone, now.start, now.end),
            tariffs=tariffs or {},
            temperatures=temperatures or {},
            households=households or {},
            base_c=current_app.config["ENERGY_HDD_BASE_C"],
        )
        for offset in range(0, len(group), CHUNK):
            chunk = group[offset : offset + CHUNK]
            result.update(_chunk(session, chunk, setting))
    return result


def _chunk(session: Session, chunk: list[Meter], setting: _Setting) -> dict[int, dict[str, Figure]]:
    ids = [meter.id for meter in chunk]
    now, previous, last_year = setting.now, setting.previous, setting.last_year
    hours = hourly_sums(session, ids, now.start, now.end, setting.clock.shift)
    before = window_totals(session, ids, previous.start, previous.end)
    year_ago = window_totals(session, ids, last_year.start, last_year.end)
    return {
        meter.id: _figures(
            meter,
            setting,
            profile_of(hours.get(meter.id), setting.clock),
            before.get(meter.id),
            year_ago.get(meter.id),
        )
        for meter in chunk
    }


def _figures(
    meter: Meter,
    setting: _Setting,
    profile: Profile,
    previous: Totals | None,
    last_year: Totals | None,
) -> dict[str, Figure]:
    unit, now = meter.unit, profile.totals
    found = {
        "consumption": consumption(now, setting.now, unit),
        "previous": consumption(previous, setting.previous, unit),
        "change_previous_pct": change(now, setting.now, previous, setting.previous),
        "last_year": consumption(last_year, setting.last_year, unit),
        "change_last_year_pct": change(now, setting.now, last_year, setting.last_year),
        "peak_hour": peak_hour(profile, unit),
        "evening_share_pct": evening_share(profile),
        "weekday_share": weekday_share(profile),
    }
    found["baseload"], load = baseload(profile, setting.clock, unit)
    hours_covered = covered(now, setting.now) * setting.now.seconds / 3600
    found.update(
        baseload_figures(meter, found["baseload"], load, now, hours_covered, setting.tariffs)
    )
    applies = heats(meter, setting.households.get(meter.user_id))
    found.update(
        hdd_figures(
            unit=unit,
            applies=applies,
            temperatures=setting.temperatures,
            base_c=setting.base_c,
            now=_span(setting.now, now),
            last_year=_span(setting.last_year, last_year),
        )
    )
    found["heating_share_pct"] = heating_share(applies, found["baseload"], load, now, hours_covered)
    return {key: found[key] for key in KEYS}


def _span(window: Window, totals: Totals | None) -> tuple[date, date, float | None, float]:
    """A window as ``hdd_figures`` takes it: its days, consumption and coverage."""
    value = totals.value if totals is not None else None
    return window.first, window.last, value, covered(totals, window)


# --- one meter ------------------------------------------------------------------------------


def temperature_span(period: FeedbackPeriod, starts_on: date) -> tuple[date, date]:
    """The days whose temperatures the figures of a period use: last year's first to now's last."""
    _first, last = period_days(period, starts_on)
    return last_year_start(period, starts_on), last


def meter_figures(
    session: Session, meter: Meter, period: FeedbackPeriod, starts_on: date
) -> dict[str, Figure]:
    """One meter's figures, with its city's tariffs and temperatures and its household."""
    span = temperature_span(period, starts_on)
    household = session.scalar(sa.select(Household).where(Household.user_id == meter.user_id))
    return figures_for_meters(
        session,
        [meter],
        period,
        starts_on,
        tariffs=tariffs_of(session, meter.city_id),
        temperatures=temperatures_of(session, meter.city_id, *span),
        households={meter.user_id: household} if household is not None else {},
    )[meter.id]
