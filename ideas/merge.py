"""Merging a duplicate idea into another: its supporters become the other's, once each.

A resident who supported only the duplicate now supports the target: the support row moves
(its weight and time with it), and their budget is unchanged. A resident who supported both
keeps the target's support only, and gets the other one back in their budget. Comments stay on
the duplicate, which points to the target from then on. Both ideas are locked first (in id
order, as every support and withdrawal locks the idea before the budget), so supports given or
taken back during a merge are counted before it or after it.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app import audit
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.models import User
from app.policy import ensure
from i18n import _
from ideas.models import Idea, IdeaState, Support
from ideas.moderation import checked_reason, resolve_flags
from ideas.supports import give_back_budget
from notifications.service import notify

#: States of an idea that may be merged into another (pending: a duplicate awaiting approval).
MERGEABLE = frozenset({IdeaState.PUBLISHED, IdeaState.HIDDEN, IdeaState.PENDING})


@dataclass(frozen=True)
class Merged:
    #: Supports that now count for the target (their residents did not support it yet).
    moved: int
    #: Supports dropped because their residents supported both; each gave a budget back.
    freed: int


def _recount(session: Session, idea: Idea) -> None:
    supports = sa.select(Support.weight).where(Support.idea_id == idea.id).subquery()
    session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(
            supports_count=sa.select(sa.func.count()).select_from(supports).scalar_subquery(),
            trend=sa.select(sa.func.coalesce(sa.func.sum(supports.c.weight), 0.0))
            .select_from(supports)
            .scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(idea, ["supports_count", "trend"])


def _move_supports(session: Session, source: Idea, target: Idea) -> Merged:
    on_target = aliased(Support)
    both = sa.select(on_target.user_id).where(on_target.idea_id == target.id)
    duplicates = (Support.idea_id == source.id, Support.user_id.in_(both))
    if source.board.support_budget is not None:
        give_back_budget(session, source.board_id, sa.select(Support.user_id).where(*duplicates))
    freed = session.execute(
        sa.delete(Support).where(*duplicates).execution_options(synchronize_session="fetch")
    ).rowcount
    moved = session.execute(
        sa.update(Support)
        .where(Support.idea_id == source.id)
        .values(idea_id=target.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    _recount(session, source)
    _recount(session, target)
    return Merged(moved=moved, freed=freed)


def merge_ideas(
    session: Session,
    actor: User,
    source: Idea,
    target: Idea,
    reason: str,
    now: datetime | None = None,
) -> Merged:
    """Merge the duplicate ``source`` into ``target`` of the same board."""
    now = now or utcnow()
    reason = checked_reason(reason)
    ensure(actor, "idea.moderate", source.board)
    if target.id == source.id:
        raise Invalid(errors={"target": [_("An idea cannot be merged into itself.")]})
    if target.board_id != source.board_id:
        raise Invalid(errors={"target": [_("Choose an idea of the same board.")]})
    for idea in sorted((source, target), key=lambda i: i.id):
        session.refresh(idea, with_for_update=True)
    if source.state not in MERGEABLE:
        raise Conflict(_("This idea can no longer be merged."), slug="not-mergeable")
    if target.state != IdeaState.PUBLISHED:
        raise Conflict(_("Ideas can only be merged into a published idea."), slug="not-mergeable")
    merged = _move_supports(session, source, target)
    source.state = IdeaState.MERGED
    source.merged_into_id = target.id
    source.moderation_reason = reason
    source.updated_at = now
    resolve_flags(session, source, now)
    audit.record(
        session,
        actor,
        "idea.merge",
        "idea",
        source.id,
        city_id=source.city_id,
        reason=reason,
        details={"into": target.id, "moved": merged.moved, "freed": merged.freed},
        now=now,
    )
    if source.author_id is not None:
        notify(
            session,
            [source.author_id],
            "idea.merged",
            {"title": source.title, "target_title": target.title, "reason": reason},
            data={"idea_id": source.id, "merged_into_id": target.id},
            now=now,
        )
    session.flush()
    return merged
