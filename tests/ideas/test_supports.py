"""Supporting ideas within a board's budget, and taking supports back."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Conflict, NotFound
from ideas import supports
from ideas.models import BoardStatus, IdeaState, Phase, Support, SupportBudget

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def voting(board_of):
    """A board in the supporting phase with the given settings."""

    def make(**settings):
        return board_of(phase=Phase.SUPPORTING, **settings)

    return make


def used(db_session, board, person) -> int | None:
    return db_session.scalar(
        sa.select(SupportBudget.used).where(
            SupportBudget.board_id == board.id, SupportBudget.user_id == person.id
        )
    )


def test_supports_within_the_budget_and_supporting_again_takes_nothing(
    db_session, voting, idea_on, author, resident
):
    board = voting(support_budget=2)
    first, second, third = (idea_on(board, author, title=f"Idée {i}") for i in range(3))
    support, created = supports.support_idea(db_session, resident, first, utcnow())
    assert created
    again, created_again = supports.support_idea(db_session, resident, first, utcnow())
    assert (again.id, created_again) == (support.id, False)
    assert first.supports_count == 1
    assert supports.supports_left(db_session, resident, board) == 1
    supports.support_idea(db_session, resident, second, utcnow())
    with pytest.raises(Conflict) as refused:
        supports.support_idea(db_session, resident, third, utcnow())
    assert refused.value.slug == "no-supports-left"
    assert "all 2 supports" in refused.value.detail
    assert used(db_session, board, resident) == 2
    assert third.supports_count == 0
    assert db_session.scalar(sa.select(sa.func.count(Support.id))) == 2


def test_a_budget_of_one_reads_in_the_singular(db_session, voting, idea_on, author, resident):
    board = voting(support_budget=1)
    first, second = idea_on(board, author), idea_on(board, author)
    supports.support_idea(db_session, resident, first, utcnow())
    with pytest.raises(Conflict) as refused:
        supports.support_idea(db_session, resident, second, utcnow())
    assert "all 1 support on" in refused.value.detail


def test_withdrawing_frees_the_budget_and_takes_back_the_trend(
    db_session, voting, idea_on, author, resident
):
    board = voting(support_budget=1)
    idea, other = idea_on(board, author), idea_on(board, author)
    supports.support_idea(db_session, resident, idea, utcnow())
    assert idea.trend > 0
    assert supports.withdraw_support(db_session, resident, idea, utcnow()) is True
    assert (idea.supports_count, idea.trend) == (0, pytest.approx(0.0))
    assert supports.supports_left(db_session, resident, board) == 1
    # Nothing left to take back: not an error.
    assert supports.withdraw_support(db_session, resident, idea, utcnow()) is False
    supports.support_idea(db_session, resident, other, utcnow())
    assert used(db_session, board, resident) == 1


def test_supports_are_final_where_the_board_says_so_and_after_the_phase(
    db_session, voting, idea_on, author, resident
):
    final = voting(supports_withdrawable=False)
    idea = idea_on(final, author)
    supports.support_idea(db_session, resident, idea, utcnow())
    with pytest.raises(Conflict) as refused:
        supports.withdraw_support(db_session, resident, idea, utcnow())
    assert refused.value.slug == "supports-final"
    board = voting()
    other = idea_on(board, author)
    supports.support_idea(db_session, resident, other, utcnow())
    board.phase = Phase.CLOSED
    with pytest.raises(Conflict) as over:
        supports.withdraw_support(db_session, resident, other, utcnow())
    assert over.value.slug == "not-supporting"
    assert other.supports_count == 1


@pytest.mark.parametrize("phase", [Phase.UPCOMING, Phase.COLLECTING, Phase.CLOSED])
def test_supports_only_while_the_board_takes_them(
    db_session, board_of, idea_on, author, resident, phase
):
    idea = idea_on(board_of(phase=phase), author)
    with pytest.raises(Conflict) as refused:
        supports.support_idea(db_session, resident, idea, utcnow())
    assert refused.value.slug == "not-supporting"


@pytest.mark.parametrize("state", [IdeaState.MERGED, IdeaState.WITHDRAWN])
def test_only_published_ideas_are_supported(db_session, voting, idea_on, author, resident, state):
    idea = idea_on(voting(), author, state=state)
    with pytest.raises(Conflict) as refused:
        supports.support_idea(db_session, resident, idea, utcnow())
    assert refused.value.slug == "idea-not-supportable"


@pytest.mark.parametrize("state", [IdeaState.PENDING, IdeaState.HIDDEN, IdeaState.REJECTED])
def test_ideas_under_moderation_do_not_exist_for_others(
    db_session, voting, idea_on, author, resident, state
):
    idea = idea_on(voting(), author, state=state)
    with pytest.raises(NotFound):
        supports.support_idea(db_session, resident, idea, utcnow())
    with pytest.raises(Conflict):
        supports.support_idea(db_session, author, idea, utcnow())


def test_authors_may_support_their_own_idea(db_session, voting, idea_on, author):
    idea = idea_on(voting(), author)
    _support, created = supports.support_idea(db_session, author, idea, utcnow())
    assert created and idea.supports_count == 1


def test_nobody_supports_on_another_citys_or_an_unpublished_board(
    db_session, voting, idea_on, author, resident, vienna, make_user
):
    idea = idea_on(voting(), author)
    with pytest.raises(NotFound):
        supports.support_idea(db_session, make_user(vienna), idea, utcnow())
    draft = idea_on(voting(status=BoardStatus.DRAFT), author)
    with pytest.raises(NotFound):
        supports.support_idea(db_session, resident, draft, utcnow())
    with pytest.raises(NotFound):
        supports.withdraw_support(db_session, make_user(vienna), idea, utcnow())
    assert db_session.scalar(sa.select(sa.func.count(Support.id))) == 0


def test_recent_supports_weigh_more_in_the_trend(db_session, voting, idea_on, author, resident):
    now = utcnow()
    board = voting(created_at=now - timedelta(days=6))
    early, late = idea_on(board, author), idea_on(board, author)
    supports.support_idea(db_session, resident, early, now - timedelta(days=3))
    supports.support_idea(db_session, resident, late, now)
    # Three days is one half-life: 2 ** 1 against 2 ** 2.
    assert (early.trend, late.trend) == (pytest.approx(2.0), pytest.approx(4.0))
    weights = db_session.scalars(sa.select(Support.weight).order_by(Support.id)).all()
    assert weights == [pytest.approx(2.0), pytest.approx(4.0)]


def test_my_supports_on_a_board(db_session, voting, idea_on, author, resident, make_user, lyon):
    board = voting(support_budget=3)
    first, second, _third = (idea_on(board, author) for _ in range(3))
    supports.support_idea(db_session, resident, second, utcnow())
    supports.support_idea(db_session, resident, first, utcnow() + timedelta(seconds=1))
    supports.support_idea(db_session, make_user(lyon), first, utcnow())
    mine = supports.my_supports(db_session, resident, board)
    assert (mine.budget, mine.used, mine.left) == (3, 2, 1)
    assert mine.idea_ids == [second.id, first.id]
    unlimited = voting()
    idea = idea_on(unlimited, author)
    supports.support_idea(db_session, resident, idea, utcnow())
    assert supports.my_supports(db_session, resident, unlimited) == supports.MySupports(
        budget=None, used=1, left=None, idea_ids=[idea.id]
    )
    assert supports.supports_left(db_session, resident, unlimited) is None
