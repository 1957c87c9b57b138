"""Carrying out a console action: commit what a service did, or show why it was refused."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from app.console.scoping import actor
from app.errors import Conflict, Invalid
from app.extensions import db

log = logging.getLogger("livinglab.console")


def problem_message(error: Invalid | Conflict) -> str:
    """What a refused action says: its detail, else its first field message."""
    if error.detail:
        return error.detail
    return next((m for messages in (error.errors or {}).values() for m in messages), "")


@dataclass
class Outcome:
    #: True once the block's changes are committed.
    done: bool = False


@contextmanager
def committing(event: str, **details) -> Iterator[Outcome]:
    """Commit what the block did and log ``event`` with ``details`` and the actor.

    A refusal (Invalid, Conflict) raised in the block is rolled back and flashed instead, and
    ``done`` stays False, so the view sends the moderator back to where they were.
    """
    outcome = Outcome()
    try:
        yield outcome
    except (Invalid, Conflict) as error:
        db.session.rollback()
        flash(problem_message(error), "error")
        return
    db.session.commit()
    log.info(event, extra={**details, "user_id": actor().id})
    outcome.done = True
