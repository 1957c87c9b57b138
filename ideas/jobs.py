"""The scheduler's job for idea boards: move each board to the phase its times say."""

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from app.db import utcnow
from ideas import boards

log = logging.getLogger("livinglab.ideas")


def switch_board_phases(session: Session, now: datetime | None = None) -> int:
    """Open, move to supporting and close boards whose time has come; returns how many moved.

    Running it twice, or in two schedulers at once, moves each board once: every move is a
    conditional UPDATE on the phase it was seen in.
    """
    moved = boards.switch_phases(session, now or utcnow())
    session.commit()
    if moved:
        log.info("board phases switched", extra={"boards": moved, "by": "scheduler"})
    return moved
