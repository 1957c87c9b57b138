"""Merging a duplicate idea: supporters carried over once each, budgets intact, B points to A."""

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from ideas import supports
from ideas.merge import Merged, merge_ideas
from ideas.models import Flag, IdeaState, Phase, Support, SupportBudget
from notifications.models import Notification

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def people(lyon, make_user):
    return [make_user(lyon) for _ in range(4)]


def assert_budgets_hold(db_session, board):
    """Each resident's used budget is the number of supports they have on the board."""
    used = dict(
        db_session.execute(
            sa.select(SupportBudget.user_id, SupportBudget.used).where(
                SupportBudget.board_id == board.id
            )
        ).all()
    )
    counted = dict(
        db_session.execute(
            sa.select(Support.user_id, sa.func.count(Support.id))
            .where(Support.board_id == board.id)
            .group_by(Support.user_id)
        ).all()
    )
    assert {user: n for user, n in used.items() if n} == counted
    assert all(n <= board.support_budget for n in used.values())


def supporters(db_session, idea) -> set[int]:
    return set(db_session.scalars(sa.select(Support.user_id).where(Support.idea_id == idea.id)))


def support(db_session, people, *ideas):
    for person, idea in zip(people, ideas, strict=True):
        supports.support_idea(db_session, person, idea, utcnow())


def test_supporters_of_the_duplicate_count_once_for_the_idea_kept(
    db_session, board_of, idea_on, comment_on, author, people, moderator
):
    board = board_of(phase=Phase.SUPPORTING, support_budget=2)
    kept = idea_on(board, author, title="Un potager partagé")
    duplicate = idea_on(board, author, title="Des jardins partagés")
    only_duplicate, both, only_kept, bystander = people
    support(db_session, [only_duplicate, both, both, only_kept], duplicate, duplicate, kept, kept)
    supports.support_idea(db_session, bystander, idea_on(board, author), utcnow())
    trend = kept.trend + duplicate.trend
    dropped = db_session.scalar(
        sa.select(Support.weight).where(Support.idea_id == duplicate.id, Support.user_id == both.id)
    )
    comment = comment_on(duplicate, both)

    merged = merge_ideas(db_session, moderator, duplicate, kept, "Doublon")

    assert merged == Merged(moved=1, freed=1)
    assert (duplicate.state, duplicate.merged_into_id, duplicate.moderation_reason) == (
        IdeaState.MERGED,
        kept.id,
        "Doublon",
    )
    assert supporters(db_session, kept) == {only_duplicate.id, both.id, only_kept.id}
    assert supporters(db_session, duplicate) == set()
    assert (kept.supports_count, duplicate.supports_count) == (3, 0)
    # The support given twice is dropped; the one moved brings its weight.
    assert kept.trend == pytest.approx(trend - dropped)
    assert duplicate.trend == pytest.approx(0.0)
    assert_budgets_hold(db_session, board)
    assert supports.supports_left(db_session, both, board) == 1
    assert supports.supports_left(db_session, only_duplicate, board) == 1
    # Comments stay on the duplicate.
    db_session.refresh(comment)
    assert comment.idea_id == duplicate.id
    # The budget given back can be spent again.
    supports.support_idea(db_session, both, idea_on(board, author), utcnow())
    assert_budgets_hold(db_session, board)
    entry = db_session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.subject_id, entry.actor_id, entry.reason) == (
        "idea.merge",
        duplicate.id,
        moderator.id,
        "Doublon",
    )
    assert entry.details == {"into": kept.id, "moved": 1, "freed": 1}
    (note,) = db_session.scalars(
        sa.select(Notification).where(Notification.kind == "idea.merged")
    ).all()
    assert note.user_id == author.id
    assert "Des jardins partagés" in note.subject and "Un potager partagé" in note.subject
    assert "Doublon" in note.body_text


def test_merging_resolves_the_duplicates_flags_and_works_on_unlimited_boards(
    db_session, board_of, idea_on, author, people, moderator
):
    board = board_of(phase=Phase.SUPPORTING)
    kept, duplicate = idea_on(board, author), idea_on(board, author)
    support(db_session, people[:3], duplicate, duplicate, kept)
    supports.support_idea(db_session, people[2], duplicate, utcnow())
    db_session.add(
        Flag(city_id=board.city_id, idea_id=duplicate.id, user_id=people[3].id, reason="duplicate")
    )
    duplicate.flags_count = 1
    db_session.flush()
    assert merge_ideas(db_session, moderator, duplicate, kept, "Doublon") == Merged(2, 1)
    assert kept.supports_count == 3
    assert duplicate.flags_count == 0
    assert db_session.scalar(sa.select(Flag.resolved_at)) is not None
    assert db_session.scalar(sa.select(sa.func.count()).select_from(SupportBudget)) == 0


def test_merges_that_make_no_sense_are_refused(
    db_session, board_of, idea_on, author, moderator, resident, vienna, make_user
):
    board = board_of(phase=Phase.SUPPORTING)
    kept, duplicate = idea_on(board, author), idea_on(board, author)
    elsewhere = idea_on(board_of(), author)
    with pytest.raises(Invalid):
        merge_ideas(db_session, moderator, kept, kept, "Doublon")
    with pytest.raises(Invalid) as other_board:
        merge_ideas(db_session, moderator, duplicate, elsewhere, "Doublon")
    assert "target" in other_board.value.errors
    withdrawn = idea_on(board, author, state=IdeaState.WITHDRAWN)
    with pytest.raises(Conflict):
        merge_ideas(db_session, moderator, duplicate, withdrawn, "Doublon")
    with pytest.raises(Conflict):
        merge_ideas(db_session, moderator, withdrawn, kept, "Doublon")
    with pytest.raises(Invalid):
        merge_ideas(db_session, moderator, duplicate, kept, " ")
    with pytest.raises(NotAllowed):
        merge_ideas(db_session, resident, duplicate, kept, "Doublon")
    with pytest.raises(NotFound):
        merge_ideas(db_session, make_user(vienna, role=Role.MODERATOR), duplicate, kept, "Doublon")
    merge_ideas(db_session, moderator, duplicate, kept, "Doublon")
    with pytest.raises(Conflict):
        merge_ideas(db_session, moderator, duplicate, kept, "Encore")
    with pytest.raises(Conflict):
        merge_ideas(db_session, moderator, idea_on(board, author), duplicate, "Dans un fusionné")
