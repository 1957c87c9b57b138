"""The periods feedback covers: ISO weeks (Monday to Sunday) and calendar months of local days.

A period is named by its first local day (``starts_on``); its instants follow the meter's
time zone, so a week across a clock change has 167 or 169 hours.

Decisions:
- Last year's week is the same ISO week number of the previous ISO year (weeks run Monday
  to Sunday in both); week 53 of a long year compares with week 52 when the year before has
  none. Last year's month is the same calendar month.
- A period is complete once its last local day has ended: on a Monday the week before is the
  last complete one, on the 1st the month before.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.errors import Invalid
from energy.buckets import local_midnight
from energy.models import FeedbackPeriod
from energy.series import YEARS
from i18n import _


def _period(period: FeedbackPeriod | str) -> FeedbackPeriod:
    try:
        return FeedbackPeriod(period)
    except ValueError:
        message = _("Choose one of: %(names)s.", names=", ".join(p.value for p in FeedbackPeriod))
        raise Invalid(errors={"period": [message]}) from None


def _month_before(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def _month_after(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _iso_weeks(year: int) -> int:
    """52 or 53: 28 December always lies in an ISO year's last week."""
    return date(year, 12, 28).isocalendar().week


def period_days(period: FeedbackPeriod, starts_on: date) -> tuple[date, date]:
    """The first and last local day (inclusive) of the week or month starting on ``starts_on``."""
    period = _period(period)
    if not YEARS[0] <= starts_on.year <= YEARS[1]:
        message = _("Give a year from %(first)s to %(last)s.", first=YEARS[0], last=YEARS[1])
        raise Invalid(errors={"starts_on": [message]})
    if period is FeedbackPeriod.WEEK:
        if starts_on.weekday() != 0:
            raise Invalid(errors={"starts_on": [_("A week starts on a Monday.")]})
        return starts_on, starts_on + timedelta(days=6)
    if starts_on.day != 1:
        raise Invalid(errors={"starts_on": [_("A month starts on its first day.")]})
    return starts_on, _month_after(starts_on) - timedelta(days=1)


def last_complete(period: FeedbackPeriod, today: date) -> date:
    """The first day of the last period that ended before ``today``."""
    if _period(period) is FeedbackPeriod.WEEK:
        return today - timedelta(days=today.weekday() + 7)
    return _month_before(today)


def previous_start(period: FeedbackPeriod, starts_on: date) -> date:
    """The first day of the period before the one starting on ``starts_on``."""
    first, _last = period_days(period, starts_on)
    if _period(period) is FeedbackPeriod.WEEK:
        return first - timedelta(days=7)
    return _month_before(first)


def last_year_start(period: FeedbackPeriod, starts_on: date) -> date:
    """The first day of the same ISO week (week 53: 52 if need be) or month a year earlier."""
    first, _last = period_days(period, starts_on)
    if _period(period) is FeedbackPeriod.MONTH:
        return first.replace(year=first.year - 1)
    year, week, _weekday = first.isocalendar()
    return date.fromisocalendar(year - 1, min(week, _iso_weeks(year - 1)), 1)


def period_bounds(
    period: FeedbackPeriod, starts_on: date, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The period as instants (UTC), ``[start, end)``: from its first local midnight to the
    one after its last day."""
    first, last = period_days(period, starts_on)
    return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
