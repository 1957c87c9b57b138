"""Residents flagging ideas and comments; enough flags hide an item until a moderator reviews it.

Each resident flags an item once (a unique constraint): flagging it again answers with the
first flag. Flags count until a moderator decides on the item (ideas.moderation), which
resolves them; a resident whose flag was resolved cannot flag that item again, so a decision
cannot be overturned by the same people flagging once more.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import insert_once
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import User
from i18n import _
from ideas.models import Comment, CommentState, Flag, FlagReason, Idea, IdeaState
from ideas.moderation import flag_target, hide_pending_review
from ideas.mutes import ensure_not_muted
from ideas.service import visible_to
from ideas.supports import ensure_resident

MAX_NOTE = 500

#: What a flag is about: an idea or a comment.
Flaggable = Idea | Comment


def _checked(reason: str, note: str | None) -> tuple[str, str | None]:
    errors = {}
    if reason not in set(FlagReason):
        choices = ", ".join(FlagReason)
        errors["reason"] = [_("Must be one of: %(choices)s.", choices=choices)]
    note = (note or "").replace("\r\n", "\n").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        errors["note"] = [_("Longer than the maximum length of %(max)d.", max=MAX_NOTE)]
    if errors:
        raise Invalid(errors=errors)
    return reason, note


def _existing(session: Session, user: User, item: Flaggable) -> Flag | None:
    return session.scalar(sa.select(Flag).where(flag_target(item), Flag.user_id == user.id))


def _ensure_flaggable(user: User, item: Flaggable, idea: Idea) -> None:
    own = item.author_id is not None and item.author_id == user.id
    hidden_comment = isinstance(item, Comment) and item.state == CommentState.HIDDEN
    if not visible_to(idea, user) or (hidden_comment and not own):
        raise NotFound()
    if own:
        if isinstance(item, Idea):
            raise NotAllowed(_("You cannot flag your own idea."), slug="own-item")
        raise NotAllowed(_("You cannot flag your own comment."), slug="own-item")
    # Published ideas and comments: ideas and comments name that state alike.
    if item.state != IdeaState.PUBLISHED:
        raise Conflict(_("This can no longer be flagged."), slug="not-flaggable")


def flag(
    session: Session, user: User, item: Flaggable, reason: str, note: str | None, now: datetime
) -> tuple[Flag, bool]:
    """Flag an idea or a comment; returns the flag and whether this call made it (False: the
    person flagged it before)."""
    reason, note = _checked(reason, note)
    idea = item if isinstance(item, Idea) else item.idea
    ensure_resident(user, idea.board)
    existing = _existing(session, user, item)
    if existing is not None:
        return existing, False
    _ensure_flaggable(user, item, idea)
    ensure_not_muted(session, user, item.city_id, now)
    made = Flag(
        city_id=item.city_id,
        idea_id=item.id if isinstance(item, Idea) else None,
        comment_id=item.id if isinstance(item, Comment) else None,
        user_id=user.id,
        reason=reason,
        note=note,
        created_at=now,
    )
    made, created = insert_once(session, made, lambda: _existing(session, user, item))
    if not created:
        return made, False  # sent twice at once: the first flag is the answer
    model = type(item)
    count = session.scalar(
        sa.update(model)
        .where(model.id == item.id)
        .values(flags_count=model.flags_count + 1)
        .returning(model.flags_count)
        .execution_options(synchronize_session=False)
    )
    session.expire(item, ["flags_count"])
    if count >= idea.board.flag_threshold:
        hide_pending_review(session, item, count, now)
    return made, True
