"""What the console reads of a city's idea boards: boards with their counts, a board's ideas
by state, an idea's flags, candidates to merge a duplicate into, and the audit log.

Every query is scoped by the city; an id of another city's board, idea or comment is not
found. Who may read is checked here too, on the city, so a page and its queries agree: the
people who moderate boards and the staff who answer ideas read boards and ideas
(``board.manage`` or ``idea.answer``), the moderation queue is for ``idea.moderate``, and the
audit log for ``audit.read``. Changes go through the domain's services, never through here.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.audit import AuditEntry
from app.db import MAX_ID
from app.errors import NotFound
from app.models import City, User
from app.policy import can, ensure
from ideas.models import Board, Comment, Flag, Idea, IdeaState, Mute
from ideas.queue import queue

#: The states a moderator sorts a board's ideas by, in the order of the tabs.
IDEA_STATES = (
    IdeaState.PUBLISHED,
    IdeaState.PENDING,
    IdeaState.HIDDEN,
    IdeaState.REJECTED,
    IdeaState.WITHDRAWN,
    IdeaState.MERGED,
)
#: Orders of a board's ideas in the console: name → ORDER BY (the id breaks ties).
IDEA_SORTS = {
    "newest": (Idea.created_at.desc(), Idea.id.desc()),
    "oldest": (Idea.created_at, Idea.id),
    "most_supported": (Idea.supports_count.desc(), Idea.id.desc()),
    "most_commented": (Idea.comments_count.desc(), Idea.id.desc()),
    "most_flagged": (Idea.flags_count.desc(), Idea.id.desc()),
}
#: Items with open flags that a moderator still has to look at.
REVIEWABLE = (IdeaState.PUBLISHED, IdeaState.HIDDEN)
#: Candidates offered when choosing the idea a duplicate is merged into.
MERGE_CANDIDATES = 20
Row = TypeVar("Row", Board, Idea, Comment, User)


def ensure_reader(actor: User, city: City) -> None:
    """Moderators read boards to run them, staff to answer ideas; others are refused."""
    if not can(actor, "board.manage", city):
        ensure(actor, "idea.answer", city)


def _in_range(item_id: int) -> bool:
    # Larger ids cannot exist, and PostgreSQL refuses to compare them with an integer column.
    return 0 < item_id <= MAX_ID


def _of_city(session: Session, model: type[Row], item_id: int, city_id: int, **same) -> Row:
    """The row ``item_id`` of ``model`` if it belongs to the city (and matches ``same``);
    anything else, including another city's row, is not found."""
    row = session.get(model, item_id) if _in_range(item_id) else None
    if row is None or row.city_id != city_id:
        raise NotFound()
    if any(getattr(row, name) != value for name, value in same.items()):
        raise NotFound()
    return row


# --- boards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    board: Board
    #: Ideas residents see.
    ideas: int
    supports: int
    #: Ideas awaiting approval, and ideas and comments with open flags.
    waiting: int


def _waiting_ideas() -> sa.ColumnElement:
    flagged = sa.and_(Idea.flags_count > 0, Idea.state.in_(REVIEWABLE))
    return sa.or_(Idea.state == IdeaState.PENDING, flagged)


def boards_of_city(session: Session, actor: User, city: City) -> list[BoardRow]:
    """The city's boards, newest first, with how many ideas, supports and items waiting."""
    ensure_reader(actor, city)
    boards = session.scalars(
        sa.select(Board)
        .where(Board.city_id == city.id)
        .options(selectinload(Board.campaign))
        .order_by(Board.created_at.desc(), Board.id.desc())
    ).all()
    idea_counts = {
        board_id: (ideas, supports, waiting)
        for board_id, ideas, supports, waiting in session.execute(
            sa.select(
                Idea.board_id,
                sa.func.sum(sa.case((Idea.state == IdeaState.PUBLISHED, 1), else_=0)),
                sa.func.coalesce(sa.func.sum(Idea.supports_count), 0),
                sa.func.sum(sa.case((_waiting_ideas(), 1), else_=0)),
            )
            .where(Idea.city_id == city.id)
            .group_by(Idea.board_id)
        )
    }
    flagged_comments = dict(
        session.execute(
            sa.select(Idea.board_id, sa.func.count(Comment.id))
            .join(Idea, Idea.id == Comment.idea_id)
            .where(
                Comment.city_id == city.id,
                Comment.flags_count > 0,
                Comment.state.in_(REVIEWABLE),
            )
            .group_by(Idea.board_id)
        ).all()
    )
    rows = []
    for board in boards:
        ideas, supports, waiting = idea_counts.get(board.id, (0, 0, 0))
        rows.append(
            BoardRow(
                board, int(ideas), int(supports), int(waiting) + flagged_comments.get(board.id, 0)
            )
        )
    return rows


def board_of_city(session: Session, actor: User, city: City, board_id: int) -> Board:
    """A board of the city; another city's board, or none, is not found."""
    ensure_reader(actor, city)
    return _of_city(session, Board, board_id, city.id)


# --- ideas of a board -----------------------------------------------------------------------


def _title_matches(search: str) -> sa.ColumnElement[bool]:
    """Ideas whose title contains ``search``, or whose number it is ("42" or "#42")."""
    condition = Idea.title.icontains(search, autoescape=True)
    number = search.removeprefix("#")
    if number.isdigit() and _in_range(int(number)):
        condition = sa.or_(condition, Idea.id == int(number))
    return condition


def board_ideas(board: Board, state: str, sort: str, search: str = "") -> sa.Select:
    """Query for the board's ideas in one state, in one of ``IDEA_SORTS``, maybe searched."""
    query = (
        sa.select(Idea)
        .where(Idea.board_id == board.id, Idea.city_id == board.city_id, Idea.state == state)
        .options(selectinload(Idea.author))
    )
    if search:
        query = query.where(_title_matches(search))
    return query.order_by(*IDEA_SORTS[sort])


def state_counts(session: Session, board: Board, search: str = "") -> Counter:
    """How many of the board's ideas are in each state (among those matching ``search``)."""
    query = sa.select(Idea.state, sa.func.count()).where(
        Idea.board_id == board.id, Idea.city_id == board.city_id
    )
    if search:
        query = query.where(_title_matches(search))
    return Counter(dict(session.execute(query.group_by(Idea.state)).all()))


# --- one idea -------------------------------------------------------------------------------


def idea_of_city(session: Session, actor: User, city: City, idea_id: int) -> Idea:
    """An idea of the city, in whatever state; another city's idea, or none, is not found."""
    ensure_reader(actor, city)
    return _of_city(session, Idea, idea_id, city.id)


def comment_of_city(session: Session, city: City, comment_id: int) -> Comment:
    """A comment of the city (the caller checks who acts on it)."""
    return _of_city(session, Comment, comment_id, city.id)


def idea_on_board(session: Session, board: Board, idea_id: int) -> Idea:
    return _of_city(session, Idea, idea_id, board.city_id, board_id=board.id)


def person_of_city(session: Session, city: City, user_id: int) -> User:
    """A resident of the city (authors are muted in their own city)."""
    return _of_city(session, User, user_id, city.id)


@dataclass(frozen=True)
class FlagView:
    reason: str
    note: str | None
    created_at: datetime
    resolved_at: datetime | None


def flags_of(session: Session, item: Idea | Comment) -> list[FlagView]:
    """Every flag of an idea or a comment, open ones first, the latest first.

    Who flagged is not shown: moderators judge the item, not the people who reported it.
    """
    target = Flag.idea_id if isinstance(item, Idea) else Flag.comment_id
    rows = session.execute(
        sa.select(Flag.reason, Flag.note, Flag.created_at, Flag.resolved_at)
        .where(target == item.id, Flag.city_id == item.city_id)
        .order_by(Flag.resolved_at.is_not(None), Flag.created_at.desc(), Flag.id.desc())
    )
    return [FlagView(*row) for row in rows]


def open_flag_reasons(session: Session, comments: list[Comment]) -> dict[int, Counter]:
    """Per comment, its open flags counted by reason (one query for a thread)."""
    ids = [c.id for c in comments if c.flags_count]
    found: dict[int, Counter] = {}
    if not ids:
        return found
    rows = session.execute(
        sa.select(Flag.comment_id, Flag.reason, sa.func.count())
        .where(Flag.comment_id.in_(ids), Flag.resolved_at.is_(None))
        .group_by(Flag.comment_id, Flag.reason)
    )
    for comment_id, reason, count in rows:
        found.setdefault(comment_id, Counter())[reason] = count
    return found


def people_by_id(session: Session, ids: set[int | None]) -> dict[int, User]:
    """Accounts by id (deleted ones are missing), e.g. the staff who answered an idea."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def active_mutes(session: Session, city: City, user_ids: set[int], now: datetime) -> dict:
    """The mutes holding now for these people in the city, by person."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    mutes = session.scalars(
        sa.select(Mute).where(
            Mute.city_id == city.id,
            Mute.user_id.in_(ids),
            sa.or_(Mute.until.is_(None), Mute.until > now),
        )
    )
    return {mute.user_id: mute for mute in mutes}


def merge_candidates(session: Session, idea: Idea, search: str = "") -> list[Idea]:
    """Published ideas of the same board a duplicate could be merged into, most supported
    first; ``search`` finds them by title or number."""
    query = sa.select(Idea).where(
        Idea.board_id == idea.board_id,
        Idea.city_id == idea.city_id,
        Idea.state == IdeaState.PUBLISHED,
        Idea.id != idea.id,
    )
    if search:
        query = query.where(_title_matches(search))
    query = query.order_by(Idea.supports_count.desc(), Idea.id.desc()).limit(MERGE_CANDIDATES)
    return list(session.scalars(query.options(selectinload(Idea.author))))


# --- the moderation queue -------------------------------------------------------------------


def queue_counts(session: Session, actor: User, city: City) -> Counter:
    """Items waiting for a moderator, by why they wait ("flagged", "pending")."""
    rows = queue(actor, city).subquery()
    return Counter(
        dict(session.execute(sa.select(rows.c.why, sa.func.count()).group_by(rows.c.why)).all())
    )


# --- the audit log --------------------------------------------------------------------------


def audit_entries(
    actor: User, city: City, action: str | None = None, person_id: int | None = None
) -> sa.Select:
    """Query for the city's audit log, the latest first, maybe of one action or person."""
    ensure(actor, "audit.read", city)
    query = sa.select(AuditEntry).where(AuditEntry.city_id == city.id)
    if action:
        query = query.where(AuditEntry.action == action)
    if person_id is not None:
        query = query.where(AuditEntry.actor_id == person_id)
    query = query.options(selectinload(AuditEntry.actor))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def audit_filters(session: Session, actor: User, city: City) -> tuple[list[str], list[User]]:
    """The actions and the people the city's audit log holds, to filter it by."""
    ensure(actor, "audit.read", city)
    actions = session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.city_id == city.id)
        .distinct()
        .order_by(AuditEntry.action)
    ).all()
    people = session.scalars(
        sa.select(User)
        .where(
            User.id.in_(
                sa.select(AuditEntry.actor_id).where(
                    AuditEntry.city_id == city.id, AuditEntry.actor_id.is_not(None)
                )
            )
        )
        .order_by(User.display_name, User.email)
    ).all()
    return list(actions), list(people)


def audit_subjects(session: Session, city: City, entries: list[AuditEntry]) -> dict:
    """What a page of entries was done to, by (subject type, id): ideas, comments, boards and
    people of the city; a subject deleted since is missing."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.subject_id is not None:
            wanted.setdefault(entry.subject_type, set()).add(entry.subject_id)
    models = {"idea": Idea, "comment": Comment, "board": Board, "user": User}
    found: dict[tuple[str, int], object] = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is None:
            continue
        for row in session.scalars(sa.select(model).where(model.id.in_(ids))):
            if row.city_id == city.id:
                found[(kind, row.id)] = row
    return found
