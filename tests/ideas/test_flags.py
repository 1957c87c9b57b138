"""Residents flagging ideas and comments; enough flags hide an item pending review."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from ideas import flags
from ideas.models import CommentState, Flag, IdeaState, Mute

pytestmark = pytest.mark.usefixtures("in_app")


def audit_actions(db_session) -> list[tuple]:
    return db_session.execute(
        sa.select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.subject_id).order_by(
            AuditEntry.id
        )
    ).all()


def test_one_flag_per_resident_and_item(db_session, board_of, idea_on, author, resident):
    idea = idea_on(board_of(), author)
    flag, created = flags.flag(db_session, resident, idea, "spam", "  Publicité \r\n", utcnow())
    assert created
    assert (flag.reason, flag.note, flag.resolved_at) == ("spam", "Publicité", None)
    again, created_again = flags.flag(db_session, resident, idea, "offensive", None, utcnow())
    assert (again.id, again.reason, created_again) == (flag.id, "spam", False)
    assert idea.flags_count == 1
    assert idea.state == IdeaState.PUBLISHED


def test_enough_flags_hide_an_idea_pending_review(
    db_session, board_of, idea_on, author, make_user, lyon
):
    idea = idea_on(board_of(flag_threshold=2), author)
    first, second, late = make_user(lyon), make_user(lyon), make_user(lyon)
    flags.flag(db_session, first, idea, "spam", None, utcnow())
    assert idea.state == IdeaState.PUBLISHED
    flags.flag(db_session, second, idea, "offensive", None, utcnow())
    assert (idea.state, idea.moderation_reason, idea.flags_count) == (IdeaState.HIDDEN, None, 2)
    # Hidden automatically: logged without an actor.
    assert audit_actions(db_session) == [("idea.auto_hide", None, idea.id)]
    # Whoever flagged it gets their flag back; anybody else no longer sees it.
    assert flags.flag(db_session, second, idea, "spam", None, utcnow())[1] is False
    with pytest.raises(NotFound):
        flags.flag(db_session, late, idea, "spam", None, utcnow())
    assert len(audit_actions(db_session)) == 1


def test_enough_flags_hide_a_comment_which_then_no_longer_counts(
    db_session, board_of, idea_on, comment_on, author, make_user, lyon
):
    idea = idea_on(board_of(flag_threshold=1), author)
    comment = comment_on(idea, make_user(lyon))
    comment_on(idea, make_user(lyon))
    flag, created = flags.flag(db_session, author, comment, "off_topic", None, utcnow())
    assert created and flag.comment_id == comment.id and flag.idea_id is None
    assert (comment.state, comment.flags_count) == (CommentState.HIDDEN, 1)
    db_session.refresh(idea)
    assert (idea.comments_count, idea.flags_count) == (1, 0)
    assert audit_actions(db_session) == [("comment.auto_hide", None, comment.id)]
    # Hidden: the comment is gone for anybody but its author.
    with pytest.raises(NotFound):
        flags.flag(db_session, make_user(lyon), comment, "spam", None, utcnow())


def test_nobody_flags_their_own_idea_or_comment(db_session, board_of, idea_on, comment_on, author):
    idea = idea_on(board_of(), author)
    with pytest.raises(NotAllowed) as own_idea:
        flags.flag(db_session, author, idea, "spam", None, utcnow())
    assert own_idea.value.slug == "own-item"
    with pytest.raises(NotAllowed):
        flags.flag(db_session, author, comment_on(idea, author), "spam", None, utcnow())
    assert db_session.scalar(sa.select(sa.func.count(Flag.id))) == 0


def test_muted_residents_cannot_flag(db_session, board_of, idea_on, author, resident, lyon):
    idea = idea_on(board_of(), author)
    now = utcnow()
    db_session.add(
        Mute(city_id=lyon.id, user_id=resident.id, reason="Spam", until=now + timedelta(hours=1))
    )
    db_session.flush()
    with pytest.raises(NotAllowed) as muted:
        flags.flag(db_session, resident, idea, "spam", None, now)
    assert muted.value.slug == "muted"
    # Once the mute has ended, flagging works again.
    assert flags.flag(db_session, resident, idea, "spam", None, now + timedelta(hours=2))[1]


@pytest.mark.parametrize(
    "reason, note, field",
    [("rude", None, "reason"), ("", None, "reason"), ("spam", "x" * 501, "note")],
)
def test_bad_flags_are_refused(
    db_session, board_of, idea_on, author, resident, reason, note, field
):
    idea = idea_on(board_of(), author)
    with pytest.raises(Invalid) as refused:
        flags.flag(db_session, resident, idea, reason, note, utcnow())
    assert field in refused.value.errors
    assert idea.flags_count == 0


def test_withdrawn_ideas_and_deleted_comments_are_not_flagged(
    db_session, board_of, idea_on, comment_on, author, resident
):
    board = board_of()
    with pytest.raises(Conflict) as withdrawn:
        flags.flag(
            db_session,
            resident,
            idea_on(board, author, state=IdeaState.WITHDRAWN),
            "spam",
            None,
            utcnow(),
        )
    assert withdrawn.value.slug == "not-flaggable"
    deleted = comment_on(idea_on(board, author), author, state=CommentState.DELETED)
    with pytest.raises(Conflict):
        flags.flag(db_session, resident, deleted, "spam", None, utcnow())


def test_nobody_flags_in_another_city(
    db_session, board_of, idea_on, comment_on, author, vienna, make_user
):
    idea = idea_on(board_of(), author)
    stranger = make_user(vienna)
    with pytest.raises(NotFound):
        flags.flag(db_session, stranger, idea, "spam", None, utcnow())
    with pytest.raises(NotFound):
        flags.flag(db_session, stranger, comment_on(idea, author), "spam", None, utcnow())
