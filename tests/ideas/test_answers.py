"""The city's answer to an idea: status history, translated response, everyone concerned told."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from ideas import answers, supports
from ideas.models import IdeaState, OfficialStatus, Phase
from notifications.models import Notification

RESPONSE = {
    "fr": "Nous installerons des bacs au printemps.",
    "en": "We will put planters in next spring.",
}


pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def staff(lyon, make_user):
    return make_user(lyon, role=Role.STAFF)


@pytest.fixture
def supported_idea(db_session, board_of, idea_on, lyon, make_user):
    """An idea by a French-speaking author (who supports it too), supported by an English
    speaker and by someone with no language of their own (the city's: French)."""
    board = board_of(phase=Phase.SUPPORTING)
    people = {
        "author": make_user(lyon, locale="fr"),
        "english": make_user(lyon, locale="en"),
        "city_language": make_user(lyon),
    }
    idea = idea_on(board, people["author"], title="Un potager partagé")
    for person in people.values():
        supports.support_idea(db_session, person, idea, utcnow())
    return idea, people


def status_notes(db_session) -> dict[int, Notification]:
    notes = db_session.scalars(
        sa.select(Notification).where(Notification.kind == "idea.status_changed")
    ).all()
    return {note.user_id: note for note in notes}


def test_the_author_and_every_supporter_are_told_in_their_language(
    db_session, supported_idea, staff, translate
):
    idea, people = supported_idea
    change = answers.set_official_status(db_session, staff, idea, OfficialStatus.ACCEPTED, RESPONSE)
    assert (change.status, change.actor_id, change.response) == ("accepted", staff.id, RESPONSE)
    assert idea.official_status == OfficialStatus.ACCEPTED
    notes = status_notes(db_session)
    # The author, a supporter of their own idea, is told once.
    assert set(notes) == {person.id for person in people.values()}
    author, english, city_language = (notes[people[k].id] for k in people)
    assert RESPONSE["fr"] in author.body_text and RESPONSE["en"] not in author.body_text
    assert RESPONSE["en"] in english.body_text and RESPONSE["fr"] not in english.body_text
    assert RESPONSE["fr"] in city_language.body_text
    assert RESPONSE["en"] in english.body_html
    assert author.subject == translate(
        "fr",
        "The city answered your idea “%(title)s”: %(status)s",
        title="Un potager partagé",
        status=translate("fr", "Accepted"),
    )
    assert english.subject == translate(
        "en",
        "The city answered an idea you support: %(status)s",
        status=translate("en", "Accepted"),
    )
    assert english.data == {"idea_id": idea.id, "status": "accepted"}


def test_a_response_missing_a_language_is_taken_and_reported(db_session, supported_idea, staff):
    idea, people = supported_idea
    change = answers.set_official_status(
        db_session, staff, idea, "under_review", {"fr": " On regarde ça. \r\n ", "en": ""}
    )
    assert change.response == {"fr": "On regarde ça."}
    assert answers.missing_translations(idea.board.city, change) == ["en"]
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "idea.answer"))
    assert entry.details == {"status": "under_review", "change": change.id, "missing": ["en"]}
    # The English speaker reads the city's language rather than nothing.
    assert "On regarde ça." in status_notes(db_session)[people["english"].id].body_text


def test_the_history_keeps_every_step_oldest_first(db_session, supported_idea, staff):
    idea, people = supported_idea
    now = utcnow()
    answers.set_official_status(db_session, staff, idea, "under_review", {}, now)
    answers.set_official_status(
        db_session, staff, idea, "in_progress", RESPONSE, now + timedelta(days=30)
    )
    answers.set_official_status(
        db_session, staff, idea, "implemented", RESPONSE, now + timedelta(days=90)
    )
    assert [c.status for c in answers.history(db_session, idea)] == [
        "under_review",
        "in_progress",
        "implemented",
    ]
    assert idea.official_status == "implemented"
    told = db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == people["english"].id
        )
    )
    assert told == 3


def test_markup_in_a_response_is_shown_as_text_in_emails(db_session, supported_idea, staff):
    idea, people = supported_idea
    payload = '<script>alert("x")</script>\x00 <b>Merci</b>'
    answers.set_official_status(db_session, staff, idea, "accepted", {"fr": payload})
    note = status_notes(db_session)[people["author"].id]
    assert "<script>" not in note.body_html and "&lt;script&gt;" in note.body_html
    assert "\x00" not in note.body_text


@pytest.mark.parametrize(
    "status, response, field",
    [
        ("approved", RESPONSE, "status"),
        ("accepted", {"de": "Wir bauen es."}, "response"),
        ("accepted", {"fr": "x" * 5001}, "response"),
        ("accepted", ["Merci"], "response"),
        ("accepted", {"fr": 3}, "response"),
    ],
)
def test_bad_answers_are_refused(db_session, supported_idea, staff, status, response, field):
    idea, _people = supported_idea
    with pytest.raises(Invalid) as refused:
        answers.set_official_status(db_session, staff, idea, status, response)
    assert field in refused.value.errors
    assert idea.official_status is None
    assert answers.history(db_session, idea) == []
    assert status_notes(db_session) == {}


def test_only_the_citys_staff_answer_and_only_published_ideas(
    db_session, supported_idea, board_of, idea_on, vienna, make_user, lyon
):
    idea, people = supported_idea
    with pytest.raises(NotAllowed):
        answers.set_official_status(db_session, people["english"], idea, "accepted", RESPONSE)
    other_staff = make_user(vienna, role=Role.STAFF)
    with pytest.raises(NotFound):
        answers.set_official_status(db_session, other_staff, idea, "accepted", RESPONSE)
    moderator = make_user(lyon, role=Role.MODERATOR)
    hidden = idea_on(board_of(), people["author"], state=IdeaState.HIDDEN)
    with pytest.raises(Conflict):
        answers.set_official_status(db_session, moderator, hidden, "accepted", RESPONSE)
    assert answers.set_official_status(db_session, moderator, idea, "accepted", RESPONSE)
