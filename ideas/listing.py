"""Lists of a board's ideas for a resident: sorts, filters, cursor pages, and their version.

Sorting reads a column the indexes keep in order (``ix_ideas_newest``, ``ix_ideas_supported``,
``ix_ideas_trending``: board, state, key, id), so a page of the most supported of 10,000 ideas
is an index range, not a count of 200,000 supports. The random order is a hash of the idea's
id salted per resident and board, computed in SQL, so it is stable across pages and visits
(each resident has their own order: no idea is always first, as Decidim and CONSUL offer).

A resident's own pending, hidden and rejected ideas are listed to them too, with the published
ones. They come from a second small query (by author) merged by the same key, which keeps the
query of published ideas a plain index range.
"""

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.models import User
from ideas.models import Board, Idea, IdeaState, Support
from ideas.service import AUTHOR_STATES

SORTS = ("newest", "most_supported", "trending", "random")
#: The smallest prime above 2^32: (id * m + s) mod P reorders ids without collisions.
PRIME = 4_294_967_311
MAX_MULTIPLIER = 2**31 - 1


@dataclass(frozen=True)
class Page:
    ideas: list[Idea]
    #: (sort key, id) of the last idea when more follow, else None.
    next_after: tuple | None
    #: Ids of the ideas on this page the resident supports.
    supported: set[int]


def shuffle(board: Board, user: User) -> tuple[int, int]:
    """The multiplier and offset of one resident's random order on one board.

    Derived from a digest, not Python's ``hash``, so every web process orders alike. Ids below
    2^31 times a multiplier below 2^31 stay within 64-bit integers on SQLite and PostgreSQL.
    """
    digest = hashlib.blake2b(f"{board.shuffle_seed}:{user.id}".encode(), digest_size=8).digest()
    multiplier = int.from_bytes(digest[:4], "big") % MAX_MULTIPLIER + 1
    offset = int.from_bytes(digest[4:], "big") % PRIME
    return multiplier, offset


def random_key(board: Board, user: User) -> sa.ColumnElement:
    multiplier, offset = shuffle(board, user)
    big = sa.BigInteger()
    return (
        sa.cast(Idea.id, big) * sa.literal(multiplier, big) + sa.literal(offset, big)
    ) % sa.literal(PRIME, big)


def _keys(sort: str, board: Board, user: User) -> tuple[sa.ColumnElement, sa.ColumnElement, bool]:
    """The key of published ideas, of the resident's unpublished ones, and whether it descends."""
    if sort == "newest":
        # Ideas waiting for approval were never published: they sort by when they were posted.
        return Idea.published_at, sa.func.coalesce(Idea.published_at, Idea.created_at), True
    if sort == "most_supported":
        return Idea.supports_count, Idea.supports_count, True
    if sort == "trending":
        return Idea.trend, Idea.trend, True
    if sort == "random":
        key = random_key(board, user)
        return key, key, False
    raise ValueError(f"unknown sort {sort!r}")


def _filters(
    board: Board,
    user: User,
    category: str | None,
    status: str | None,
    mine: bool,
    supported: bool,
) -> list:
    filters = [Idea.board_id == board.id, Idea.city_id == board.city_id]
    if category is not None:
        filters.append(Idea.category == category)
    if status is not None:
        filters.append(Idea.official_status == status)
    if mine:
        filters.append(Idea.author_id == user.id)
    if supported:
        filters.append(
            Idea.id.in_(
                sa.select(Support.idea_id).where(
                    Support.board_id == board.id, Support.user_id == user.id
                )
            )
        )
    return filters


def list_ideas(
    session: Session,
    user: User,
    board: Board,
    *,
    sort: str = "newest",
    category: str | None = None,
    status: str | None = None,
    mine: bool = False,
    supported: bool = False,
    after: tuple | None = None,
    limit: int = 20,
) -> Page:
    """One page of the board's ideas as the resident sees them (the board is already checked).

    ``after`` is the (sort key, id) of the last idea of the previous page.
    """
    public_key, own_key, descending = _keys(sort, board, user)
    filters = _filters(board, user, category, status, mine, supported)
    branches = (
        (public_key, Idea.state == IdeaState.PUBLISHED),
        (own_key, sa.and_(Idea.author_id == user.id, Idea.state.in_(AUTHOR_STATES))),
    )
    rows = []
    for key, condition in branches:
        query = sa.select(Idea, key.label("sort_key")).where(*filters, condition)
        if after is not None:
            position, last = sa.tuple_(key, Idea.id), sa.tuple_(*after)
            query = query.where(position < last if descending else position > last)
        order = (key.desc(), Idea.id.desc()) if descending else (key, Idea.id)
        query = query.order_by(*order).limit(limit + 1).options(selectinload(Idea.author))
        rows.extend(session.execute(query).all())
    rows.sort(key=lambda row: (row.sort_key, row.Idea.id), reverse=descending)
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = (rows[-1].sort_key, rows[-1].Idea.id)
    ideas = [row.Idea for row in rows]
    return Page(ideas, next_after, supported_among(session, user, [i.id for i in ideas]))


def supported_among(session: Session, user: User, idea_ids: list[int]) -> set[int]:
    """Which of these ideas the resident supports (one query for a whole page)."""
    if not idea_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Support.idea_id).where(
                Support.user_id == user.id, Support.idea_id.in_(idea_ids)
            )
        )
    )


def listing_version(session: Session, user: User, board: Board) -> tuple[str, ...]:
    """What a resident's lists of the board depend on; it changes whenever they would.

    Every change to an idea (posting, editing, moderating, a support or comment counted)
    moves its ``updated_at``, and the count catches a new idea whatever its web process's
    clock says; both come from ``ix_ideas_changes`` alone. The resident's own supports decide
    ``supported_by_me``.
    """
    mine = (Support.board_id == board.id, Support.user_id == user.id)
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.max(Idea.updated_at),
            sa.select(sa.func.count(Support.id)).where(*mine).scalar_subquery(),
            sa.select(sa.func.max(Support.created_at)).where(*mine).scalar_subquery(),
        ).where(Idea.board_id == board.id)
    ).one()
    return tuple(str(value) for value in row)
