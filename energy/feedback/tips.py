"""Tips chosen by rules from a household's own pattern, each with the reason it was chosen.

A tip is stored as ``{"code", "reason": {numbers}, "saving"}``: the numbers that made the rule
fire, and the saving it may bring in the meter's base unit over the period (how tips are
ordered). Its title, advice and reason sentence are written when shown, in the reader's
language (``render_tip``), so a report reads right in every language.

Rules (figures of energy/feedback/figures.py):
- standby (electricity): the baseload is at least 30 % of consumption, or above 1.3 times the
  similar households' median baseload; saving: the baseload down to that median (or by a
  quarter without one) over the period's hours.
- evening (electricity): at least 35 % used from 17:00 to 21:00; saving: a tenth of that.
- heating (heat and gas): in the heating season, at least 70 % of consumption above the
  baseload; or consumption per degree day 10 % above last year's; saving: 6 % of the heating
  (a degree less on the thermostat), or the rise per degree day.
- what_changed (all): 15 % more than the same period last year (and, where degree days are
  known, also per degree day: a colder winter is no change); saving: the rise.
- leak (water): every night's lowest hour used water; saving: that flow over the period.
At most ``MAX_TIPS``, the largest saving first.
"""

from collections.abc import Mapping
from datetime import date

from flask_babel import LazyString

from energy.feedback.savings import HEATING_HDD_PER_DAY
from energy.feedback.values import Figure
from energy.feedback.wording import money, percent, quantity
from energy.models import Commodity
from i18n import _, _l, ngettext

MAX_TIPS = 3
BASELOAD_SHARE = 30.0
BASELOAD_OVER_MEDIAN = 1.3
EVENING_SHARE = 35.0
HEATING_SHARE = 70.0
PER_HDD_RISE = 10.0
RISE = 15.0
#: Months of the heating season when degree days are not known.
HEATING_MONTHS = (10, 11, 12, 1, 2, 3, 4)
#: Shares of a tip's trigger it may save: a quarter of standby, a tenth of the evening peak,
#: 6 % of heating per degree less.
STANDBY_CUT = 0.25
EVENING_CUT = 0.1
THERMOSTAT_CUT = 0.06

#: code → (title, advice)
TEXTS: dict[str, tuple[LazyString, LazyString]] = {
    "standby": (
        _l("Switch off what stays on"),
        _l(
            "Devices on standby, chargers, old fridges and routers use power day and night. "
            "Switch them off at a power strip when you do not need them, and look for the "
            "ones that stay warm."
        ),
    ),
    "evening": (
        _l("Spread your evening use"),
        _l(
            "Much of your electricity goes in the early evening, when the grid is busiest. "
            "Run the washing machine, dishwasher or dryer later at night or in the day."
        ),
    ),
    "heating": (
        _l("Check the thermostat and airing"),
        _l(
            "Each degree less saves about six per cent of heating. Air rooms briefly with "
            "windows wide "
            "open instead of leaving them tilted, and lower the heating at night and when "
            "you are away."
        ),
    ),
    "what_changed": (
        _l("What has changed?"),
        _l(
            "You used clearly more than a year ago. A new device, more people at home or a "
            "device left running may explain it: finding out is the first step to saving."
        ),
    ),
    "leak": (
        _l("Check for a leak"),
        _l(
            "Water ran even at the quietest hour of every night. A dripping tap or a running "
            "toilet cistern wastes a lot over a year: check them, and read the meter when no "
            "water is used."
        ),
    ),
}


def _value(figures: Mapping[str, Figure], key: str):
    found = figures.get(key)
    return found.get("value") if found else None


def _heating_season(figures: Mapping[str, Figure], first: date, last: date) -> bool:
    hdd = _value(figures, "hdd")
    if hdd is not None:
        return hdd >= HEATING_HDD_PER_DAY * ((last - first).days + 1)
    return first.month in HEATING_MONTHS


def _standby(figures, hours: float, cohort_baseload: float | None) -> dict | None:
    load, share = _value(figures, "baseload"), _value(figures, "baseload_share_pct")
    if load is None:
        return None
    above = cohort_baseload is not None and load > cohort_baseload * BASELOAD_OVER_MEDIAN
    if not above and (share is None or share < BASELOAD_SHARE):
        return None
    target = cohort_baseload if above else load * (1 - STANDBY_CUT)
    reason = {"baseload": load, "unit": figures["baseload"]["unit"], "share_pct": share}
    cost = figures.get("baseload_yearly_cost") or {}
    if cost.get("value") is not None:
        reason |= {"yearly_cost": cost["value"], "currency": cost["unit"]}
    if above:
        reason["cohort_median"] = cohort_baseload
    return {"code": "standby", "reason": reason, "saving": (load - target) * hours}


def _evening(figures) -> dict | None:
    share, consumption = _value(figures, "evening_share_pct"), _value(figures, "consumption")
    if share is None or consumption is None or share < EVENING_SHARE:
        return None
    saving = consumption * share / 100.0 * EVENING_CUT
    return {"code": "evening", "reason": {"share_pct": share}, "saving": saving}


def _heating(figures, first: date, last: date) -> dict | None:
    consumption = _value(figures, "consumption")
    if consumption is None:
        return None
    rise = _value(figures, "normalised_change_last_year_pct")
    if rise is not None and rise >= PER_HDD_RISE:
        saving = consumption * (1 - 100.0 / (100.0 + rise))
        return {"code": "heating", "reason": {"per_hdd_change_pct": rise}, "saving": saving}
    share = _value(figures, "heating_share_pct")
    if share is not None and share >= HEATING_SHARE and _heating_season(figures, first, last):
        saving = consumption * share / 100.0 * THERMOSTAT_CUT
        return {"code": "heating", "reason": {"heating_share_pct": share}, "saving": saving}
    return None


def _what_changed(figures) -> dict | None:
    rise, consumption = _value(figures, "change_last_year_pct"), _value(figures, "consumption")
    if rise is None or consumption is None or rise < RISE:
        return None
    normalised = _value(figures, "normalised_change_last_year_pct")
    if normalised is not None and normalised < RISE:
        return None  # the weather explains it
    saving = consumption * (1 - 100.0 / (100.0 + rise))
    return {"code": "what_changed", "reason": {"change_pct": rise}, "saving": saving}


def _leak(figures, hours: float) -> dict | None:
    load = figures.get("baseload") or {}
    minima = (load.get("how") or {}).get("minima") or {}
    if load.get("value") is None or not minima or min(minima.values()) <= 0:
        return None
    flow = min(minima.values())
    reason = {"flow": flow, "unit": load["unit"], "nights": len(minima)}
    return {"code": "leak", "reason": reason, "saving": flow * hours}


def choose_tips(
    commodity: str,
    figures: Mapping[str, Figure],
    first: date,
    last: date,
    cohort_baseload: float | None = None,
) -> list[dict]:
    """The tips for a meter's period (its local days ``first`` to ``last``), largest saving
    first; ``cohort_baseload`` is the similar households' median baseload when shown."""
    hours = ((last - first).days + 1) * 24.0
    if commodity == Commodity.ELECTRICITY:
        found = [_standby(figures, hours, cohort_baseload), _evening(figures)]
    elif commodity in (Commodity.DISTRICT_HEAT, Commodity.GAS):
        found = [_heating(figures, first, last)]
    else:
        found = [_leak(figures, hours)]
    found.append(_what_changed(figures))
    chosen = [tip for tip in found if tip is not None]
    chosen.sort(key=lambda tip: -tip["saving"])
    for tip in chosen:
        tip["saving"] = round(tip["saving"], 4)
    return chosen[:MAX_TIPS]


# --- shown ----------------------------------------------------------------------------------


def _reason(code: str, reason: Mapping) -> str:
    """Why the tip was chosen, with its numbers, in the current language."""
    if code == "standby":
        said = _(
            "Your home uses %(power)s even when nothing seems on: %(share)s of your consumption.",
            power=quantity(reason["baseload"], reason["unit"]),
            share=percent(reason.get("share_pct") or 0.0),
        )
        if reason.get("cohort_median") is not None:
            said += " " + _(
                "Similar households use %(power)s.",
                power=quantity(reason["cohort_median"], reason["unit"]),
            )
        if reason.get("yearly_cost") is not None:
            said += " " + _(
                "Over a year that costs about %(cost)s.",
                cost=money(reason["yearly_cost"], reason["currency"]),
            )
        return said
    if code == "evening":
        return _(
            "%(share)s of your electricity was used between 17:00 and 21:00.",
            share=percent(reason["share_pct"]),
        )
    if code == "heating" and "per_hdd_change_pct" in reason:
        return _(
            "For the same cold, you used %(change)s more than a year ago.",
            change=percent(reason["per_hdd_change_pct"]),
        )
    if code == "heating":
        return _(
            "%(share)s of your consumption went into heating.",
            share=percent(reason["heating_share_pct"]),
        )
    if code == "what_changed":
        return _(
            "You used %(change)s more than in the same period last year.",
            change=percent(reason["change_pct"]),
        )
    return ngettext(
        "Water ran at least %(flow)s in the quietest hour of the night you were measured.",
        "Water ran at least %(flow)s in the quietest hour of each of the %(num)d nights "
        "you were measured.",
        reason["nights"],
        flow=quantity(reason["flow"], reason["unit"]),
    )


def render_tip(tip: Mapping) -> dict:
    """A stored tip as shown: its code, title, advice and reason, in the current language."""
    title, body = TEXTS[tip["code"]]
    return {
        "code": tip["code"],
        "title": str(title),
        "body": str(body),
        "reason": _reason(tip["code"], tip.get("reason") or {}),
    }
