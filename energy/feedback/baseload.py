"""Baseload, the always-on use, from night-time minima; its share, its year and its cost, and
the heating share above it.

Decisions:
- Baseload is the median of the nightly minima: for each local night whose hours 00:00 to
  05:00 are all covered by readings of at most an hour, the lowest hourly sum. The median of
  at least ``MIN_NIGHTS`` nights, so that one night away or one night of washing changes
  nothing. As consumption per hour it is a mean power (Wh per hour = W), L/h or m3/h.
- Its share of the period is baseload * covered hours / consumption; its year 8760 hours of
  it; its cost that year at the city's tariff for the commodity (per kWh for meters in Wh,
  per m3, per litre).
- For heating, the heating share is the consumption above the baseload:
  (consumption - baseload * covered hours) / consumption.
"""

from collections.abc import Mapping
from statistics import median

from energy.feedback.hourly import Clock, Profile
from energy.feedback.sums import Totals
from energy.feedback.values import (
    COARSE_READINGS,
    NO_CONSUMPTION,
    NO_READINGS,
    NO_TARIFF,
    NOT_HEATING,
    PER_HOUR,
    TOO_FEW_NIGHTS,
    Figure,
    figure,
    missing,
    rounded,
    share_pct,
)
from energy.models import Meter, Tariff

MIN_NIGHTS = 3
HOURS_A_YEAR = 8760
#: What a tariff's price is per, by the meter's base unit, and how many base units that is.
PRICED_PER = {"Wh": ("kWh", 1000.0), "m3": ("m3", 1.0), "L": ("L", 1.0)}


def baseload(profile: Profile, clock: Clock, unit: str) -> tuple[Figure, float | None]:
    """The baseload figure, and its exact value in base unit per hour (None without one)."""
    rate = PER_HOUR[unit]
    used = {
        day: night
        for day, night in sorted(profile.nights.items())
        if len(night) == clock.nights[day]
    }
    how = {"method": "median_of_night_minima", "hours": "00:00-05:00"}
    if len(used) < MIN_NIGHTS:
        reason = NO_READINGS if profile.totals is None else TOO_FEW_NIGHTS
        if profile.coarse:
            reason = COARSE_READINGS
        return missing(rate, reason, nights=len(used), needed=MIN_NIGHTS, **how), None
    minima = {day: min(value for value, _readings in night) for day, night in used.items()}
    value = median(minima.values())
    found = figure(
        value,
        rate,
        nights=len(used),
        readings=sum(readings for night in used.values() for _value, readings in night),
        minima={day.isoformat(): rounded(least, unit) for day, least in minima.items()},
        **how,
    )
    return found, value


def baseload_figures(
    meter: Meter,
    found: Figure,
    load: float | None,
    now: Totals | None,
    hours: float,
    tariffs: Mapping[str, Tariff],
) -> dict[str, Figure]:
    """Its share of ``now`` over ``hours`` covered, its year and that year's cost."""
    unit = meter.unit
    per, units_per = PRICED_PER[unit]
    tariff = tariffs.get(meter.commodity)
    currency = tariff.currency if tariff is not None else ""
    if load is None:
        reason = found["how"]["missing"]
        return {
            "baseload_share_pct": missing("%", reason),
            "baseload_yearly": missing(unit, reason),
            "baseload_yearly_cost": missing(currency, reason),
        }
    yearly = load * HOURS_A_YEAR
    share_how = {"method": "baseload_x_hours_over_consumption", "hours": round(hours, 2)}
    if now is None or now.value <= 0:
        share = missing("%", NO_READINGS if now is None else NO_CONSUMPTION, **share_how)
    else:
        share = figure(share_pct(load * hours, now.value), "%", **share_how)
    if tariff is None:
        cost = missing("", NO_TARIFF)
    else:
        price = float(tariff.price)
        cost = figure(
            yearly / units_per * price,
            currency,
            method="yearly_baseload_x_price",
            price=price,
            currency=currency,
            per=per,
            quantity=round(yearly / units_per, 3),
        )
    return {
        "baseload_share_pct": share,
        "baseload_yearly": figure(yearly, unit, method="baseload_x_8760_hours"),
        "baseload_yearly_cost": cost,
    }


def heating_share(
    applies: bool, found: Figure, load: float | None, now: Totals | None, hours: float
) -> Figure:
    """The share of ``now`` above the baseload over ``hours`` covered, for heating meters."""
    how = {"method": "consumption_above_baseload"}
    if not applies:
        return missing("%", NOT_HEATING, **how)
    if load is None:
        return missing("%", found["how"]["missing"], **how)
    if now is None or now.value <= 0:
        return missing("%", NO_READINGS if now is None else NO_CONSUMPTION, **how)
    above = now.value - load * hours
    return figure(share_pct(above, now.value), "%", hours=round(hours, 2), **how)
