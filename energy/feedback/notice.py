"""Telling residents of their weekly feedback: one notification per person and week.

It gathers the person's meters' reports of the week, in their language: the week's use
against the week before and the same week last year, the baseload and its yearly cost, the
comparison with similar households when shown, the savings and goal when they take part in a
campaign, and the tips with their reasons. Numbers are written for the reader here
(energy/feedback/wording.py); the templates put them into sentences.

The dedupe key names the ISO week, so a person is told of a week once, however often the
job runs; their choice of channels for ``energy.feedback`` is respected (``notify``, with
each person's own context).
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_interval
from sqlalchemy.orm import Session

from energy.feedback.tips import render_tip
from energy.feedback.wording import money, percent, quantity
from energy.meters import COMMODITY_NAMES
from energy.models import Commodity, FeedbackPeriod, FeedbackReport, Meter
from i18n import current_locale, force_locale
from notifications.models import Notification
from notifications.service import Recipient, notify

KIND = "energy.feedback"
#: People told per round: their reports are read together.
CHUNK = 500


def week_key(starts_on: date) -> str:
    year, week, _day = starts_on.isocalendar()
    return f"energy:feedback:week:{year}-W{week:02d}"


def _week_reports(starts_on: date):
    return (
        sa.select(FeedbackReport, Meter.label, Meter.unit)
        .join(Meter, Meter.id == FeedbackReport.meter_id)
        .where(
            FeedbackReport.period == FeedbackPeriod.WEEK.value,
            FeedbackReport.starts_on == starts_on,
            FeedbackReport.consumption.is_not(None),
        )
    )


def people_to_tell(session: Session, city_id: int, starts_on: date) -> list[int]:
    """The people with a report of the week (with readings) who were not told of it yet."""
    told = sa.select(Notification.id).where(
        Notification.user_id == FeedbackReport.user_id,
        Notification.dedupe_key == week_key(starts_on),
    )
    return list(
        session.scalars(
            sa.select(FeedbackReport.user_id)
            .where(
                FeedbackReport.city_id == city_id,
                FeedbackReport.period == FeedbackPeriod.WEEK.value,
                FeedbackReport.starts_on == starts_on,
                FeedbackReport.consumption.is_not(None),
                ~sa.exists(told),
            )
            .distinct()
            .order_by(FeedbackReport.user_id)
        )
    )


def tell_week(session: Session, user_ids: list[int], starts_on: date, now: datetime) -> int:
    """Tell each person of their reports of the week (once); returns how many were told."""
    told = 0
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start : start + CHUNK]
        reports: dict[int, list] = defaultdict(list)
        query = _week_reports(starts_on).where(FeedbackReport.user_id.in_(chunk))
        for report, label, unit in session.execute(query.order_by(FeedbackReport.meter_id)):
            reports[report.user_id].append((report, label, unit))
        told += notify(
            session,
            sorted(reports),
            KIND,
            _context_of(reports),
            data={"period": FeedbackPeriod.WEEK.value, "starts_on": starts_on.isoformat()},
            dedupe_key=week_key(starts_on),
            now=now,
        )
    return told


def _context_of(reports: dict[int, list]) -> Callable[[Recipient], dict]:
    """Each person's context, written in their language."""

    def context(person: Recipient) -> dict:
        with force_locale(person.locale):
            return week_context(reports[person.id])

    return context


def week_context(reports: list[tuple[FeedbackReport, str, str]]) -> dict:
    """What the energy.feedback templates are given, written in the current language."""
    first, last = reports[0][0].starts_on, reports[0][0].ends_on
    week = format_interval(first, last, "yMMMd", locale=current_locale())
    return {
        "week": week,
        "meters": [_meter(report, label, unit) for report, label, unit in reports],
    }


def _capitalised(name: str) -> str:
    """A commodity's name (written for the middle of a sentence) as a heading."""
    return name[:1].upper() + name[1:]


def _value(figures: dict, key: str):
    return (figures.get(key) or {}).get("value")


def _signed(figures: dict, key: str) -> str | None:
    value = _value(figures, key)
    return None if value is None else percent(value, signed=True)


def _meter(report: FeedbackReport, label: str, unit: str) -> dict:
    figures = report.figures or {}
    baseload = figures.get("baseload") or {}
    cost = figures.get("baseload_yearly_cost") or {}
    return {
        "name": label or _capitalised(str(COMMODITY_NAMES[Commodity(report.commodity)])),
        "consumption": quantity(report.consumption, unit),
        "previous": _signed(figures, "change_previous_pct"),
        "last_year": _signed(figures, "change_last_year_pct"),
        "baseload": None
        if baseload.get("value") is None
        else quantity(baseload["value"], baseload["unit"]),
        "baseload_cost": None if cost.get("value") is None else money(cost["value"], cost["unit"]),
        "comparison": _comparison(figures.get("comparison") or {}, unit),
        "saving": _saving(_value(figures, "saving"), _value(figures, "saving_pct"), unit),
        "since": _since(figures.get("savings_since_joining") or {}, unit),
        "goal": _goal(figures.get("goal_progress") or {}),
        "tips": [render_tip(tip) for tip in report.tips or []],
    }


def _comparison(comparison: dict, unit: str) -> dict | None:
    value = comparison.get("value")
    if not value:
        return None
    return {
        "households": comparison["how"]["households"],
        "median": quantity(value["median"], unit),
        "efficient": quantity(value["efficient"], unit),
        "position": value["position"],
    }


def _saving(amount: float | None, pct: float | None, unit: str) -> dict | None:
    if amount is None:
        return None
    return {
        "amount": quantity(abs(amount), unit),
        "pct": percent(abs(pct)) if pct is not None else None,
        "more": amount < 0,
    }


def _since(since: dict, unit: str) -> dict | None:
    if since.get("value") is None:
        return None
    return _saving(since["value"], since["how"].get("pct"), unit)


def _goal(progress: dict) -> dict | None:
    if progress.get("value") is None:
        return None
    return {
        "goal": percent(progress["how"]["goal_percent"]),
        "progress": percent(progress["value"]),
    }
