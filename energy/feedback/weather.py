"""Heating degree days: consumption for heating compared fairly between a mild and a cold year.

Decisions:
- A day's heating degree days are ``max(0, base - mean)`` of the city's daily mean outdoor
  temperature (``ENERGY_HDD_BASE_C``, 15.5 °C by default); a period's are their sum. A period
  with a day lacking its temperature has none: a guess would make the comparison unfair.
- They apply to heat and gas meters, and to electricity where the household heats with it
  (electric heating or a heat pump).
- Consumption per degree day compares periods whose readings cover at least
  ``MIN_COVERAGE`` of them; the normalised change is that of consumption per degree day
  against the same period last year.
"""

from collections.abc import Mapping
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from energy.feedback.consumption import MIN_COVERAGE
from energy.feedback.values import (
    LOW_COVERAGE,
    NO_CONSUMPTION,
    NO_HEATING_DEGREE_DAYS,
    NO_READINGS,
    NO_TEMPERATURES,
    NOT_HEATING,
    Figure,
    figure,
    missing,
    rounded,
)
from energy.models import Commodity, HeatingType, Household, Meter, TemperatureDay

HEATING = {Commodity.DISTRICT_HEAT, Commodity.GAS}
ELECTRIC_HEATING = {HeatingType.ELECTRIC, HeatingType.HEAT_PUMP}


def temperatures_of(session: Session, city_id: int, first: date, last: date) -> dict[date, float]:
    """The city's daily mean temperatures (°C) from ``first`` to ``last`` (inclusive)."""
    rows = session.execute(
        sa.select(TemperatureDay.day, TemperatureDay.mean_c).where(
            TemperatureDay.city_id == city_id,
            TemperatureDay.day >= first,
            TemperatureDay.day <= last,
        )
    )
    return {day: float(mean) for day, mean in rows}


def heating_degree_days(
    temperatures: Mapping[date, float], first: date, last: date, base_c: float
) -> tuple[float | None, int]:
    """The degree days of ``first`` to ``last`` (None if a day lacks its temperature), and
    how many of the days have one."""
    total, known, day = 0.0, 0, first
    while day <= last:
        mean = temperatures.get(day)
        if mean is not None:
            total += max(0.0, base_c - mean)
            known += 1
        day += timedelta(days=1)
    days = (last - first).days + 1
    return (total if known == days else None), known


def heats(meter: Meter, household: Household | None) -> bool:
    """Whether the meter's consumption goes (mostly) into heating."""
    if meter.commodity in HEATING:
        return True
    heating = household.heating_type if household is not None else None
    return meter.commodity == Commodity.ELECTRICITY and heating in ELECTRIC_HEATING


def hdd_figures(
    *,
    unit: str,
    applies: bool,
    temperatures: Mapping[date, float],
    base_c: float,
    now: tuple[date, date, float | None, float],
    last_year: tuple[date, date, float | None, float],
) -> dict[str, Figure]:
    """The degree-day figures; ``now`` and ``last_year`` are (first day, last day,
    consumption or None, coverage)."""
    per_unit = f"{unit}/HDD"
    keys = ("hdd", "hdd_last_year", "per_hdd", "per_hdd_last_year")
    units = ("HDD", "HDD", per_unit, per_unit)
    if not applies:
        absent = {key: missing(u, NOT_HEATING) for key, u in zip(keys, units, strict=True)}
        return absent | {"normalised_change_last_year_pct": missing("%", NOT_HEATING)}
    found: dict[str, Figure] = {}
    exact: list[float | None] = []
    for suffix, (first, last, consumption, coverage) in (("", now), ("_last_year", last_year)):
        days = {"first_day": first.isoformat(), "last_day": last.isoformat()}
        hdd, known = heating_degree_days(temperatures, first, last, base_c)
        if hdd is None:
            found["hdd" + suffix] = missing("HDD", NO_TEMPERATURES, days_known=known, **days)
            found["per_hdd" + suffix] = missing(per_unit, NO_TEMPERATURES, **days)
            exact.append(None)
            continue
        method = "sum_of_base_minus_daily_mean"
        found["hdd" + suffix] = figure(hdd, "HDD", method=method, base_c=base_c, **days)
        found["per_hdd" + suffix], value = _per_hdd(consumption, coverage, hdd, per_unit, days)
        exact.append(value)
    found["normalised_change_last_year_pct"] = _normalised(found, *exact)
    return found


def _per_hdd(
    consumption: float | None, coverage: float, hdd: float, unit: str, days: dict
) -> tuple[Figure, float | None]:
    if consumption is None:
        return missing(unit, NO_READINGS, **days), None
    if coverage < MIN_COVERAGE:
        return missing(unit, LOW_COVERAGE, coverage=round(coverage, 4), **days), None
    if hdd <= 0:
        return missing(unit, NO_HEATING_DEGREE_DAYS, **days), None
    value = consumption / hdd
    base = unit.split("/")[0]
    how = {"method": "consumption_per_hdd", "consumption": rounded(consumption, base)}
    return figure(value, unit, **how, **days), value


def _normalised(found: dict[str, Figure], now: float | None, last_year: float | None) -> Figure:
    how = {"method": "change_of_consumption_per_hdd"}
    for key, value in (("per_hdd", now), ("per_hdd_last_year", last_year)):
        if value is None:
            return missing("%", found[key]["how"]["missing"], **how)
    if not last_year:
        return missing("%", NO_CONSUMPTION, **how)
    return figure((now / last_year - 1) * 100.0, "%", **how)
