"""Feedback periods: ISO weeks and calendar months, the last complete one, the one before, the
same one last year (ISO week 53, year boundaries), and their instants across clock changes."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.errors import Invalid
from energy.feedback.periods import (
    last_complete,
    last_year_start,
    period_bounds,
    period_days,
    previous_start,
)
from energy.models import FeedbackPeriod

pytestmark = pytest.mark.usefixtures("in_app")

WEEK, MONTH = FeedbackPeriod.WEEK, FeedbackPeriod.MONTH
VIENNA = ZoneInfo("Europe/Vienna")


@pytest.mark.parametrize(
    ("period", "starts_on", "days"),
    [
        (WEEK, date(2024, 3, 4), (date(2024, 3, 4), date(2024, 3, 10))),
        # ISO week 1 of 2025 starts in December 2024.
        (WEEK, date(2024, 12, 30), (date(2024, 12, 30), date(2025, 1, 5))),
        (MONTH, date(2024, 2, 1), (date(2024, 2, 1), date(2024, 2, 29))),
        (MONTH, date(2023, 2, 1), (date(2023, 2, 1), date(2023, 2, 28))),
        (MONTH, date(2024, 12, 1), (date(2024, 12, 1), date(2024, 12, 31))),
        ("week", date(2024, 3, 4), (date(2024, 3, 4), date(2024, 3, 10))),
    ],
)
def test_a_period_runs_from_its_first_to_its_last_local_day(period, starts_on, days):
    assert period_days(period, starts_on) == days


@pytest.mark.parametrize(
    ("period", "starts_on", "message"),
    [
        (WEEK, date(2024, 3, 5), "A week starts on a Monday."),
        (WEEK, date(2024, 3, 10), "A week starts on a Monday."),
        (MONTH, date(2024, 3, 2), "A month starts on its first day."),
        (MONTH, date(2024, 3, 31), "A month starts on its first day."),
        (MONTH, date(1969, 12, 1), "Give a year from 1970 to 2199."),
    ],
)
def test_a_period_that_does_not_start_there_is_refused(period, starts_on, message):
    with pytest.raises(Invalid) as refused:
        period_days(period, starts_on)
    assert refused.value.errors == {"starts_on": [message]}


def test_an_unknown_kind_of_period_is_refused():
    with pytest.raises(Invalid) as refused:
        period_days("year", date(2024, 1, 1))
    assert refused.value.errors == {"period": ["Choose one of: week, month."]}


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        # On a Monday the week that ended yesterday is complete…
        (WEEK, date(2024, 1, 1), date(2023, 12, 25)),
        # …on a Sunday the current week is not yet.
        (WEEK, date(2023, 12, 31), date(2023, 12, 18)),
        (WEEK, date(2024, 3, 6), date(2024, 2, 26)),
        (MONTH, date(2024, 1, 1), date(2023, 12, 1)),
        (MONTH, date(2024, 1, 31), date(2023, 12, 1)),
        (MONTH, date(2024, 3, 15), date(2024, 2, 1)),
    ],
)
def test_the_last_complete_period_ended_before_today(period, today, expected):
    assert last_complete(period, today) == expected
    _first, last = period_days(period, expected)
    assert last < today


@pytest.mark.parametrize(
    ("period", "starts_on", "expected"),
    [
        (WEEK, date(2024, 1, 1), date(2023, 12, 25)),
        (WEEK, date(2024, 3, 4), date(2024, 2, 26)),
        (MONTH, date(2024, 1, 1), date(2023, 12, 1)),
        (MONTH, date(2024, 3, 1), date(2024, 2, 1)),
    ],
)
def test_the_previous_period(period, starts_on, expected):
    assert previous_start(period, starts_on) == expected


@pytest.mark.parametrize(
    ("starts_on", "expected"),
    [
        # ISO week 10 of 2024 and of 2023.
        (date(2024, 3, 4), date(2023, 3, 6)),
        # Week 1 of 2021 starts on 4 January; week 1 of 2020 on 30 December 2019.
        (date(2021, 1, 4), date(2019, 12, 30)),
        # Week 53 of 2020: 2019 has 52 weeks, so its week 52.
        (date(2020, 12, 28), date(2019, 12, 23)),
        # Week 52 of 2021 compares with week 52 of 2020, not with its week 53.
        (date(2021, 12, 27), date(2020, 12, 21)),
    ],
)
def test_last_years_week_has_the_same_iso_week_number(starts_on, expected):
    assert last_year_start(WEEK, starts_on) == expected
    assert last_year_start(WEEK, starts_on).weekday() == 0


def test_last_years_month_is_the_same_month():
    assert last_year_start(MONTH, date(2024, 2, 1)) == date(2023, 2, 1)
    assert last_year_start(MONTH, date(2024, 1, 1)) == date(2023, 1, 1)


def test_comparisons_refuse_a_period_that_does_not_exist():
    with pytest.raises(Invalid):
        previous_start(WEEK, date(2024, 3, 5))
    with pytest.raises(Invalid):
        last_year_start(MONTH, date(2024, 3, 5))


def test_a_week_across_the_clocks_going_back_has_169_hours():
    start, end = period_bounds(WEEK, date(2024, 10, 21), VIENNA)
    assert start == datetime(2024, 10, 20, 22, tzinfo=UTC)  # midnight, summer time
    assert end == datetime(2024, 10, 27, 23, tzinfo=UTC)  # midnight, winter time
    assert (end - start).total_seconds() == 169 * 3600


def test_a_month_with_the_clocks_going_forward_has_an_hour_less():
    start, end = period_bounds(MONTH, date(2024, 3, 1), VIENNA)
    assert start == datetime(2024, 2, 29, 23, tzinfo=UTC)
    assert end == datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert (end - start).total_seconds() == (31 * 24 - 1) * 3600
