"""Posting ideas (also resent from a phone), editing, withdrawing, and who sees which."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import User
from i18n import force_locale
from ideas import boards, service
from ideas.models import Board, BoardStatus, Idea, IdeaState, Mute, Phase
from tests.conftest import session_of
from tests.crowd import at_once, live_campaign

pytestmark = pytest.mark.usefixtures("in_app")

TITLE = "Un jardin partagé"
BODY = "Des bacs de potager pour tous les voisins."
MINUTE = timedelta(minutes=1)


@pytest.fixture
def post(db_session, resident):
    """Post an idea as ``user`` (the resident unless told), with a fresh UUID unless given."""

    def send(board, user=None, **values):
        values = {"title": TITLE, "body": BODY, "language": "fr"} | values
        values.setdefault("client_uuid", str(uuid.uuid4()))
        return service.post_idea(db_session, user or resident, board, **values)

    return send


def test_a_posted_idea_is_published_with_its_language_and_folded_text(post, board_of, resident):
    now = utcnow()
    idea, created = post(board_of(), title="  Un   jardin\nPARTAGÉ ", language="uk", now=now)
    assert created
    assert (idea.state, idea.author_id, idea.language) == ("published", resident.id, "uk")
    assert idea.title == "Un jardin PARTAGÉ"
    assert idea.search_text == "un jardin partage des bacs de potager pour tous les voisins."
    assert idea.published_at == now


def test_on_a_board_needing_approval_an_idea_waits(post, board_of):
    idea, _created = post(board_of(requires_approval=True))
    assert (idea.state, idea.published_at) == ("pending", None)


def test_a_resent_post_is_the_same_idea_and_other_content_is_refused(
    db_session, post, board_of, make_user, lyon
):
    board = board_of(categories=[{"code": "green", "label": {"fr": "Nature"}}])
    key = str(uuid.uuid4())
    idea, created = post(board, client_uuid=key, category="green")
    again, created_again = post(board, client_uuid=key, category="green")
    assert (again.id, created, created_again) == (idea.id, True, False)
    for changed in ({"title": "Un autre jardin"}, {"category": None}, {"body": BODY + "!"}):
        with pytest.raises(Conflict) as problem:
            post(board, client_uuid=key, **({"category": "green"} | changed))
        assert problem.value.slug == "idea-changed"
    with pytest.raises(Conflict):
        post(board, user=make_user(lyon), client_uuid=key, category="green")
    # Even once the board stopped collecting, the resend is answered as the first time.
    board.phase = Phase.SUPPORTING
    assert post(board, client_uuid=key, category="green")[0].id == idea.id
    assert db_session.scalar(sa.select(sa.func.count(Idea.id))) == 1


@pytest.mark.parametrize(
    "settings",
    [
        {"phase": Phase.UPCOMING},
        {"phase": Phase.SUPPORTING},
        {"phase": Phase.CLOSED},
        {"status": BoardStatus.DRAFT},
    ],
)
def test_only_a_collecting_published_board_takes_ideas(post, board_of, moderator, settings):
    board = board_of(**settings)
    user = moderator if settings.get("status") else None  # residents do not even see drafts
    with pytest.raises(Conflict) as problem:
        post(board, user=user)
    assert problem.value.slug == "not-collecting"


def test_residents_of_another_city_cannot_post(post, board_of, make_user, vienna):
    with pytest.raises(NotFound):
        post(board_of(), user=make_user(vienna))


def test_a_muted_author_cannot_post_until_the_mute_ends(db_session, post, board_of, resident):
    board = board_of()
    mute = Mute(city_id=board.city_id, user_id=resident.id, reason="spam", until=None)
    db_session.add(mute)
    db_session.flush()
    with pytest.raises(NotAllowed) as problem:
        post(board)
    assert problem.value.slug == "muted"
    mute.until = utcnow() + MINUTE
    with pytest.raises(NotAllowed):
        post(board)
    mute.until = utcnow() - MINUTE
    assert post(board)[1]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"title": "Oui"}, "title", "Between 5 and 200"),
        ({"title": "x" * 201}, "title", "Between 5 and 200"),
        ({"title": "   \n  "}, "title", "Between 5 and 200"),
        ({"body": "Court"}, "body", "Between 10 and 5000"),
        ({"body": "x" * 5001}, "body", "Between 10 and 5000"),
        ({"category": "sport"}, "category", "Not a category"),
        ({"language": "xx"}, "language", "Not a language"),
    ],
)
def test_what_an_idea_refuses(post, board_of, values, field, message):
    board = board_of(categories=[{"code": "green", "label": {"fr": "Nature"}}])
    with pytest.raises(Invalid) as problem:
        post(board, **values)
    assert message in problem.value.errors[field][0]


@pytest.fixture
def bounded(db_session, lyon):
    lyon.bounds = [45.70, 4.77, 45.81, 4.90]
    db_session.flush()
    return lyon


@pytest.mark.parametrize(
    ("mode", "place", "field", "message"),
    [
        ("off", {"latitude": 45.76, "longitude": 4.83}, "latitude", "does not take locations"),
        ("required", {}, "latitude", "asks for a location"),
        ("optional", {"latitude": 45.76}, "longitude", "both latitude and longitude"),
        ("optional", {"latitude": 48.85, "longitude": 2.35}, "latitude", "outside the city"),
        ("required", {"latitude": 91.0, "longitude": 4.83}, "latitude", "Not a place on Earth"),
    ],
)
def test_locations_follow_the_board_and_the_city(
    post, board_of, bounded, mode, place, field, message
):
    with pytest.raises(Invalid) as problem:
        post(board_of(location=mode), **place)
    assert message in problem.value.errors[field][0]


def test_a_location_inside_the_city_is_kept(post, board_of, bounded):
    idea, _created = post(board_of(location="required"), latitude=45.76, longitude=4.83)
    assert (idea.latitude, idea.longitude) == (45.76, 4.83)
    idea, _created = post(board_of(location="optional"))
    assert (idea.latitude, idea.longitude) == (None, None)


def test_an_area_across_the_antimeridian(post, board_of, db_session, lyon):
    lyon.bounds = [-20.0, 170.0, -10.0, -170.0]
    db_session.flush()
    board = board_of(location="required")
    assert post(board, latitude=-15.0, longitude=179.5)[1]
    assert post(board, latitude=-15.0, longitude=-175.0)[1]
    with pytest.raises(Invalid):
        post(board, latitude=-15.0, longitude=0.0)


# --- editing and withdrawing ----------------------------------------------------------------


def test_the_author_edits_within_the_window(db_session, post, board_of, resident, make_user, lyon):
    now = utcnow()
    idea, _created = post(board_of(edit_minutes=30), now=now)
    service.edit_idea(db_session, resident, idea, now=now + MINUTE, title="Un potager fleuri")
    assert (idea.title, idea.edited_at) == ("Un potager fleuri", now + MINUTE)
    assert idea.search_text.startswith("un potager fleuri des bacs")
    assert service.may_edit(idea, resident, now + 29 * MINUTE)
    with pytest.raises(NotAllowed) as problem:
        service.edit_idea(db_session, make_user(lyon), idea, now=now, title="Le mien")
    assert problem.value.slug == "not-the-author"
    with pytest.raises(Conflict) as problem:
        service.edit_idea(db_session, resident, idea, now=now + 30 * MINUTE, title="Trop tard")
    assert problem.value.slug == "edit-window-over"
    assert not service.may_edit(idea, resident, now + 30 * MINUTE)
    with pytest.raises(Invalid):
        service.edit_idea(db_session, resident, idea, now=now, body="Court")
    assert idea.title == "Un potager fleuri"


def test_no_edit_once_someone_supported_it(db_session, post, board_of, resident):
    idea, _created = post(board_of())
    db_session.execute(sa.update(Idea).where(Idea.id == idea.id).values(supports_count=1))
    db_session.expire(idea)
    with pytest.raises(Conflict) as problem:
        service.edit_idea(db_session, resident, idea, title="Un potager fleuri")
    assert problem.value.slug == "already-supported"
    db_session.refresh(idea)
    assert idea.title == TITLE


def test_a_support_arriving_during_an_edit_wins(db_session, post, board_of, resident):
    idea, _created = post(board_of())
    # The idea as the edit saw it (no support), but a support was counted since.
    db_session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(supports_count=1)
        .execution_options(synchronize_session=False)
    )
    assert idea.supports_count == 0
    with pytest.raises(Conflict):
        service.edit_idea(db_session, resident, idea, title="Un potager fleuri")


def test_the_author_withdraws_once_and_the_idea_keeps_its_supports(
    db_session, post, board_of, resident, make_user, lyon
):
    idea, _created = post(board_of())
    idea.supports_count = 4
    with pytest.raises(NotAllowed):
        service.withdraw_idea(db_session, make_user(lyon), idea)
    now = utcnow()
    service.withdraw_idea(db_session, resident, idea, now)
    service.withdraw_idea(db_session, resident, idea, now + MINUTE)
    assert (idea.state, idea.withdrawn_at, idea.supports_count) == ("withdrawn", now, 4)
    with pytest.raises(Conflict):
        service.edit_idea(db_session, resident, idea, title="Un potager fleuri")


def test_a_merged_idea_cannot_be_withdrawn(db_session, board_of, idea_on, resident):
    idea = idea_on(board_of(), resident, state=IdeaState.MERGED)
    with pytest.raises(Conflict) as problem:
        service.withdraw_idea(db_session, resident, idea)
    assert problem.value.slug == "merged"


# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["published", "withdrawn", "merged"])
def test_everyone_of_the_city_reads_public_ideas(
    db_session, board_of, idea_on, resident, make_user, lyon, vienna, state
):
    idea = idea_on(board_of(), resident, state=state)
    assert service.get_idea(db_session, make_user(lyon), idea.id) is idea
    with pytest.raises(NotFound):
        service.get_idea(db_session, make_user(vienna), idea.id)


@pytest.mark.parametrize("state", ["pending", "hidden", "rejected"])
def test_only_the_author_reads_an_idea_out_of_sight(
    db_session, board_of, idea_on, resident, moderator, make_user, lyon, state
):
    idea = idea_on(board_of(), resident, state=state, moderation_reason="Hors sujet")
    assert service.get_idea(db_session, resident, idea.id) is idea
    for other in (make_user(lyon), moderator):
        with pytest.raises(NotFound):
            service.get_idea(db_session, other, idea.id)


def test_ideas_of_a_draft_board_are_not_found(db_session, board_of, idea_on, resident):
    idea = idea_on(board_of(status=BoardStatus.DRAFT), resident)
    with pytest.raises(NotFound):
        service.get_idea(db_session, resident, idea.id)
    with pytest.raises(NotFound):
        service.get_idea(db_session, resident, 2**40)


def test_a_deleted_account_shows_as_deleted_participant(db_session, board_of, idea_on, resident):
    idea = idea_on(board_of(), None)
    assert service.author_name(idea.author) == "deleted participant"
    with force_locale("en"):
        assert service.author_name(resident) == resident.display_name
    resident.display_name = ""
    assert service.author_name(resident) == "participant"


# --- a phone sending one post many times at once, on a database committed for real ----------


def test_twenty_parallel_sends_of_one_post_make_one_idea(committed_app):
    live = committed_app
    with session_of(live) as session:
        _city, root, (person,), campaign = live_campaign(session)
        board = boards.create_board(session, root, campaign, title={"fr": "Idées"})
        boards.publish_board(session, root, board)
        boards.set_phase(session, root, board, "collecting")
        session.commit()
        board_id, person_id = board.id, person.id
    key = str(uuid.uuid4())

    def send():
        with session_of(live) as session:
            user, board = session.get(User, person_id), session.get(Board, board_id)
            idea, created = service.post_idea(
                session, user, board, client_uuid=key, title=TITLE, body=BODY, language="fr"
            )
            session.commit()
            return idea.id, created

    results, errors = at_once(20, send)
    assert errors == []
    assert len(results) == 20 and len({idea_id for idea_id, _created in results}) == 1
    assert sum(created for _id, created in results) == 1
    with session_of(live) as session:
        assert session.scalar(sa.select(sa.func.count(Idea.id))) == 1
