"""Residents supporting ideas within a board's budget, and taking a support back.

Decisions:
- Authors may support their own idea, as Decidim lets them: every resident of a board has the
  same budget, and an author should not have one support fewer to give than anyone else. As
  any support does, it ends the author's chance to edit the idea.
- Supporting again is not an error: the existing support is the answer and no budget is taken.
  Withdrawing a support that is not there is not an error either.
- Row locks are taken in one order everywhere (the idea, then the person's budget), so a
  support, a withdrawal and a merge that meet wait for each other instead of deadlocking.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import insert_once
from app.errors import Conflict, NotFound
from app.models import User
from app.policy import can
from i18n import _, ngettext
from ideas import boards
from ideas.models import Board, Idea, IdeaState, Phase, Support, SupportBudget
from ideas.service import visible_to

#: Half-life of a support's contribution to an idea's trend: three days, in seconds.
TREND_HALF_LIFE = 3 * 24 * 3600
#: 2 ** 1000 is close to the largest float: a board older than that (8 years) stops growing.
MAX_TREND_EXPONENT = 1000.0


def ensure_resident(user: User, board: Board) -> None:
    """Residents act on their own city's boards only; anything else reads as not found."""
    if user.city_id != board.city_id or not can(user, "board.read", board):
        raise NotFound()


def trend_weight(board: Board, moment: datetime) -> float:
    """What a support given at ``moment`` adds to the idea's trend."""
    exponent = (moment - board.created_at).total_seconds() / TREND_HALF_LIFE
    return 2.0 ** min(exponent, MAX_TREND_EXPONENT)


def _lock_idea(session: Session, idea_id: int) -> None:
    """Take the idea's row lock first (on SQLite writes are serialised already)."""
    session.execute(sa.select(Idea.id).where(Idea.id == idea_id).with_for_update())


def _support_of(session: Session, user: User, idea: Idea) -> Support | None:
    return session.scalar(
        sa.select(Support)
        .where(Support.idea_id == idea.id, Support.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def _no_supports_left(budget: int) -> Conflict:
    return Conflict(
        ngettext(
            "You have used all %(num)d support on this board.",
            "You have used all %(num)d supports on this board.",
            budget,
        ),
        slug="no-supports-left",
    )


def _take_budget(session: Session, board: Board, user: User) -> None:
    """One support from the person's budget, or 409: a conditional UPDATE on their row, whose
    lock makes their parallel supports queue, so the budget is never exceeded."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(SupportBudget)
        .values(board_id=board.id, user_id=user.id, used=0)
        .on_conflict_do_nothing()
    )
    taken = session.execute(
        sa.update(SupportBudget)
        .where(
            SupportBudget.board_id == board.id,
            SupportBudget.user_id == user.id,
            SupportBudget.used < board.support_budget,
        )
        .values(used=SupportBudget.used + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise _no_supports_left(board.support_budget)


def give_back_budget(session: Session, board_id: int, user_ids: list[int] | sa.Select) -> None:
    """One support back to each person's budget on the board (nothing for unlimited boards)."""
    session.execute(
        sa.update(SupportBudget)
        .where(
            SupportBudget.board_id == board_id,
            SupportBudget.user_id.in_(user_ids),
            SupportBudget.used > 0,
        )
        .values(used=SupportBudget.used - 1)
        .execution_options(synchronize_session=False)
    )


def _ensure_supporting(board: Board) -> None:
    if board.phase != Phase.SUPPORTING:
        raise Conflict(_("Ideas on this board cannot be supported now."), slug="not-supporting")


def support_idea(session: Session, user: User, idea: Idea, now: datetime) -> tuple[Support, bool]:
    """Support an idea; returns the support and whether this call made it (False: it existed)."""
    board = idea.board
    ensure_resident(user, board)
    existing = _support_of(session, user, idea)
    if existing is not None:
        return existing, False
    if not visible_to(idea, user):
        raise NotFound()
    if idea.state != IdeaState.PUBLISHED:
        raise Conflict(_("Only published ideas can be supported."), slug="idea-not-supportable")
    _ensure_supporting(board)
    weight = trend_weight(board, now)

    def pay() -> None:
        # The idea's row first (see the module's note), and only while it is published.
        counted = session.execute(
            sa.update(Idea)
            .where(Idea.id == idea.id, Idea.state == IdeaState.PUBLISHED)
            .values(supports_count=Idea.supports_count + 1, trend=Idea.trend + weight)
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:
            raise Conflict(_("Only published ideas can be supported."), slug="idea-not-supportable")
        if board.support_budget is not None:
            _take_budget(session, board, user)

    support = Support(
        idea_id=idea.id, board_id=board.id, user_id=user.id, weight=weight, created_at=now
    )
    try:
        # A parallel twin's support wins: the savepoint takes back our count and budget.
        return insert_once(session, support, lambda: _support_of(session, user, idea), pay)
    finally:
        session.expire(idea, ["supports_count", "trend"])


def withdraw_support(session: Session, user: User, idea: Idea, now: datetime) -> bool:
    """Take a support back while the board allows it; returns whether one was taken back."""
    board = idea.board
    ensure_resident(user, board)
    support = _support_of(session, user, idea)
    if support is None and not visible_to(idea, user):
        raise NotFound()
    if not board.supports_withdrawable:
        raise Conflict(
            _("Supports on this board are final: they cannot be withdrawn."),
            slug="supports-final",
        )
    _ensure_supporting(board)
    if support is None:
        return False
    _lock_idea(session, idea.id)
    weight = session.scalar(
        sa.delete(Support).where(Support.id == support.id).returning(Support.weight)
    )
    if weight is None:
        return False  # a parallel withdrawal took it back first
    session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(supports_count=Idea.supports_count - 1, trend=Idea.trend - weight)
        .execution_options(synchronize_session=False)
    )
    session.expire(idea, ["supports_count", "trend"])
    if board.support_budget is not None:
        give_back_budget(session, board.id, [user.id])
    return True


def supports_left(session: Session, user: User, board: Board) -> int | None:
    """How many more ideas the person may support on the board; None: no limit."""
    if board.support_budget is None:
        return None
    return boards.supports_left(board, boards.supports_used(session, user, board))


@dataclass(frozen=True)
class MySupports:
    #: Supports per resident on the board; None: no limit.
    budget: int | None
    used: int
    left: int | None
    #: The ideas I support, the earliest supported first.
    idea_ids: list[int]


def my_supports(session: Session, user: User, board: Board) -> MySupports:
    """The person's supports on a board and what is left of their budget."""
    ensure_resident(user, board)
    idea_ids = list(
        session.scalars(
            sa.select(Support.idea_id)
            .where(Support.board_id == board.id, Support.user_id == user.id)
            .order_by(Support.created_at, Support.id)
        )
    )
    if board.support_budget is None:
        used, left = len(idea_ids), None
    else:
        used = boards.supports_used(session, user, board)
        left = boards.supports_left(board, used)
    return MySupports(budget=board.support_budget, used=used, left=left, idea_ids=idea_ids)
