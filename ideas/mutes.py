"""Whether an author is muted in a city: they may read there, but not post, comment or flag."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import NotAllowed
from app.models import User
from i18n import _
from ideas.models import Mute


def is_muted(session: Session, user: User, city_id: int, now: datetime) -> bool:
    """True while a mute of ``user`` in the city holds (no end, or an end still to come)."""
    return (
        session.scalar(
            sa.select(Mute.id).where(
                Mute.city_id == city_id,
                Mute.user_id == user.id,
                sa.or_(Mute.until.is_(None), Mute.until > now),
            )
        )
        is not None
    )


def ensure_not_muted(session: Session, user: User, city_id: int, now: datetime) -> None:
    """Raise 403 ``muted`` while the person is muted in the city."""
    if is_muted(session, user, city_id, now):
        raise NotAllowed(
            _("A moderator has paused your posting in this city. You can still read."),
            slug="muted",
        )
