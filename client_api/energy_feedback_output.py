"""What phones send and are shown of energy feedback: the period asked for, a report's figures
each with how it was computed, its tips written in the reader's language, and my goal."""

from datetime import date
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.db import utcnow
from app.errors import Problem
from energy.feedback.periods import last_complete, period_days
from energy.feedback.savings import NOT_JOINED, goal_figure
from energy.feedback.tips import render_tip
from energy.feedback.values import missing
from energy.models import FeedbackPeriod, FeedbackReport, Household, Meter
from energy.schemas import GoalOut
from energy.series import YEARS
from i18n import _

FIGURES = (
    "Every figure of the period by key (consumption, previous, change_previous_pct, last_year, "
    "change_last_year_pct, baseload, baseload_share_pct, baseload_yearly, "
    "baseload_yearly_cost, peak_hour, evening_share_pct, weekday_share, hdd, hdd_last_year, "
    "per_hdd, per_hdd_last_year, normalised_change_last_year_pct, heating_share_pct, "
    "comparison, expected, saving, saving_pct, savings_since_joining, goal_progress)."
)

#: A period is compared with the one before and the same one a year earlier: both must lie
#: within the years readings may have (week 1 of 1971 compares with a week of 1969).
FIRST_YEAR = YEARS[0] + 2


# --- asked ----------------------------------------------------------------------------------


class FeedbackArgs(Schema):
    period = fields.String(
        load_default=FeedbackPeriod.WEEK.value,
        validate=validate.OneOf([p.value for p in FeedbackPeriod]),
        metadata={"description": "week (ISO, Monday to Sunday) or month."},
    )
    starts_on = fields.Date(
        load_default=None,
        metadata={
            "description": "The period's first day (a Monday, or the 1st of a month) on my "
            "meter's clock; by default the last one that has ended."
        },
    )

    @validates_schema
    def _starts_a_period(self, data, **_kwargs):
        day = data.get("starts_on")
        if day is None:
            return
        if not FIRST_YEAR <= day.year <= YEARS[1]:
            message = _("Give a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=YEARS[1])
        elif data["period"] == FeedbackPeriod.WEEK and day.weekday() != 0:
            message = _("A week starts on a Monday.")
        elif data["period"] == FeedbackPeriod.MONTH and day.day != 1:
            message = _("A month starts on its first day.")
        else:
            return
        raise ValidationError({"starts_on": [message]})


def asked_period(args: dict, meter: Meter) -> tuple[FeedbackPeriod, date]:
    """The period and its first day: the last one ended on the meter's clock by default; one
    that has not ended yet is refused (400), for its feedback would be of a part."""
    period = FeedbackPeriod(args["period"])
    today = utcnow().astimezone(ZoneInfo(meter.timezone)).date()
    starts_on = args["starts_on"] or last_complete(period, today)
    _first, last = period_days(period, starts_on)
    if last >= today:
        message = _("Feedback is given for weeks and months that have ended.")
        raise Problem(errors={"starts_on": [message]})
    return period, starts_on


# --- shown ----------------------------------------------------------------------------------


class FigureOut(Schema):
    value = fields.Raw(
        required=True,
        allow_none=True,
        metadata={
            "description": "A number, or null when it cannot be computed (``how.missing`` says "
            "why); for ``comparison`` an object: median, efficient (the 20th percentile), "
            "position (efficient, typical or above)."
        },
    )
    unit = fields.String(
        required=True,
        metadata={
            "description": "Wh, m3, L, W, L/h, m3/h, %, h, HDD, a unit per HDD, or a currency."
        },
    )
    how = fields.Dict(
        required=True,
        metadata={
            "description": "How it was computed: the method, the readings (count, from, to, "
            "coverage), the group compared with, the baseline; or ``missing``: a reason code."
        },
    )


class TipOut(Schema):
    code = fields.String(
        required=True,
        metadata={"description": "standby, evening, heating, what_changed or leak."},
    )
    title = fields.String(required=True, metadata={"description": "In my language."})
    body = fields.String(required=True, metadata={"description": "The advice."})
    reason = fields.String(
        required=True, metadata={"description": "Why it was chosen, with my numbers."}
    )
    saving = fields.Float(
        required=True,
        metadata={"description": "What it may save over the period, in the meter's unit."},
    )


class FeedbackOut(Schema):
    meter_id = fields.Integer(required=True)
    period = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "The last day, included."})
    unit = fields.String(required=True, metadata={"description": "The meter's unit."})
    timezone = fields.String(required=True, metadata={"description": "Whose days these are."})
    stored = fields.Boolean(
        required=True,
        metadata={"description": "False: computed now, as no stored report was up to date."},
    )
    computed_at = fields.AwareDateTime(required=True, allow_none=True)
    figures = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(FigureOut),
        required=True,
        metadata={"description": FIGURES},
    )
    tips = fields.List(fields.Nested(TipOut), required=True, metadata={"description": "At most 3."})


class MeterFeedbackOut(Schema):
    meter_id = fields.Integer(required=True)
    label = fields.String(required=True)
    commodity = fields.String(required=True)
    unit = fields.String(required=True)
    latest = fields.Nested(
        FeedbackOut,
        required=True,
        allow_none=True,
        metadata={"description": "The latest weekly report; null before the first."},
    )
    savings_since_joining = fields.Nested(FigureOut, required=True, allow_none=True)
    goal_progress = fields.Nested(
        FigureOut,
        required=True,
        allow_none=True,
        metadata={"description": "Towards my goal as it is now, in per cent (100: reached)."},
    )


class MyFeedbackOut(Schema):
    goal = fields.Nested(GoalOut, required=True, allow_none=True)
    campaign = fields.String(
        required=True, allow_none=True, metadata={"description": "The slug of my campaign."}
    )
    joined_on = fields.Date(required=True, allow_none=True)
    meters = fields.List(fields.Nested(MeterFeedbackOut), required=True)


def feedback_out(found: dict, meter: Meter) -> dict:
    """A report (stored or computed now) with its tips written in the current language."""
    tips = [{**render_tip(tip), "saving": tip.get("saving", 0.0)} for tip in found["tips"]]
    return {**found, "unit": meter.unit, "timezone": meter.timezone, "tips": tips}


def goal_out(household: Household | None) -> dict | None:
    if household is None or household.goal_percent is None:
        return None
    return {"percent": household.goal_percent, "set_at": household.goal_set_at}


def meter_feedback_out(
    meter: Meter, report: FeedbackReport | None, household: Household | None, found: dict | None
) -> dict:
    """A meter's latest report, its savings since joining and the progress towards the goal
    as set now (the report's may be of an earlier goal)."""
    since = report.figures.get("savings_since_joining") if report is not None else None
    if household is None or household.joined_on is None:
        progress = missing("%", NOT_JOINED)
    else:
        pct = (since or {}).get("how", {}).get("pct") if since else None
        progress = goal_figure(pct, household.goal_percent)
    return {
        "meter_id": meter.id,
        "label": meter.label,
        "commodity": meter.commodity,
        "unit": meter.unit,
        "latest": feedback_out(found, meter) if found is not None else None,
        "savings_since_joining": since,
        "goal_progress": progress,
    }
