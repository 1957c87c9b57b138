"""The scheduler's job for energy feedback: each week's reports and the notification of them,
and each month's reports.

Runs hourly. Weeks and months are those of each city's clock.

Decisions:
- Per city, the last complete ISO week: the meters of consenting residents that have readings
  in it and no report of it yet are computed and stored (energy/feedback/reports.py). The first
  run after a week computes them all; a resident whose readings of the week arrive later
  (an upload on Wednesday) gets the report within the hour, compared with the stored ones.
- The reports are committed first; then each resident with a report of the week is told
  once (``energy.feedback``, a dedupe key naming the ISO week), also after a crash between
  the two. Only the last complete week is told of: a week missed while the scheduler was
  down is in the app, not in a late notification.
- The last complete month likewise, without a notification.
- One city at a time, each in transactions of its own (``each_alone``): one failure holds up
  no other, and is tried again next run. Running twice computes and tells nothing more.
"""

import logging
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.consent import current_text
from app.consent_models import Purpose
from app.db import utcnow
from app.jobs import each_alone
from app.models import City
from energy.feedback.build import consenting
from energy.feedback.notice import people_to_tell, tell_week
from energy.feedback.periods import last_complete, period_bounds
from energy.feedback.reports import compute_reports
from energy.models import FeedbackPeriod, FeedbackReport, Meter, Reading

log = logging.getLogger("livinglab.energy")


def give_feedback(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Compute the reports of the last complete week and month, and tell of the week's."""
    now = now or utcnow()
    city_ids = list(session.scalars(sa.select(City.id).order_by(City.id)))
    session.commit()
    counts = {"reports": 0, "told": 0}

    def compute(session: Session, city_id: int, now: datetime) -> bool:
        city = session.get(City, city_id)
        made = 0
        for period in (FeedbackPeriod.WEEK, FeedbackPeriod.MONTH):
            starts_on = last_complete(period, _today(city, now))
            waiting = meters_waiting(session, city, period, starts_on)
            if waiting:
                made += compute_reports(session, city, period, starts_on, waiting)["stored"]
        counts["reports"] += made
        return made > 0

    def tell(session: Session, city_id: int, now: datetime) -> bool:
        city = session.get(City, city_id)
        week = last_complete(FeedbackPeriod.WEEK, _today(city, now))
        told = tell_week(session, people_to_tell(session, city.id, week), week, now)
        counts["told"] += told
        return told > 0

    each = partial(each_alone, session, now=now, subject="city", logger=log)
    each(city_ids, compute, what="given energy feedback")
    each(city_ids, tell, what="told of energy feedback")
    log.info("energy feedback given", extra=counts)
    return counts


def _today(city: City, now: datetime) -> date:
    return now.astimezone(ZoneInfo(city.timezone)).date()


def meters_waiting(
    session: Session, city: City, period: FeedbackPeriod, starts_on: date
) -> list[int]:
    """The meters of the city's consenting residents with readings in the period (of their
    own clock) and no report of it yet."""
    text = current_text(session, city.id, Purpose.ENERGY_FEEDBACK)
    if text is None:
        return []
    users = consenting(city.id, text.id)
    reported = sa.exists().where(
        FeedbackReport.meter_id == Meter.id,
        FeedbackReport.period == period.value,
        FeedbackReport.starts_on == starts_on,
    )
    zones = session.scalars(
        sa.select(Meter.timezone).where(Meter.user_id.in_(users)).distinct()
    ).all()
    waiting: list[int] = []
    for zone in zones:
        start, end = period_bounds(period, starts_on, ZoneInfo(zone))
        read = sa.exists().where(
            Reading.meter_id == Meter.id, Reading.start_at >= start, Reading.start_at < end
        )
        waiting += session.scalars(
            sa.select(Meter.id).where(
                Meter.user_id.in_(users), Meter.timezone == zone, read, ~reported
            )
        )
    return sorted(waiting)
