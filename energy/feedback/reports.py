"""Feedback reports: computed for a city's consenting households at once and stored, or
computed live for one meter; and a resident's latest ones.

A report holds a meter's figures for one week or month (energy/feedback/figures.py), the
comparison with similar households (cohort.py), its savings and goal progress (savings.py)
and the tips chosen (tips.py); build.py assembles them.

Decisions:
- Only meters of residents with an active energy consent (to their city's current text) are
  computed, and only reports of meters with readings in the period are stored: a report of
  nothing tells nobody anything, and the API computes one live if asked.
- A period's reports are computed together, so that each household is compared with all
  the others; recomputing replaces them in place (one upsert on meter, period and first
  day): running twice leaves the same rows. Rows go in by ``CHUNK`` in one statement each.
- A stored report is shown unless the meter got new data since it was computed (an import
  after it): then the API computes the report live, without storing it.
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.consent import require_consent
from app.consent_models import Purpose
from app.errors import NotFound
from app.models import City, User
from app.policy import ensure
from energy.feedback.build import build, eligible_meters, households_of
from energy.feedback.periods import period_days
from energy.models import FeedbackPeriod, FeedbackReport, Household, Meter, MeterImport

#: Rows per INSERT.
CHUNK = 500
#: What an upsert replaces of a stored report.
REPLACED = ("user_id", "city_id", "commodity", "ends_on", "consumption", "saving", "figures")
REPLACED += ("tips", "computed_at")


def _upsert(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        FeedbackReport.__table__
    )
    statement = insert.on_conflict_do_update(
        index_elements=["meter_id", "period", "starts_on"],
        set_={column: insert.excluded[column] for column in REPLACED},
    )
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, rows[start : start + CHUNK])


def compute_reports(
    session: Session,
    city: City,
    period: FeedbackPeriod,
    starts_on: date,
    meter_ids: Sequence[int] | None = None,
) -> dict[str, int]:
    """Compute and store the period's reports of the city's consenting households' meters
    (of ``meter_ids`` if given); returns how many meters were computed and reports stored."""
    period_days(period, starts_on)
    meters, users = eligible_meters(session, city, meter_ids)
    if not meters:
        return {"meters": 0, "stored": 0}
    households = households_of(session, {meter.user_id for meter in meters})
    # All at once: each household's comparison needs every other household's figures.
    made = build(session, city, meters, period, starts_on, households, users)
    rows = [row for row in made if row["consumption"] is not None]
    _upsert(session, rows)
    session.flush()
    return {"meters": len(meters), "stored": len(rows)}


def _stale(session: Session, report: FeedbackReport) -> bool:
    """Whether the meter got data after the report was computed."""
    return (
        session.scalar(
            sa.select(MeterImport.id)
            .where(
                MeterImport.meter_id == report.meter_id,
                MeterImport.created_at > report.computed_at,
            )
            .limit(1)
        )
        is not None
    )


def report_out(report: FeedbackReport | dict, stored: bool) -> dict:
    """A report as the API and notifications read it."""
    get = report.get if isinstance(report, dict) else lambda name: getattr(report, name)
    fields = ("meter_id", "period", "starts_on", "ends_on", "figures", "tips")
    return {
        **{name: get(name) for name in fields},
        "computed_at": get("computed_at") if stored else None,
        "stored": stored,
    }


def feedback_for(
    session: Session, user: User, meter: Meter, period: FeedbackPeriod, starts_on: date
) -> dict:
    """The person's feedback on their meter for a period: the stored report, else computed
    live (and not stored) against the stored reports of others."""
    ensure(user, "energy.use", user.city)
    if meter.user_id != user.id:
        raise NotFound()
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    period = FeedbackPeriod(period)
    first, _last = period_days(period, starts_on)
    report = session.scalar(
        sa.select(FeedbackReport).where(
            FeedbackReport.meter_id == meter.id,
            FeedbackReport.period == period.value,
            FeedbackReport.starts_on == first,
        )
    )
    if report is not None and not _stale(session, report):
        return report_out(report, stored=True)
    _meters, users = eligible_meters(session, user.city, [meter.id])
    households = households_of(session, {user.id})
    row = build(session, user.city, [meter], period, first, households, users)[0]
    return report_out(row, stored=False)


def my_feedback(session: Session, user: User) -> tuple[Household | None, dict]:
    """The person's household and the latest stored weekly report of each of their meters
    (by meter id)."""
    ensure(user, "energy.use", user.city)
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    week = FeedbackPeriod.WEEK.value
    latest = (
        sa.select(FeedbackReport.meter_id, sa.func.max(FeedbackReport.starts_on).label("day"))
        .where(FeedbackReport.user_id == user.id, FeedbackReport.period == week)
        .group_by(FeedbackReport.meter_id)
        .subquery()
    )
    rows = session.scalars(
        sa.select(FeedbackReport).join(
            latest,
            sa.and_(
                FeedbackReport.meter_id == latest.c.meter_id,
                FeedbackReport.starts_on == latest.c.day,
                FeedbackReport.period == week,
            ),
        )
    )
    household = session.scalar(sa.select(Household).where(Household.user_id == user.id))
    return household, {report.meter_id: report for report in rows}
