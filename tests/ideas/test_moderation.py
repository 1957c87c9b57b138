"""Moderators' queue and decisions: hide, restore, approve, reject, mute; audit and authors told."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from ideas import flags, moderation, queue
from ideas.models import CommentState, Flag, IdeaState, Mute
from ideas.mutes import is_muted
from notifications.models import Notification

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def flaggers(lyon, make_user):
    return [make_user(lyon) for _ in range(3)]


def told(db_session, person) -> list[Notification]:
    return list(
        db_session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == person.id, Notification.kind == "idea.moderated")
            .order_by(Notification.id)
        )
    )


def logged(db_session) -> list[tuple]:
    return db_session.execute(
        sa.select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.reason).order_by(AuditEntry.id)
    ).all()


def open_flags(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count(Flag.id)).where(Flag.resolved_at.is_(None)))


def test_the_queue_holds_flagged_and_pending_items_with_their_context(
    db_session, board_of, idea_on, comment_on, author, flaggers, moderator, lyon, vienna, make_user
):
    board = board_of(flag_threshold=2)
    flagged = idea_on(board, author, title="Vendez vos voitures")
    pending = idea_on(board, author, title="Un banc", state=IdeaState.PENDING)
    idea_on(board, author, title="Rien à signaler")
    comment = comment_on(idea_on(board, author), author, body="Encore de la publicité")
    now = utcnow()
    flags.flag(db_session, flaggers[0], flagged, "spam", "Lien commercial", now)
    flags.flag(db_session, flaggers[1], flagged, "spam", None, now + timedelta(minutes=1))
    flags.flag(db_session, flaggers[2], comment, "offensive", None, now)
    rows = db_session.execute(queue.queue(moderator, lyon)).all()
    assert [(r.kind, r.why, r.item_id, r.flags) for r in rows] == [
        ("idea", "pending", pending.id, 0),
        ("comment", "flagged", comment.id, 1),
        ("idea", "flagged", flagged.id, 2),
    ]
    items = {(i.kind, i.why): i for i in queue.queue_items(db_session, rows)}
    hidden = items["idea", "flagged"]
    assert (hidden.idea.id, hidden.idea.state, hidden.board.id) == (flagged.id, "hidden", board.id)
    assert hidden.author.id == author.id
    assert hidden.reasons == {"spam": 2}
    assert hidden.notes == ["Lien commercial"]
    assert hidden.text.startswith("Vendez vos voitures")
    on_comment = items["comment", "flagged"]
    assert (on_comment.comment.id, on_comment.reasons) == (comment.id, {"offensive": 1})
    assert on_comment.text == "Encore de la publicité"
    assert items["idea", "pending"].reasons == {}
    only_pending = db_session.execute(queue.queue(moderator, lyon, "pending")).all()
    assert [r.item_id for r in only_pending] == [pending.id]
    # Another city's moderator has no queue here, and a resident none at all.
    with pytest.raises(NotFound):
        queue.queue(make_user(vienna, role=Role.MODERATOR), lyon)
    with pytest.raises(NotFound):
        queue.queue(flaggers[0], lyon)


def test_hiding_resolves_the_flags_and_tells_the_author_why(
    db_session, board_of, idea_on, author, flaggers, moderator, lyon, translate
):
    idea = idea_on(board_of(), author, title="Vendez vos voitures")
    flags.flag(db_session, flaggers[0], idea, "spam", None, utcnow())
    moderation.decide(db_session, moderator, idea, "hide", "  Publicité commerciale  ")
    assert (idea.state, idea.moderation_reason, idea.flags_count) == (
        IdeaState.HIDDEN,
        "Publicité commerciale",
        0,
    )
    assert open_flags(db_session) == 0
    assert logged(db_session) == [("idea.hide", moderator.id, "Publicité commerciale")]
    (note,) = told(db_session, author)
    assert note.locale == "en"
    assert note.subject == translate(
        "en", "Your idea “%(title)s” was hidden", title="Vendez vos voitures"
    )
    assert "Publicité commerciale" in note.body_text
    assert note.data == {"idea_id": idea.id, "comment_id": None}
    assert db_session.execute(queue.queue(moderator, lyon)).all() == []
    with pytest.raises(Conflict):
        moderation.decide(db_session, moderator, idea, "hide", "Encore")


def test_a_french_author_is_told_in_french(
    db_session, board_of, idea_on, make_user, lyon, moderator, translate
):
    author = make_user(lyon)  # no choice of their own: the city's language
    idea = idea_on(board_of(), author, title="Un banc")
    moderation.decide(db_session, moderator, idea, "hide", "Hors sujet")
    (note,) = told(db_session, author)
    assert note.locale == "fr"
    assert note.subject == translate("fr", "Your idea “%(title)s” was hidden", title="Un banc")
    reason_line = translate("fr", "The moderator's reason: %(reason)s", reason="Hors sujet")
    assert reason_line in note.body_text


def test_restoring_shows_a_hidden_item_again_or_dismisses_flags(
    db_session, board_of, idea_on, author, flaggers, moderator
):
    board = board_of(flag_threshold=2)
    hidden, flagged = idea_on(board, author), idea_on(board, author)
    for flagger in flaggers[:2]:
        flags.flag(db_session, flagger, hidden, "spam", None, utcnow())
    flags.flag(db_session, flaggers[0], flagged, "spam", None, utcnow())
    assert hidden.state == IdeaState.HIDDEN
    moderation.decide(db_session, moderator, hidden, "restore", "Rien de commercial")
    assert (hidden.state, hidden.moderation_reason, hidden.flags_count) == (
        IdeaState.PUBLISHED,
        "Rien de commercial",
        0,
    )
    moderation.decide(db_session, moderator, flagged, "restore", "Signalement infondé")
    assert (flagged.state, flagged.moderation_reason, flagged.flags_count) == (
        IdeaState.PUBLISHED,
        None,
        0,
    )
    # Told once: about the idea that had been hidden, not about dismissed flags.
    assert [n.data["idea_id"] for n in told(db_session, author)] == [hidden.id]
    assert [a for a, _actor, _reason in logged(db_session)] == [
        "idea.auto_hide",
        "idea.restore",
        "idea.restore",
    ]
    assert open_flags(db_session) == 0
    # Residents whose flags were resolved cannot flag again to hide it once more.
    assert flags.flag(db_session, flaggers[0], hidden, "spam", None, utcnow())[1] is False
    assert hidden.flags_count == 0
    with pytest.raises(Conflict):
        moderation.decide(db_session, moderator, hidden, "restore", "Encore")


def test_comments_are_hidden_and_restored_and_counted_accordingly(
    db_session, board_of, idea_on, comment_on, author, moderator
):
    idea = idea_on(board_of(), author)
    comment = comment_on(idea, author)
    moderation.decide(db_session, moderator, comment, "hide", "Insultes")
    assert comment.state == CommentState.HIDDEN
    assert idea.comments_count == 0
    moderation.decide(db_session, moderator, comment, "restore", "Après relecture, c'est correct")
    assert (comment.state, idea.comments_count) == (CommentState.PUBLISHED, 1)
    notes = told(db_session, author)
    assert [n.data["comment_id"] for n in notes] == [comment.id, comment.id]
    assert "comment" in notes[0].subject
    assert [a for a, _actor, _reason in logged(db_session)] == ["comment.hide", "comment.restore"]


def test_approving_and_rejecting_ideas_waiting_for_approval(
    db_session, board_of, idea_on, author, moderator
):
    board = board_of(requires_approval=True)
    waiting = idea_on(board, author, state=IdeaState.PENDING)
    refused = idea_on(board, author, state=IdeaState.PENDING)
    waiting.published_at = refused.published_at = None
    now = utcnow()
    moderation.decide(db_session, moderator, waiting, "approve", "Bienvenue", now)
    assert (waiting.state, waiting.published_at) == (IdeaState.PUBLISHED, now)
    moderation.decide(db_session, moderator, refused, "reject", "Déjà proposé")
    assert (refused.state, refused.moderation_reason) == (IdeaState.REJECTED, "Déjà proposé")
    assert [n.data["idea_id"] for n in told(db_session, author)] == [waiting.id, refused.id]
    assert [a for a, _actor, _reason in logged(db_session)] == ["idea.approve", "idea.reject"]
    with pytest.raises(Conflict) as not_pending:
        moderation.decide(db_session, moderator, waiting, "approve", "Encore")
    assert not_pending.value.slug == "not-pending"


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 2001])
def test_every_decision_needs_a_reason(
    db_session, board_of, idea_on, author, moderator, lyon, reason
):
    idea = idea_on(board_of(), author)
    with pytest.raises(Invalid) as refused:
        moderation.decide(db_session, moderator, idea, "hide", reason)
    assert "reason" in refused.value.errors
    with pytest.raises(Invalid):
        moderation.mute_author(db_session, moderator, lyon, author, reason)
    assert idea.state == IdeaState.PUBLISHED
    assert logged(db_session) == [] and told(db_session, author) == []


def test_only_the_citys_moderators_decide(
    db_session, board_of, idea_on, author, resident, vienna, make_user
):
    idea = idea_on(board_of(), author)
    with pytest.raises(NotAllowed):
        moderation.decide(db_session, resident, idea, "hide", "Je n'aime pas")
    other_moderator = make_user(vienna, role=Role.MODERATOR)
    with pytest.raises(NotFound):
        moderation.decide(db_session, other_moderator, idea, "hide", "Non")
    staff = make_user(idea.board.city, role=Role.STAFF)
    with pytest.raises(NotAllowed):
        moderation.decide(db_session, staff, idea, "hide", "Non")
    assert idea.state == IdeaState.PUBLISHED
    assert logged(db_session) == []


def test_muting_an_author_until_a_time_and_unmuting(
    db_session, board_of, idea_on, author, resident, moderator, lyon, vienna, make_user
):
    now = utcnow()
    until = now + timedelta(days=7)
    mute = moderation.mute_author(db_session, moderator, lyon, resident, "Spam répété", until, now)
    assert (mute.until, mute.muted_by_id, mute.reason) == (until, moderator.id, "Spam répété")
    assert is_muted(db_session, resident, lyon.id, now)
    # Muting again changes the end (here: none), not the number of mutes.
    moderation.mute_author(db_session, moderator, lyon, resident, "Toujours du spam")
    assert db_session.scalar(sa.select(sa.func.count(Mute.id))) == 1
    assert is_muted(db_session, resident, lyon.id, now + timedelta(days=30))
    idea = idea_on(board_of(), author)
    with pytest.raises(NotAllowed):
        flags.flag(db_session, resident, idea, "spam", None, now)
    moderation.unmute_author(db_session, moderator, lyon, resident, "Excuses reçues")
    assert not is_muted(db_session, resident, lyon.id, now)
    assert flags.flag(db_session, resident, idea, "spam", None, now)[1]
    assert [a for a, _actor, _reason in logged(db_session)] == [
        "author.mute",
        "author.mute",
        "author.unmute",
    ]
    notes = told(db_session, resident)
    assert len(notes) == 3 and "Spam répété" in notes[0].body_text
    with pytest.raises(Conflict):
        moderation.unmute_author(db_session, moderator, lyon, resident, "Encore")
    with pytest.raises(Invalid):
        moderation.mute_author(db_session, moderator, lyon, resident, "Spam", now - timedelta(1))
    with pytest.raises(NotFound):
        moderation.mute_author(db_session, moderator, lyon, make_user(vienna), "Spam")
    with pytest.raises(NotAllowed):
        moderation.mute_author(db_session, moderator, lyon, moderator, "Moi")


def test_unknown_decisions_and_queues_are_refused(
    db_session, board_of, idea_on, author, moderator, lyon
):
    idea = idea_on(board_of(), author)
    with pytest.raises(Invalid) as decision:
        moderation.decide(db_session, moderator, idea, "delete", "Spam")
    assert "decision" in decision.value.errors
    with pytest.raises(Invalid) as why:
        queue.queue(moderator, lyon, "hidden")
    assert "why" in why.value.errors
    with pytest.raises(Conflict):
        moderation.decide(db_session, moderator, idea, "approve", "Déjà publiée")
    assert idea.state == IdeaState.PUBLISHED and logged(db_session) == []
