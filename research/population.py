"""Who and what a research export may hold: the city's participants who consented to research
use, and the records of a request's time window.

Consent is read from its records as they stand (app/consent.py): a person is in the
population when their latest research consent record is one still given, not withdrawn.
What deleted accounts left for research (survey responses marked ``kept_for_research_at``,
``KeptMeterDay`` series) carries no person at all; each dataset adds it on its own.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.consent_models import Consent, Purpose
from app.errors import NotFound
from app.models import User
from campaigns.models import Campaign
from research.models import ResearchExport


def campaign_of(session: Session, export: ResearchExport) -> Campaign:
    """The campaign an export is of, which must be of the export's city (else NotFound)."""
    campaign = session.get(Campaign, export.subject_id) if export.subject_id is not None else None
    if campaign is None or campaign.city_id != export.city_id:
        raise NotFound()
    return campaign


def research_consenters(city_id: int) -> sa.Select:
    """``SELECT users.id`` of the city's people whose latest consent record for research use
    is given and not withdrawn; meant as a subquery (``column.in_(research_consenters(...))``).

    One statement, no loop over people: a record counts when no record of the same person
    and purpose is newer than it (by the time it was given, then by id).
    """
    given = aliased(Consent)
    newer = aliased(Consent)
    latest_given = (
        sa.select(given.id)
        .where(
            given.user_id == User.id,
            given.purpose == Purpose.RESEARCH.value,
            given.withdrawn_at.is_(None),
            ~sa.select(newer.id)
            .where(
                newer.user_id == given.user_id,
                newer.purpose == Purpose.RESEARCH.value,
                sa.or_(
                    newer.given_at > given.given_at,
                    sa.and_(newer.given_at == given.given_at, newer.id > given.id),
                ),
            )
            .exists(),
        )
        .exists()
    )
    return sa.select(User.id).where(User.city_id == city_id, latest_given)


def local_bounds(
    zone: ZoneInfo, starts_on: date | None, ends_on: date | None
) -> tuple[datetime | None, datetime | None]:
    """The UTC instants of a window of local days: the first day's midnight (inclusive) and
    the midnight after the last day (exclusive); None where the window is open."""
    lower = upper = None
    if starts_on is not None:
        lower = datetime.combine(starts_on, time(0), zone).astimezone(UTC)
    if ends_on is not None:
        upper = datetime.combine(ends_on + timedelta(days=1), time(0), zone).astimezone(UTC)
    return lower, upper


def within(column: sa.ColumnElement, lower: datetime | None, upper: datetime | None) -> list:
    """Conditions keeping ``column`` (a UTC time) in ``[lower, upper)``."""
    conditions = []
    if lower is not None:
        conditions.append(column >= lower)
    if upper is not None:
        conditions.append(column < upper)
    return conditions


def consent_notes(considered: int, included: int, **more: int) -> dict[str, int]:
    """The counts every table's notes give: records considered, included, and left out for
    want of research consent (or for ``more`` reasons, counted apart)."""
    left_out = considered - included - sum(more.values())
    return {
        "records_considered": considered,
        "records_included": included,
        "records_without_consent": max(left_out, 0),
        **{f"records_left_out_{reason}": count for reason, count in more.items()},
    }
