"""The world of the feedback tests: Lyon's consenting households, each with a meter and a
week of hourly readings of a known size (seeded in bulk, tests/energy/feedback_helpers.py)."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from energy import meters
from energy.models import FeedbackReport, Meter
from tests.energy.feedback_helpers import midnight, seed_readings

PARIS = ZoneInfo("Europe/Paris")
#: A week of 168 hours (no clock change), long past, and the Monday after it.
WEEK = date(2026, 11, 16)
NEXT_MONDAY = date(2026, 11, 23)
HOUR = timedelta(hours=1)


def seed_days(
    session,
    meter: Meter,
    first: date,
    days: int,
    value: float | Callable[[datetime], float],
    step: timedelta = HOUR,
) -> int:
    """Readings of ``step`` over ``days`` local days of Lyon from ``first``: ``value`` per
    reading, or ``value(start)``."""
    value_of = value if callable(value) else (lambda _moment: value)
    start = midnight(first, PARIS)
    end = midnight(first + timedelta(days=days), PARIS)
    return seed_readings(session, meter, start, end, step, value_of)


@pytest.fixture
def household(db_session, lyon, make_user, agree, energy_text):
    """A resident of Lyon who consents, with household facts and a meter (electricity)."""

    def make(
        people: int | None = 2,
        area: float | None = 60.0,
        commodity: str = "electricity",
        locale: str | None = None,
        **facts,
    ) -> Meter:
        user = make_user(lyon, locale=locale)
        agree(user)
        meters.set_household(db_session, user, people=people, floor_area_m2=area, **facts)
        return meters.create_meter(db_session, user, commodity=commodity)

    return make


def report_of(session, meter: Meter, starts_on: date = WEEK, period: str = "week"):
    return session.scalar(
        sa.select(FeedbackReport).where(
            FeedbackReport.meter_id == meter.id,
            FeedbackReport.period == period,
            FeedbackReport.starts_on == starts_on,
        )
    )
