"""A meter's consumption over a period, and how it compares with another period.

Decisions:
- Consumption is the sum of the readings starting in the period's local days (the meter's
  time zone); coverage is the share of the period's seconds the readings cover (a week across
  a clock change has 167 or 169 hours).
- Changes against the previous period and the same period last year compare the mean
  consumption per covered hour, so that a 28-day February compares fairly with a 31-day
  March; both periods need a coverage of at least 90 % (``MIN_COVERAGE``).
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from energy.feedback.periods import period_bounds, period_days
from energy.feedback.sums import Totals
from energy.feedback.values import (
    LOW_COVERAGE,
    NO_CONSUMPTION,
    NO_READINGS,
    Figure,
    figure,
    missing,
)
from energy.models import FeedbackPeriod

#: Periods covered less than this by readings are not compared.
MIN_COVERAGE = 0.9


@dataclass(frozen=True, slots=True)
class Window:
    """A period's local days and its instants ``[start, end)``."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def days(self) -> dict:
        return {"first_day": self.first.isoformat(), "last_day": self.last.isoformat()}


def window_of(period: FeedbackPeriod, starts_on: date, zone: ZoneInfo) -> Window:
    first, last = period_days(period, starts_on)
    return Window(first, last, *period_bounds(period, starts_on, zone))


def covered(totals: Totals | None, window: Window) -> float:
    """Share of the window the readings cover, 0 to 1 (whole seconds: SQLite's are floats)."""
    if totals is None:
        return 0.0
    return min(round(totals.seconds), window.seconds) / window.seconds


def consumption(totals: Totals | None, window: Window, unit: str) -> Figure:
    """The consumption figure of a window."""
    if totals is None:
        return missing(unit, NO_READINGS, **window.days())
    how = {
        "method": "sum",
        "readings": totals.readings,
        "from": Totals.moment(totals.first),
        "to": Totals.moment(totals.last),
        "coverage": round(covered(totals, window), 4),
        "hours": round(window.seconds / 3600, 2),
    }
    return figure(totals.value, unit, **how, **window.days())


def change(
    now: Totals | None, window: Window, other: Totals | None, other_window: Window
) -> Figure:
    """The change in per cent from ``other``'s mean consumption per covered hour to ``now``'s."""
    how = {"method": "change_of_mean_per_covered_hour"}
    for which, totals, each in (("this", now, window), ("other", other, other_window)):
        if totals is None:
            return missing("%", NO_READINGS, period=which, **how)
        coverage = covered(totals, each)
        if coverage < MIN_COVERAGE:
            return missing("%", LOW_COVERAGE, period=which, coverage=round(coverage, 4), **how)
    rate, other_rate = now.value / now.seconds, other.value / other.seconds
    if other_rate <= 0:
        return missing("%", NO_CONSUMPTION, period="other", **how)
    return figure((rate / other_rate - 1) * 100.0, "%", **how)
