"""Savings against the household's own baseline since it joined the campaign, and its goal.

Decisions:
- The baseline is the meter's average daily consumption over the 28 local days before the
  household joined (``joined_on``), when its readings cover at least ``BASELINE_COVERAGE``
  of them; else over the first 28 days from ``joined_on`` (savings then start from zero by
  construction, which is what an honest "since joining" can say without a history).
  The average is over the time the readings cover, so a missing day lowers nothing.
- Heat and gas (and electricity heating a home) use the baseline per heating degree day when
  the city's temperatures cover the baseline's days and the period's, and both are in the
  heating season (at least ``HEATING_HDD_PER_DAY`` degree days a day on average): a cold
  week is not counted as a failure. Out of season, per day: a summer week would otherwise be
  expected to use nothing.
- A period's ``expected`` is the baseline for its days (or degree days); ``saving`` is
  expected less consumption (negative when more was used), stored in the report too.
  Only periods starting on or after ``joined_on``, with readings covering at least
  ``PERIOD_COVERAGE`` of them, have one.
- ``savings_since_joining`` adds up the weekly savings since joining (the stored weekly
  reports and the one being made), in per cent of what was expected over them
  (expected = consumption + saving). ``goal_progress`` is that per cent in per cent of the
  goal: 100 means reached; never below 0.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from energy.buckets import local_midnight
from energy.feedback.sums import window_totals
from energy.feedback.values import LOW_COVERAGE, NO_READINGS, Figure, figure, missing
from energy.feedback.weather import heating_degree_days
from energy.models import FeedbackPeriod, FeedbackReport, Household, Meter

BASELINE_DAYS = 28
#: Meters per query.
CHUNK = 500
BASELINE_COVERAGE = 0.8
PERIOD_COVERAGE = 0.9
#: Average degree days a day from which a stretch of days counts as heating season.
HEATING_HDD_PER_DAY = 2.0
NOT_JOINED = "not_joined"
BEFORE_JOINING = "before_joining"
NO_BASELINE = "no_baseline"
NO_GOAL = "no_goal"
NO_EXPECTED = "no_expected"
SAVINGS_KEYS = ("expected", "saving", "saving_pct")
PROGRESS_KEYS = ("savings_since_joining", "goal_progress")


@dataclass(frozen=True, slots=True)
class Baseline:
    """A meter's consumption before (or just after) joining, as a daily average."""

    window: str  # "before_joining" or "after_joining"
    first: date
    last: date
    value: float
    readings: int
    coverage: float
    per_day: float
    #: Consumption per degree day, in the heating season with temperatures; else None.
    per_hdd: float | None
    hdd: float | None


def _windows(joined_on: date) -> tuple[tuple[str, date, date], ...]:
    before = joined_on - timedelta(days=BASELINE_DAYS)
    after = joined_on + timedelta(days=BASELINE_DAYS - 1)
    return (
        ("before_joining", before, joined_on - timedelta(days=1)),
        ("after_joining", joined_on, after),
    )


def _in_season(hdd: float | None, days: int) -> bool:
    return hdd is not None and hdd >= HEATING_HDD_PER_DAY * days


def baselines(
    session: Session,
    meters: Sequence[Meter],
    joined: Mapping[int, date],
    heating: Mapping[int, bool],
    temperatures: Mapping[date, float],
    base_c: float,
) -> dict[int, Baseline | str]:
    """Per meter of a household that joined (``joined`` by meter id), its baseline, or why
    it has none; ``heating`` says which meters heat (by meter id)."""
    # Meters of one zone that joined on one day share their windows: one query per window.
    groups: dict[tuple[str, date], list[int]] = defaultdict(list)
    for meter in meters:
        if meter.id in joined:
            groups[(meter.timezone, joined[meter.id])].append(meter.id)
    found: dict[int, Baseline | str] = {}
    for (zone_name, joined_on), ids in groups.items():
        zone = ZoneInfo(zone_name)
        pending = set(ids)
        for window, first, last in _windows(joined_on):
            start = local_midnight(first, zone)
            end = local_midnight(last + timedelta(days=1), zone)
            seconds = (end - start).total_seconds()
            waiting = sorted(pending)
            totals = {}
            for offset in range(0, len(waiting), CHUNK):
                chunk = waiting[offset : offset + CHUNK]
                totals |= window_totals(session, chunk, start, end)
            for meter_id, each in totals.items():
                coverage = min(each.seconds / seconds, 1.0)
                if coverage < BASELINE_COVERAGE or each.seconds <= 0:
                    continue
                hdd, _known = heating_degree_days(temperatures, first, last, base_c)
                per_hdd = None
                if heating.get(meter_id) and _in_season(hdd, BASELINE_DAYS):
                    per_hdd = each.value / coverage / hdd
                found[meter_id] = Baseline(
                    window,
                    first,
                    last,
                    each.value,
                    each.readings,
                    coverage,
                    each.value / (each.seconds / 86400.0),
                    per_hdd,
                    hdd,
                )
                pending.discard(meter_id)
            if not pending:
                break
        for meter_id in pending:
            found[meter_id] = NO_BASELINE
    return found


def _coverage(figures: Mapping[str, Figure]) -> float:
    return float(figures["consumption"]["how"].get("coverage") or 0.0)


def period_savings(
    baseline: Baseline | str | None,
    figures: Mapping[str, Figure],
    unit: str,
    first: date,
    last: date,
    joined_on: date | None,
) -> tuple[dict[str, Figure], float | None]:
    """The period's ``expected``, ``saving`` and ``saving_pct`` figures, and the saving."""

    def none(reason: str, **how) -> tuple[dict[str, Figure], None]:
        units = (unit, unit, "%")
        return {
            k: missing(u, reason, **how) for k, u in zip(SAVINGS_KEYS, units, strict=True)
        }, None

    if joined_on is None:
        return none(NOT_JOINED)
    if first < joined_on:
        return none(BEFORE_JOINING, joined_on=joined_on.isoformat())
    if not isinstance(baseline, Baseline):
        return none(baseline or NO_BASELINE, joined_on=joined_on.isoformat())
    consumption = figures["consumption"]["value"]
    if consumption is None:
        return none(NO_READINGS)
    coverage = _coverage(figures)
    if coverage < PERIOD_COVERAGE:
        return none(LOW_COVERAGE, coverage=round(coverage, 4))
    days = (last - first).days + 1
    hdd = figures.get("hdd", {}).get("value")
    how = {
        "baseline_window": baseline.window,
        "baseline_from": baseline.first.isoformat(),
        "baseline_to": baseline.last.isoformat(),
        "baseline_readings": baseline.readings,
        "baseline_coverage": round(baseline.coverage, 4),
        "joined_on": joined_on.isoformat(),
    }
    if baseline.per_hdd is not None and _in_season(hdd, days):
        expected = baseline.per_hdd * hdd
        how |= {"method": "baseline_per_hdd", "per_hdd": round(baseline.per_hdd, 4), "hdd": hdd}
    else:
        expected = baseline.per_day * days
        how |= {"method": "baseline_per_day", "per_day": round(baseline.per_day, 4), "days": days}
    saving = expected - consumption
    found = {
        "expected": figure(expected, unit, **how),
        "saving": figure(
            saving, unit, method="expected_minus_consumption", consumption=consumption
        ),
    }
    if expected > 0:
        found["saving_pct"] = figure(saving / expected * 100.0, "%", method="saving_of_expected")
    else:
        found["saving_pct"] = missing("%", NO_EXPECTED)
    return found, saving


def stored_savings(
    session: Session, meter_ids: list[int], starts_on: date, last: date
) -> dict[int, tuple[float, float, int]]:
    """Per meter, its stored weekly savings since its household joined, up to ``last`` and
    leaving out the week starting ``starts_on`` (being made): (saving, expected, weeks)."""
    if not meter_ids:
        return {}
    rows = session.execute(
        sa.select(
            FeedbackReport.meter_id,
            sa.func.sum(FeedbackReport.saving),
            sa.func.sum(FeedbackReport.consumption + FeedbackReport.saving),
            sa.func.count(),
        )
        .join(Household, Household.user_id == FeedbackReport.user_id)
        .where(
            FeedbackReport.meter_id.in_(meter_ids),
            FeedbackReport.period == FeedbackPeriod.WEEK.value,
            FeedbackReport.saving.is_not(None),
            FeedbackReport.starts_on >= Household.joined_on,
            FeedbackReport.starts_on != starts_on,
            FeedbackReport.ends_on <= last,
        )
        .group_by(FeedbackReport.meter_id)
    )
    return {meter_id: (float(s), float(e), int(n)) for meter_id, s, e, n in rows}


def progress(
    unit: str,
    period: FeedbackPeriod,
    saving: float | None,
    consumption: float | None,
    stored: tuple[float, float, int] | None,
    joined_on: date | None,
    goal_percent: float | None,
) -> dict[str, Figure]:
    """The ``savings_since_joining`` and ``goal_progress`` figures."""
    if joined_on is None:
        return {
            "savings_since_joining": missing(unit, NOT_JOINED),
            "goal_progress": missing("%", NOT_JOINED),
        }
    total, expected, weeks = stored or (0.0, 0.0, 0)
    if period == FeedbackPeriod.WEEK and saving is not None:
        total, expected, weeks = total + saving, expected + consumption + saving, weeks + 1
    since = {"since": joined_on.isoformat(), "weeks": weeks, "method": "sum_of_weekly_savings"}
    if weeks == 0:
        found = {"savings_since_joining": missing(unit, NO_BASELINE, **since)}
        pct = None
    else:
        pct = total / expected * 100.0 if expected > 0 else None
        since |= {"expected": round(expected, 4), "pct": None if pct is None else round(pct, 2)}
        found = {"savings_since_joining": figure(total, unit, **since)}
    found["goal_progress"] = goal_figure(pct, goal_percent)
    return found


def goal_figure(saving_pct: float | None, goal_percent: float | None) -> Figure:
    """How far the saving since joining (in per cent) goes towards the goal, in per cent."""
    if goal_percent is None:
        return missing("%", NO_GOAL)
    if saving_pct is None:
        return missing("%", NO_BASELINE, goal_percent=goal_percent)
    return figure(
        max(saving_pct / goal_percent * 100.0, 0.0),
        "%",
        method="saving_pct_of_goal",
        goal_percent=goal_percent,
        saving_pct=round(saving_pct, 2),
    )
