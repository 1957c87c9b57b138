"""Setting up idea boards, their phases and times, and which boards residents find."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from campaigns import service as campaigns
from ideas import boards
from ideas.models import BoardStatus, Phase
from tests.surveys.helpers import published_campaign

pytestmark = pytest.mark.usefixtures("in_app")

PARIS = ZoneInfo("Europe/Paris")
DAY = timedelta(days=1)
GREEN = {"code": "green", "label": {"fr": "Nature", "en": "Green"}}
PLAY = {"code": "play", "label": {"fr": "Jeux"}}


@pytest.fixture
def new_board(db_session, moderator, campaign):
    def make(**values):
        values.setdefault("title", {"fr": "Cour de l'îlot 7", "en": "Courtyard of block 7"})
        return boards.create_board(db_session, moderator, campaign, **values)

    return make


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(Invalid) as problem:
        call(*args, **kwargs)
    return problem.value.errors


def test_a_new_board_is_a_draft_with_its_settings(new_board):
    board = new_board(
        description={"fr": "Vos idées **pour** la cour"},
        categories=[GREEN, PLAY],
        location="optional",
        requires_approval=True,
        support_budget=3,
        supports_withdrawable=False,
        flag_threshold=5,
        edit_minutes=30,
    )
    assert (board.status, board.phase) == (BoardStatus.DRAFT, Phase.UPCOMING)
    assert board.categories == [GREEN, PLAY]
    assert (board.location, board.requires_approval, board.support_budget) == ("optional", True, 3)
    assert (board.supports_withdrawable, board.flag_threshold, board.edit_minutes) == (False, 5, 30)
    assert board.voting_started_at is None
    assert 0 <= board.shuffle_seed < 2**31


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"title": {"en": "Only English"}}, "title", "main language"),
        ({"title": {"fr": "Titre", "de": "Titel"}}, "title", "Not a language of this city: de"),
        ({"title": {"fr": "x" * 201}}, "title", "maximum length of 200"),
        ({"description": {"fr": "x" * 5001}}, "description", "maximum length of 5000"),
        ({"categories": [{"code": "Green!", "label": {"fr": "Nature"}}]}, "categories", "codes"),
        ({"categories": [GREEN, GREEN]}, "categories", "Two categories have the code green"),
        ({"categories": [{"code": "play", "label": {"en": "Play"}}]}, "categories", "main lang"),
        ({"categories": [{"code": "a", "label": {"fr": "A"}, "x": 1}]}, "categories", "a code"),
        ({"categories": "green"}, "categories", "At most 50"),
        ({"location": "somewhere"}, "location", "off, optional or required"),
        ({"support_budget": 0}, "support_budget", "between 1 and 1000"),
        ({"support_budget": True}, "support_budget", "between 1 and 1000"),
        ({"flag_threshold": None}, "flag_threshold", "required"),
        ({"edit_minutes": 20_000}, "edit_minutes", "between 0 and 10080"),
        ({"requires_approval": "yes"}, "requires_approval", "boolean"),
    ],
)
def test_what_a_board_refuses(new_board, values, field, message):
    errors = refused(new_board, **values)
    assert message in " ".join(errors[field])


def test_phase_times_are_read_on_the_citys_clock(new_board):
    board = new_board(
        collecting_from=datetime(2030, 7, 1, 9, 0),  # naive: Paris wall-clock time
        supporting_from=datetime(2030, 7, 15, 9, 0, tzinfo=PARIS),
        closes_at=datetime(2030, 7, 30, 18, 0, tzinfo=UTC),
    )
    assert board.collecting_from == datetime(2030, 7, 1, 7, 0, tzinfo=UTC)
    assert board.supporting_from == datetime(2030, 7, 15, 7, 0, tzinfo=UTC)
    assert board.closes_at == datetime(2030, 7, 30, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "skipped", [datetime(2030, 3, 31, 2, 30), datetime(2030, 3, 31, 2, 30, tzinfo=PARIS)]
)
def test_a_time_the_clocks_skip_is_refused(new_board, skipped):
    errors = refused(new_board, supporting_from=skipped)
    assert "does not exist in the time zone Europe/Paris" in errors["supporting_from"][0]


def test_a_time_that_happens_twice_keeps_the_one_given(new_board):
    second = datetime(2030, 10, 27, 2, 30, tzinfo=PARIS, fold=1)
    assert new_board(closes_at=second).closes_at == datetime(2030, 10, 27, 1, 30, tzinfo=UTC)
    first = new_board(closes_at=datetime(2030, 10, 27, 2, 30))
    assert first.closes_at == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


def test_phases_must_follow_each_other(new_board, db_session, moderator):
    now = utcnow()
    errors = refused(new_board, collecting_from=now + 2 * DAY, supporting_from=now + DAY)
    assert "collect, support, close" in errors["supporting_from"][0]
    board = new_board(collecting_from=now + DAY, closes_at=now + 9 * DAY)
    errors = refused(boards.update_board, db_session, moderator, board, supporting_from=now)
    assert "collect, support, close" in errors["supporting_from"][0]


def test_only_the_citys_moderators_and_admins_set_boards_up(
    db_session, campaign, resident, make_user, lyon, vienna
):
    title = {"fr": "Idées"}
    with pytest.raises(NotAllowed):
        boards.create_board(db_session, resident, campaign, title=title)
    with pytest.raises(NotAllowed):
        boards.create_board(db_session, make_user(lyon, role=Role.STAFF), campaign, title=title)
    with pytest.raises(NotFound):
        boards.create_board(
            db_session, make_user(vienna, role=Role.MODERATOR), campaign, title=title
        )
    admin = make_user(lyon, role=Role.ADMIN)
    assert boards.create_board(db_session, admin, campaign, title=title).city_id == lyon.id


def test_an_archived_campaign_takes_no_board_and_its_boards_stay_as_they_were(
    db_session, moderator, campaign
):
    board = boards.create_board(db_session, moderator, campaign, title={"fr": "Idées"})
    campaigns.archive_campaign(db_session, moderator, campaign)
    with pytest.raises(Conflict) as problem:
        boards.create_board(db_session, moderator, campaign, title={"fr": "Autres idées"})
    assert problem.value.slug == "campaign-archived"
    with pytest.raises(Conflict) as problem:
        boards.update_board(db_session, moderator, board, title={"fr": "Changé"})
    assert problem.value.slug == "campaign-archived"
    assert board.title == {"fr": "Idées"}


def test_publishing_needs_a_published_campaign_and_applies_the_times(
    db_session, moderator, lyon, new_board
):
    draft_campaign = campaigns.create_campaign(
        db_session, moderator, lyon, slug="later", title={"fr": "Plus tard"}
    )
    hidden = boards.create_board(db_session, moderator, draft_campaign, title={"fr": "Idées"})
    with pytest.raises(Conflict) as problem:
        boards.publish_board(db_session, moderator, hidden)
    assert problem.value.slug == "campaign-not-published"

    now = utcnow()
    board = new_board(collecting_from=now - 2 * DAY, supporting_from=now - DAY)
    boards.publish_board(db_session, moderator, board, now)
    assert (board.status, board.phase, board.published_at) == ("published", "supporting", now)
    assert board.voting_started_at == now
    with pytest.raises(Conflict):
        boards.publish_board(db_session, moderator, board, now)


def test_phases_are_set_by_hand_but_not_behind_the_times(db_session, moderator, new_board):
    now = utcnow()
    board = new_board()
    with pytest.raises(Conflict) as problem:
        boards.set_phase(db_session, moderator, board, "collecting", now)
    assert problem.value.slug == "not-published"
    boards.publish_board(db_session, moderator, board, now)
    assert board.phase == Phase.UPCOMING
    boards.set_phase(db_session, moderator, board, "collecting", now)
    assert (board.phase, board.voting_started_at) == ("collecting", None)
    boards.set_phase(db_session, moderator, board, "supporting", now + DAY)
    assert board.voting_started_at == now + DAY
    boards.set_phase(db_session, moderator, board, "collecting", now + 2 * DAY)
    boards.set_phase(db_session, moderator, board, "supporting", now + 3 * DAY)
    assert board.voting_started_at == now + DAY  # when supporting first began

    boards.update_board(db_session, moderator, board, closes_at=now + 4 * DAY)
    with pytest.raises(Conflict) as problem:
        boards.set_phase(db_session, moderator, board, "supporting", now + 5 * DAY)
    assert problem.value.slug == "phase-times"
    with pytest.raises(Invalid):
        boards.set_phase(db_session, moderator, board, "voting", now)


def test_voting_rules_cannot_change_once_supporting_started(db_session, moderator, new_board):
    board = new_board(support_budget=3, supports_withdrawable=True)
    boards.publish_board(db_session, moderator, board)
    boards.set_phase(db_session, moderator, board, "collecting")
    # Before voting: the rules may still change.
    boards.update_board(db_session, moderator, board, support_budget=5)
    assert board.support_budget == 5
    boards.set_phase(db_session, moderator, board, "supporting")

    for rule in (
        {"support_budget": 10},
        {"support_budget": None},
        {"supports_withdrawable": False},
    ):
        with pytest.raises(Conflict) as problem:
            boards.update_board(db_session, moderator, board, **rule)
        assert problem.value.slug == "voting-started"
    db_session.refresh(board)
    assert (board.support_budget, board.supports_withdrawable) == (5, True)
    # Sending the rules unchanged, and changing anything else, is fine.
    boards.update_board(
        db_session, moderator, board, support_budget=5, title={"fr": "Nouveau titre"}
    )
    assert board.title == {"fr": "Nouveau titre"}


def test_a_category_in_use_keeps_its_code(db_session, moderator, board_of, idea_on, resident):
    board = board_of(categories=[GREEN, PLAY])
    idea_on(board, resident, category="green")
    renamed = {"code": "green", "label": {"fr": "Espaces verts"}}
    boards.update_board(db_session, moderator, board, categories=[renamed])
    assert board.categories == [renamed]
    errors = refused(boards.update_board, db_session, moderator, board, categories=[PLAY])
    assert "green" in errors["categories"][0]


def test_the_scheduler_moves_boards_on_by_their_times_once(db_session, board_of, campaign):
    now = utcnow()
    board = board_of(
        phase=Phase.UPCOMING,
        collecting_from=now + DAY,
        supporting_from=now + 3 * DAY,
        closes_at=now + 5 * DAY,
    )
    untimed = board_of(phase=Phase.COLLECTING)
    draft = board_of(status=BoardStatus.DRAFT, phase=Phase.UPCOMING, collecting_from=now)

    assert boards.switch_phases(db_session, now) == 0
    assert boards.switch_phases(db_session, now + DAY) == 1
    assert boards.switch_phases(db_session, now + DAY) == 0  # safe to run twice
    db_session.refresh(board)
    assert (board.phase, board.voting_started_at) == ("collecting", None)

    assert boards.switch_phases(db_session, now + 3 * DAY) == 1
    db_session.refresh(board)
    assert (board.phase, board.voting_started_at) == ("supporting", now + 3 * DAY)
    assert board.updated_at == now + 3 * DAY

    assert boards.switch_phases(db_session, now + 6 * DAY) == 1
    db_session.refresh(board)
    assert (board.phase, board.voting_started_at) == ("closed", now + 3 * DAY)
    db_session.refresh(untimed)
    db_session.refresh(draft)
    assert (untimed.phase, draft.phase) == ("collecting", "upcoming")


def test_a_late_scheduler_jumps_to_the_phase_due(db_session, board_of):
    now = utcnow()
    board = board_of(phase=Phase.UPCOMING, collecting_from=now - 3 * DAY, supporting_from=now)
    assert boards.switch_phases(db_session, now) == 1
    db_session.refresh(board)
    assert (board.phase, board.voting_started_at) == ("supporting", now)


def test_residents_find_published_boards_of_live_campaigns_of_their_city(
    db_session, board_of, moderator, resident, make_user, lyon, vienna
):
    live = board_of()
    draft = board_of(status=BoardStatus.DRAFT)
    other = published_campaign(db_session, moderator, lyon, slug="other")
    archived = boards.create_board(db_session, moderator, other, title={"fr": "Ancien"})
    boards.publish_board(db_session, moderator, archived)
    assert boards.boards_for_resident(db_session, resident, other.id) == [archived]
    campaigns.archive_campaign(db_session, moderator, other)

    assert boards.boards_for_resident(db_session, resident, None) == [live]
    assert boards.boards_for_resident(db_session, resident, other.id) == []
    assert boards.get_board(db_session, resident, live.id) is live
    with pytest.raises(NotFound):
        boards.get_board(db_session, resident, draft.id)
    assert boards.get_board(db_session, moderator, draft.id) is draft
    with pytest.raises(NotFound):
        boards.get_board(db_session, make_user(vienna), live.id)
    with pytest.raises(NotFound):
        boards.get_board(db_session, make_user(vienna, platform_admin=True), live.id)
    with pytest.raises(NotFound):
        boards.get_board(db_session, resident, 2**40)
    assert boards.boards_for_resident(db_session, make_user(vienna), None) == []
