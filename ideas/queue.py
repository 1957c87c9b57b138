"""The moderation queue of a city: flagged ideas and comments, and ideas awaiting approval.

``queue`` is a query the console pages through, the longest waiting first; ``queue_items``
loads what a moderator needs to decide on a page of it: the board, the author, the text, and
the open flags with their reasons and notes. Decisions are in ideas.moderation.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.errors import Invalid
from app.models import City, User
from app.policy import ensure
from i18n import _
from ideas.models import Board, Comment, Flag, Idea, IdeaState

#: Flag notes shown with each item, the latest first.
NOTES_SHOWN = 5
#: Why an item waits: flagged by residents, or awaiting approval.
WHY = ("flagged", "pending")


def _flagged(city: City, kind: str, column, model) -> sa.Select:
    """Visible or hidden items of the city with unresolved flags."""
    open_flags = (
        sa.select(
            column.label("item_id"),
            sa.func.count(Flag.id).label("flags"),
            sa.func.min(Flag.created_at).label("since"),
        )
        .where(Flag.city_id == city.id, Flag.resolved_at.is_(None), column.is_not(None))
        .group_by(column)
        .subquery()
    )
    return (
        sa.select(
            sa.literal(kind, sa.String).label("kind"),
            sa.literal("flagged", sa.String).label("why"),
            open_flags.c.item_id,
            open_flags.c.flags,
            open_flags.c.since,
        )
        .join(model, model.id == open_flags.c.item_id)
        .where(model.state.in_([IdeaState.PUBLISHED, IdeaState.HIDDEN]))
    )


def queue(actor: User, city: City, why: str | None = None) -> sa.Select:
    """The city's items waiting for a moderator, the longest waiting first: rows of (kind
    "idea"/"comment", why "flagged"/"pending", item_id, flags, since). ``why`` keeps one sort;
    page through it, then load the rows' context with ``queue_items``."""
    ensure(actor, "idea.moderate", city)
    if why is not None and why not in WHY:
        raise Invalid(errors={"why": [_("Must be one of: %(choices)s.", choices=", ".join(WHY))]})
    parts = []
    if why in (None, "flagged"):
        parts.append(_flagged(city, "idea", Flag.idea_id, Idea))
        parts.append(_flagged(city, "comment", Flag.comment_id, Comment))
    if why in (None, "pending"):
        parts.append(
            sa.select(
                sa.literal("idea", sa.String).label("kind"),
                sa.literal("pending", sa.String).label("why"),
                Idea.id.label("item_id"),
                sa.literal(0, sa.Integer).label("flags"),
                Idea.created_at.label("since"),
            ).where(Idea.city_id == city.id, Idea.state == IdeaState.PENDING)
        )
    if not parts:
        raise Invalid(
            errors={"why": [_("Must be one of: %(choices)s.", choices="flagged, pending")]}
        )
    rows = sa.union_all(*parts).subquery()
    return sa.select(rows).order_by(rows.c.since, rows.c.kind, rows.c.item_id)


@dataclass(frozen=True)
class QueueItem:
    kind: str
    why: str
    idea: Idea
    #: The comment flagged, when the item is a comment (``idea`` is the idea it is on).
    comment: Comment | None
    board: Board
    author: User | None
    #: What residents see: the idea's title and body, or the comment's body (plain text).
    text: str
    #: Unresolved flags per reason, e.g. {"spam": 2}.
    reasons: dict[str, int]
    #: The latest notes flaggers left.
    notes: list[str]
    since: datetime


def _by_id(session: Session, model, ids: set[int], *options) -> dict:
    return {
        row.id: row
        for row in session.scalars(sa.select(model).where(model.id.in_(ids)).options(*options))
    }


def queue_items(session: Session, rows) -> list[QueueItem]:
    """The context of a page of ``queue`` rows: board, author, text and flags."""
    rows = list(rows)
    idea_ids = {r.item_id for r in rows if r.kind == "idea"}
    comment_ids = {r.item_id for r in rows if r.kind == "comment"}
    comments = _by_id(
        session, Comment, comment_ids, selectinload(Comment.author), selectinload(Comment.idea)
    )
    idea_ids |= {c.idea_id for c in comments.values()}
    ideas = _by_id(session, Idea, idea_ids, selectinload(Idea.board), selectinload(Idea.author))
    reasons: dict[tuple[str, int], dict[str, int]] = {}
    notes: dict[tuple[str, int], list[str]] = {}
    flags = session.execute(
        sa.select(Flag.idea_id, Flag.comment_id, Flag.reason, Flag.note)
        .where(
            Flag.resolved_at.is_(None),
            sa.or_(Flag.idea_id.in_(idea_ids), Flag.comment_id.in_(comment_ids)),
        )
        .order_by(Flag.created_at.desc(), Flag.id.desc())
    )
    for idea_id, comment_id, reason, note in flags:
        key = ("idea", idea_id) if comment_id is None else ("comment", comment_id)
        counted = reasons.setdefault(key, {})
        counted[reason] = counted.get(reason, 0) + 1
        if note and len(notes.setdefault(key, [])) < NOTES_SHOWN:
            notes[key].append(note)
    items = []
    for row in rows:
        key = (row.kind, row.item_id)
        comment = comments.get(row.item_id) if row.kind == "comment" else None
        idea = ideas.get(comment.idea_id if comment else row.item_id)
        if idea is None:
            continue  # deleted since the page was read
        items.append(
            QueueItem(
                kind=row.kind,
                why=row.why,
                idea=idea,
                comment=comment,
                board=idea.board,
                author=comment.author if comment else idea.author,
                text=comment.body if comment else f"{idea.title}\n\n{idea.body}",
                reasons=reasons.get(key, {}),
                notes=notes.get(key, []),
                since=row.since,
            )
        )
    return items
