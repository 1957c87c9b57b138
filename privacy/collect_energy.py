"""What is held about a person's energy use: household facts, meters, imports (summaries),
feedback reports, provider connections (status only, never tokens) and the readings."""

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import User
from energy.models import (
    FeedbackReport,
    Household,
    Meter,
    MeterImport,
    ProviderConnection,
    Reading,
)

#: Readings fetched per round trip while the CSV is written.
READING_BATCH = 5000


def _household(session: Session, user: User) -> dict | None:
    h = session.scalar(sa.select(Household).where(Household.user_id == user.id))
    if h is None:
        return None
    return {
        "people": h.people,
        "floor_area_m2": h.floor_area_m2,
        "dwelling_type": h.dwelling_type,
        "heating_type": h.heating_type,
        "district": h.district,
        "campaign_id": h.campaign_id,
        "joined_on": h.joined_on,
        "goal_percent": h.goal_percent,
        "goal_set_at": h.goal_set_at,
        "updated_at": h.updated_at,
    }


def meter_readings(session: Session, meter_id: int) -> Iterator[tuple]:
    """A meter's readings (start, end, value) in time order, in batches."""
    query = (
        sa.select(Reading.start_at, Reading.end_at, Reading.value)
        .where(Reading.meter_id == meter_id)
        .order_by(Reading.start_at)
        .execution_options(yield_per=READING_BATCH)
    )
    yield from session.execute(query)


def energy_section(session: Session, user: User) -> tuple[dict, list]:
    meters = list(
        session.scalars(sa.select(Meter).where(Meter.user_id == user.id).order_by(Meter.id))
    )
    imports = session.scalars(
        sa.select(MeterImport)
        .where(MeterImport.user_id == user.id)
        .order_by(MeterImport.created_at, MeterImport.id)
    )
    reports = session.scalars(
        sa.select(FeedbackReport)
        .where(FeedbackReport.user_id == user.id)
        .order_by(FeedbackReport.meter_id, FeedbackReport.starts_on, FeedbackReport.period)
    )
    connections = session.scalars(
        sa.select(ProviderConnection).where(ProviderConnection.user_id == user.id)
    )
    counts = dict(
        session.execute(
            sa.select(Reading.meter_id, sa.func.count())
            .where(Reading.meter_id.in_([m.id for m in meters]))
            .group_by(Reading.meter_id)
        ).all()
    )
    data = {
        "household": _household(session, user),
        "meters": [
            {
                "id": m.id,
                "commodity": m.commodity,
                "unit": m.unit,
                "timezone": m.timezone,
                "label": m.label,
                "created_at": m.created_at,
                "readings": counts.get(m.id, 0),
                "readings_file": f"readings-meter-{m.id}.csv",
            }
            for m in meters
        ],
        "imports": [
            {
                "meter_id": i.meter_id,
                "kind": i.kind,
                "filename": i.filename,
                "summary": i.summary,
                "created_at": i.created_at,
            }
            for i in imports
        ],
        "feedback_reports": [
            {
                "meter_id": r.meter_id,
                "commodity": r.commodity,
                "period": r.period,
                "starts_on": r.starts_on,
                "ends_on": r.ends_on,
                "consumption": r.consumption,
                "saving": r.saving,
                "figures": r.figures,
                "tips": r.tips,
                "computed_at": r.computed_at,
            }
            for r in reports
        ],
        # Status only: the sealed tokens and the OAuth state are secrets.
        "provider_connections": [
            {
                "meter_id": c.meter_id,
                "provider": c.provider,
                "status": c.status,
                "usage_point": c.usage_point,
                "authorised_until": c.authorised_until,
                "fetched_until": c.fetched_until,
                "created_at": c.created_at,
            }
            for c in connections
        ],
    }
    return data, [(m, meter_readings(session, m.id)) for m in meters]
