"""The shell's scheduled jobs: deliver the outbox; running things one at a time.

What has passed its retention period is removed by privacy/retention.py.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from notifications.delivery import deliver_due

log = logging.getLogger("livinglab.jobs")

#: A delivery run stops after this many, so other jobs get their turn.
DELIVERIES_PER_RUN = 5000


def each_alone(
    session: Session,
    ids: list[int],
    step: Callable[[Session, int, datetime], bool],
    *,
    now: datetime,
    what: str,
    subject: str,
    logger: logging.Logger,
) -> int:
    """Run ``step`` for each id in a transaction of its own; returns how many it changed.

    One failure holds up no other: it is logged with its trace and tried again next run.
    ``subject`` names the thing in log lines (``"survey"`` logs ``survey_id``).
    """
    done = 0
    for each_id in ids:
        try:
            changed = step(session, each_id, now)
            session.commit()
        except Exception:
            session.rollback()
            logger.exception(f"{subject} not {what}", extra={f"{subject}_id": each_id})
            continue
        if changed:
            done += 1
            logger.info(f"{subject} {what}", extra={f"{subject}_id": each_id, "by": "scheduler"})
    return done


def deliver_outbox(session: Session, now: datetime | None = None) -> int:
    delivered = deliver_due(session, now, limit=DELIVERIES_PER_RUN)
    if delivered:
        log.info("outbox delivered", extra={"delivered": delivered})
    return delivered
