"""The scheduler's part: build the copies people asked for, erase the ones not fetched."""

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs import each_alone
from privacy import service
from privacy.models import DataExport, ExportStatus

log = logging.getLogger("livinglab.privacy")

#: Copies built per run: each is one person's data, and the next run takes the rest.
PER_RUN = 20


def _build_one(session: Session, export_id: int, now: datetime) -> bool:
    try:
        return service.build(session, export_id, now)
    except Exception:
        # Marked failed with a code (never a message that could hold personal data), so the
        # person can ask again; the trace goes to the log.
        session.rollback()
        log.exception("data export failed", extra={"data_export_id": export_id})
        service.fail(session, export_id, "build-failed")
        return False


def privacy_exports(session: Session, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    expired = service.expire(session, now)
    session.commit()
    pending = list(
        session.scalars(
            sa.select(DataExport.id)
            .where(DataExport.status == ExportStatus.PENDING)
            .order_by(DataExport.requested_at, DataExport.id)
            .limit(PER_RUN)
        )
    )
    # One at a time, each in its own transaction: one failure holds up no other.
    built = each_alone(
        session, pending, _build_one, now=now, what="built", subject="data_export", logger=log
    )
    if built or expired:
        log.info("data exports", extra={"built": built, "expired": expired})
    return {"built": built, "expired": expired}
