"""Moderators' decisions on ideas and comments, the automatic hide after enough flags, and
muting authors. (The queue: ideas.queue; merging duplicates: ideas.merge.)

Every decision needs a reason, which the author is told in their language and which goes to
the audit log with who decided and when. A decision resolves the item's flags: they no longer
count, and the item leaves the queue. The item's row is locked first, so a flag arriving during
a decision is either resolved by it or counted after it, never lost.

Decisions:
- Dismissing the flags of an item that is still visible ("restore" on a published item) tells
  its author nothing: from where they stand, nothing happened.
- The automatic hide tells the author nothing either; the moderator's decision on it does.
"""

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.db import insert_once, utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import City, User
from app.policy import ensure
from i18n import _
from ideas.comments import change_comment_count
from ideas.models import Comment, Flag, Idea, IdeaState, Mute
from notifications.service import notify

MAX_REASON = 2000
Moderated = Idea | Comment
#: Ideas and comments name these two states alike.
PUBLISHED, HIDDEN = IdeaState.PUBLISHED, IdeaState.HIDDEN


def checked_reason(reason: str | None) -> str:
    """A moderator's reason, required: the author will read it."""
    text = (reason or "").replace("\r\n", "\n").strip()
    if not text:
        raise Invalid(errors={"reason": [_("Give a reason: the author will see it.")]})
    if len(text) > MAX_REASON:
        raise Invalid(
            errors={"reason": [_("Longer than the maximum length of %(max)d.", max=MAX_REASON)]}
        )
    return text


def _kind(item: Moderated) -> str:
    return "idea" if isinstance(item, Idea) else "comment"


def _idea_of(item: Moderated) -> Idea:
    return item if isinstance(item, Idea) else item.idea


def flag_target(item: Moderated) -> sa.ColumnElement[bool]:
    """The flags of an idea, or of a comment."""
    return Flag.idea_id == item.id if isinstance(item, Idea) else Flag.comment_id == item.id


def resolve_flags(session: Session, item: Moderated, now: datetime) -> int:
    """Resolve the item's open flags (a moderator decided); returns how many."""
    resolved = session.execute(
        sa.update(Flag)
        .where(flag_target(item), Flag.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    # What is left unresolved: a flag committed after our UPDATE still counts.
    unresolved = sa.select(sa.func.count(Flag.id)).where(
        flag_target(item), Flag.resolved_at.is_(None)
    )
    model = type(item)
    session.execute(
        sa.update(model)
        .where(model.id == item.id)
        .values(flags_count=unresolved.scalar_subquery())
        .execution_options(synchronize_session=False)
    )
    session.expire(item, ["flags_count"])
    return resolved


# --- hidden by flags ------------------------------------------------------------------------


def hide_pending_review(session: Session, item: Moderated, flags: int, now: datetime) -> bool:
    """Hide a published item whose flags reached its board's threshold, once; returns whether
    this call hid it. Logged without an actor: nobody decided yet."""
    model = type(item)
    hidden = session.execute(
        sa.update(model)
        .where(model.id == item.id, model.state == PUBLISHED)
        .values(state=HIDDEN, moderation_reason=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(item, ["state", "moderation_reason", "updated_at"])
    if hidden.rowcount != 1:
        return False  # hidden already, or withdrawn or deleted by its author meanwhile
    if isinstance(item, Comment):
        change_comment_count(session, item.idea, -1)
    kind = _kind(item)
    audit.record(
        session,
        None,
        f"{kind}.auto_hide",
        kind,
        item.id,
        city_id=item.city_id,
        details={"flags": flags},
        now=now,
    )
    return True


# --- decisions on ideas and comments --------------------------------------------------------


def _hide(session: Session, item: Moderated, now: datetime) -> str:
    published = item.state == PUBLISHED
    if not published and not (item.state == HIDDEN and item.moderation_reason is None):
        raise Conflict(_("Only published items, or those hidden by flags, can be hidden."))
    if published and isinstance(item, Comment):
        change_comment_count(session, item.idea, -1)
    item.state = HIDDEN
    return "hidden"


def _restore(session: Session, item: Moderated, now: datetime) -> str | None:
    hidden = item.state == HIDDEN
    if not hidden and not (item.state == PUBLISHED and item.flags_count):
        raise Conflict(_("Only hidden items, or visible ones with open flags, can be restored."))
    if not hidden:
        return None  # flags dismissed: nothing changed for the author
    if isinstance(item, Comment):
        change_comment_count(session, item.idea, +1)
    item.state = PUBLISHED
    return "restored"


def _ensure_pending(item: Moderated) -> None:
    if not isinstance(item, Idea) or item.state != IdeaState.PENDING:
        raise Conflict(_("This idea is not waiting for approval."), slug="not-pending")


def _approve(session: Session, item: Moderated, now: datetime) -> str:
    _ensure_pending(item)
    item.state = IdeaState.PUBLISHED
    item.published_at = now
    return "approved"


def _reject(session: Session, item: Moderated, now: datetime) -> str:
    _ensure_pending(item)
    item.state = IdeaState.REJECTED
    return "rejected"


#: Decision → what it does to the item; returns what the author is told happened (or None).
DECISIONS: dict[str, Callable[[Session, Moderated, datetime], str | None]] = {
    "hide": _hide,
    "restore": _restore,
    "approve": _approve,
    "reject": _reject,
}


def decide(
    session: Session,
    actor: User,
    item: Moderated,
    decision: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """A moderator's decision on an idea or a comment: ``hide`` (also one hidden by flags),
    ``restore`` (show it again, or dismiss the flags of a visible one), and for ideas waiting
    for approval ``approve`` or ``reject``."""
    if decision not in DECISIONS:
        choices = ", ".join(DECISIONS)
        raise Invalid(errors={"decision": [_("Must be one of: %(choices)s.", choices=choices)]})
    reason = checked_reason(reason)
    idea = _idea_of(item)
    ensure(actor, "idea.moderate", idea.board)
    session.refresh(item, with_for_update=True)
    now = now or utcnow()
    told = DECISIONS[decision](session, item, now)
    if told is not None:
        item.moderation_reason = reason
        item.updated_at = now
    flags = resolve_flags(session, item, now)
    kind = _kind(item)
    audit.record(
        session,
        actor,
        f"{kind}.{decision}",
        kind,
        item.id,
        city_id=item.city_id,
        reason=reason,
        details={"flags": flags},
        now=now,
    )
    if told is not None and item.author_id is not None:
        notify(
            session,
            [item.author_id],
            "idea.moderated",
            {"action": told, "subject": kind, "title": idea.title, "reason": reason},
            data={"idea_id": idea.id, "comment_id": item.id if kind == "comment" else None},
            now=now,
        )
    session.flush()


# --- muting authors -------------------------------------------------------------------------


def _mute_target(actor: User, city: City, person: User) -> None:
    ensure(actor, "idea.moderate", city)
    if person.city_id != city.id:
        raise NotFound()
    if person.id == actor.id:
        raise NotAllowed(_("You cannot mute yourself."))


def _muting(session, actor, city, person, action: str, reason: str, now, until=None) -> None:
    audit.record(
        session,
        actor,
        f"author.{action}",
        "user",
        person.id,
        city_id=city.id,
        reason=reason,
        details={"until": until.isoformat()} if until else {},
        now=now,
    )
    notify(
        session,
        [person.id],
        "idea.moderated",
        {"action": f"{action}d", "reason": reason, "city": city.name, "until": until},
        data={"city": city.slug},
        now=now,
    )
    session.flush()


def mute_author(
    session: Session,
    actor: User,
    city: City,
    person: User,
    reason: str,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Mute:
    """Stop a resident from posting, commenting and flagging in the city, until ``until`` or
    until unmuted; muting again replaces the reason and the end."""
    reason = checked_reason(reason)
    _mute_target(actor, city, person)
    now = now or utcnow()
    if until is not None and (until.tzinfo is None or until <= now):
        raise Invalid(errors={"until": [_("Choose a moment in the future.")]})
    values = {"muted_by_id": actor.id, "reason": reason, "until": until, "created_at": now}
    find = sa.select(Mute).where(Mute.city_id == city.id, Mute.user_id == person.id)
    mute = session.scalar(find)
    if mute is None:
        # Another moderator's mute made a moment ago is updated instead.
        new = Mute(city_id=city.id, user_id=person.id, **values)
        mute, _created = insert_once(session, new, lambda: session.scalar(find))
    for name, value in values.items():
        setattr(mute, name, value)
    _muting(session, actor, city, person, "mute", reason, now, until)
    return mute


def unmute_author(
    session: Session,
    actor: User,
    city: City,
    person: User,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Let a muted resident post again."""
    reason = checked_reason(reason)
    _mute_target(actor, city, person)
    removed = session.execute(
        sa.delete(Mute)
        .where(Mute.city_id == city.id, Mute.user_id == person.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not removed:
        raise Conflict(_("This person is not muted here."), slug="not-muted")
    _muting(session, actor, city, person, "unmute", reason, now or utcnow())
