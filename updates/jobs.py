"""The scheduler's job for updates: publish those whose time has come."""

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from app.db import utcnow
from updates import publishing

log = logging.getLogger("livinglab.updates")

#: Updates published per run at most; the rest wait for the next run.
PER_RUN = 200


def publish_due(session: Session, now: datetime | None = None) -> int:
    """Publish scheduled updates whose ``publish_at`` has passed; returns how many.

    Each update is published and its audience told in a transaction of its own, so one
    failure holds up no other. Two schedulers running at once cannot both publish one update:
    the publication is a conditional UPDATE on the status, and the loser sees no row change.
    """
    now = now or utcnow()
    due = publishing.due_update_ids(session, now, PER_RUN)
    session.commit()  # the search is done; each publication is its own transaction
    published = 0
    for update_id in due:
        try:
            update = publishing.publish_if_due(session, update_id, now)
            city_id = update.city_id if update is not None else None
            session.commit()
        except Exception:
            # Logged with its trace and tried again next run; the other updates go ahead.
            session.rollback()
            log.exception("scheduled update not published", extra={"update_id": update_id})
            continue
        if update is not None:
            published += 1
            log.info(
                "update published",
                extra={"update_id": update_id, "city_id": city_id, "by": "scheduler"},
            )
    return published
