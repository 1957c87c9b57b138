"""Idea boards in the console: the list, the board form, a board's ideas, an idea's page, the
city's answer, and the city's area that idea locations must lie in."""

from datetime import UTC, datetime
from html import unescape

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Invalid
from app.models import City
from ideas import boards, comments, flags, service, supports
from ideas.models import Board, Idea, IdeaStatusChange
from notifications.models import Notification
from tests.console.helpers import html, post_form
from tests.console.idea_helpers import comment, open_board, post
from tests.console.test_pages import _audit as page_audit
from tests.surveys.helpers import published_campaign

BOARDS = "/console/lyon/boards"
NEW = "/console/lyon/boards/new"


@pytest.fixture
def campaign(db_session, people):
    made = published_campaign(db_session, people["platform_admin"], people["admin"].city, "ideas")
    db_session.commit()
    return made


@pytest.fixture
def board(db_session, people, campaign):
    made = open_board(db_session, people["platform_admin"], campaign)
    db_session.commit()
    return made


def _board_url(board, suffix="") -> str:
    return f"/console/lyon/boards/{board.id}{suffix}"


def _idea_url(idea, suffix="") -> str:
    return f"/console/lyon/ideas/{idea.id}{suffix}"


def _boards(db_session) -> list[Board]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Board).order_by(Board.id)))


def board_form(**changes) -> dict:
    """A complete board form for Lyon (fr, en); ``None`` leaves a field out."""
    data = {
        "campaign": "ideas",
        "title-fr": "Cour de l'îlot 7",
        "title-en": "Courtyard of block 7",
        "description-fr": "Que devient la cour ?",
        "description-en": "What should the courtyard become?",
        "category-0-code": "green",
        "category-0-label-fr": "Verdure",
        "category-0-label-en": "Greenery",
        "category-1-code": "play",
        "category-1-label-fr": "Jeux",
        "category-2-code": "",
        "location": "optional",
        "requires_approval": "y",
        "support_budget": "5",
        "supports_withdrawable": "y",
        "flag_threshold": "4",
        "edit_minutes": "30",
        "collecting_from": "2030-06-01T09:00",
        "supporting_from": "2030-07-01T09:00",
        "closes_at": "2030-07-31T18:00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- the board form -------------------------------------------------------------------------


def test_a_moderator_creates_a_board_with_every_language_side_by_side(
    as_person, db_session, campaign
):
    client = as_person("moderator")
    form = html(client.get(NEW))
    for name in (
        "title-fr",
        "title-en",
        "description-en",
        "category-0-code",
        "category-2-label-en",
    ):
        assert f'for="{name}"' in form, name
    assert '<option value="ideas">' in form
    assert "Europe/Paris" in form
    response = post_form(client, NEW, board_form())
    assert response.status_code == 303
    (board,) = _boards(db_session)
    assert response.location == _board_url(board)
    assert (board.status, board.campaign_id) == ("draft", campaign.id)
    assert board.title == {"fr": "Cour de l'îlot 7", "en": "Courtyard of block 7"}
    assert board.categories == [
        {"code": "green", "label": {"fr": "Verdure", "en": "Greenery"}},
        {"code": "play", "label": {"fr": "Jeux"}},
    ]
    assert (board.location, board.requires_approval, board.support_budget) == ("optional", True, 5)
    assert (board.supports_withdrawable, board.flag_threshold, board.edit_minutes) == (True, 4, 30)
    # Typed on Lyon's clock (summer time, UTC+2), stored in UTC.
    assert board.collecting_from.replace(tzinfo=UTC) == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)
    assert board.closes_at.replace(tzinfo=UTC) == datetime(2030, 7, 31, 16, 0, tzinfo=UTC)
    page = html(client.get(response.location))
    assert "The board is saved as a draft." in page
    assert "6/1/30, 9:00" in page  # shown on the city's clock again
    # The English label of "play" is missing, and the page says so.
    edit = html(client.get(_board_url(board, "/edit")))
    english = edit.split('for="category-1-label-en"', 1)[1].split("</label>", 1)[0]
    assert '<span class="badge badge-missing">' in english


def test_an_empty_budget_means_no_limit(as_person, db_session, campaign):
    post_form(as_person("admin"), NEW, board_form(support_budget="", supports_withdrawable=None))
    (board,) = _boards(db_session)
    assert board.support_budget is None
    assert board.supports_withdrawable is False


@pytest.mark.parametrize(
    ("changes", "errors_id", "message"),
    [
        ({"title-fr": ""}, "title-errors", "A title in the city's main language is required."),
        ({"title-en": "x" * 201}, "title-errors", "Longer than the maximum length of 200."),
        ({"category-0-code": "Green!"}, "categories-errors", "Category codes use lower-case"),
        ({"category-1-code": "green"}, "categories-errors", "Two categories have the code green."),
        ({"category-1-label-fr": ""}, "categories-errors", "a label in the city's main language"),
        ({"location": "everywhere"}, "location-errors", "off, optional or required"),
        ({"flag_threshold": "0"}, "flag_threshold-errors", "Must be between 1 and 100."),
        ({"flag_threshold": ""}, "flag_threshold-errors", "This field is required."),
        ({"support_budget": "lots"}, "support_budget-errors", "Not a valid integer value."),
        ({"edit_minutes": "99999"}, "edit_minutes-errors", "Must be between 0 and 10080."),
        ({"collecting_from": "tomorrow"}, "collecting_from-errors", "Enter a valid date and time."),
        (
            {"supporting_from": "2030-05-01T09:00"},
            "supporting_from-errors",
            "The phases must follow each other",
        ),
        (
            {"collecting_from": "2030-03-31T02:30"},
            "collecting_from-errors",
            "because the clocks are put forward",
        ),
        ({"campaign": "nowhere"}, "campaign-errors", "Choose one of the city's campaigns."),
    ],
)
def test_mistakes_show_next_to_their_field_and_nothing_is_saved(
    as_person, db_session, campaign, changes, errors_id, message
):
    response = post_form(as_person("moderator"), NEW, board_form(**changes))
    assert response.status_code == 422
    page = html(response)
    assert f'id="{errors_id}"' in page
    assert message in unescape(page.split(f'id="{errors_id}"', 1)[1].split("</ul>", 1)[0])
    assert "Nothing is saved yet." in page
    assert 'value="Courtyard of block 7"' in page or changes.get("title-en")  # typed text kept
    assert _boards(db_session) == []


def test_an_archived_campaign_takes_no_new_board(as_person, db_session, make_campaign):
    make_campaign(slug="old", status="archived")
    page = html(as_person("moderator").get(NEW))
    assert 'value="old"' not in page
    response = post_form(as_person("moderator"), NEW, board_form(campaign="old"))
    assert response.status_code == 422
    assert _boards(db_session) == []


def test_editing_changes_texts_and_settings(as_person, db_session, board):
    client = as_person("moderator")
    form = html(client.get(_board_url(board, "/edit")))
    assert 'value="Courtyard of block 7"' in form
    assert 'name="campaign"' not in form  # a board stays in its campaign
    changes = board_form(**{"title-en": "The courtyard", "flag_threshold": "2", "campaign": None})
    changes |= {"collecting_from": "", "supporting_from": "", "closes_at": ""}
    response = post_form(client, _board_url(board, "/edit"), changes)
    assert response.status_code == 303
    (saved,) = _boards(db_session)
    assert saved.title["en"] == "The courtyard"
    assert (saved.flag_threshold, saved.support_budget) == (2, 5)
    assert "Your changes are saved." in html(client.get(response.location))


def test_a_category_that_ideas_use_cannot_be_removed(as_person, db_session, board, people):
    client = as_person("moderator")
    with_category = board_form(campaign=None, collecting_from="", supporting_from="", closes_at="")
    assert post_form(client, _board_url(board, "/edit"), with_category).status_code == 303
    post(db_session, people["resident"], board, category="green")
    db_session.commit()
    without = {**with_category, "category-0-code": "", "category-0-label-fr": ""}
    without["category-0-label-en"] = ""
    response = post_form(client, _board_url(board, "/edit"), without)
    assert response.status_code == 422
    assert "Ideas use the categories green: they cannot be removed." in html(response)
    assert [c["code"] for c in _boards(db_session)[0].categories] == ["green", "play"]


def test_voting_rules_are_shown_read_only_once_supporting_started(
    as_person, db_session, board, people
):
    boards.update_board(db_session, people["platform_admin"], board, support_budget=3)
    boards.set_phase(db_session, people["platform_admin"], board, "supporting")
    db_session.commit()
    client = as_person("moderator")
    form = html(client.get(_board_url(board, "/edit")))
    assert "Supporting started on" in form
    assert 'name="support_budget"' not in form
    assert 'name="supports_withdrawable"' not in form
    # A form sent anyway (an old tab) changes the rest, never the voting rules.
    changes = board_form(campaign=None, support_budget="50", supports_withdrawable=None)
    changes |= {"collecting_from": "", "supporting_from": "", "closes_at": "", "title-en": "New"}
    response = post_form(client, _board_url(board, "/edit"), changes)
    assert response.status_code == 303
    (saved,) = _boards(db_session)
    assert (saved.support_budget, saved.supports_withdrawable, saved.title["en"]) == (
        3,
        True,
        "New",
    )


# --- publishing and phases ------------------------------------------------------------------


def test_a_draft_is_published_in_the_phase_its_times_say(as_person, db_session, people, campaign):
    draft = boards.create_board(
        db_session, people["platform_admin"], campaign, title={"fr": "Brouillon"}
    )
    db_session.commit()
    client = as_person("moderator")
    page = html(client.get(_board_url(draft)))
    assert "Not published yet" in page and "/publish" in page
    response = post_form(client, _board_url(draft, "/publish"))
    assert response.status_code == 303
    (saved,) = _boards(db_session)
    assert (saved.status, saved.phase) == ("published", "upcoming")
    assert "The board is published: Not started yet." in html(client.get(response.location))


def test_a_board_of_a_draft_campaign_waits_for_its_campaign(
    as_person, db_session, people, make_campaign
):
    campaign = make_campaign(slug="later")
    draft = boards.create_board(db_session, people["platform_admin"], campaign, title={"fr": "T"})
    db_session.commit()
    client = as_person("moderator")
    response = post_form(client, _board_url(draft, "/publish"))
    assert response.status_code == 303
    assert "Publish the campaign first" in html(client.get(response.location))
    assert _boards(db_session)[0].status == "draft"


def test_the_phase_is_switched_by_hand(as_person, db_session, board):
    client = as_person("moderator")
    response = post_form(client, _board_url(board, "/phase"), {"phase": "supporting"})
    assert response.status_code == 303
    (saved,) = _boards(db_session)
    assert saved.phase == "supporting" and saved.voting_started_at is not None
    assert "The board is now in the phase: Supporting ideas." in html(client.get(response.location))


@pytest.mark.parametrize(
    ("phase", "message"),
    [
        ("voting", "Not a phase of a board."),
        ("upcoming", "The board&#39;s times put it in a later phase already"),
    ],
)
def test_a_phase_the_board_cannot_take_is_refused(
    as_person, db_session, board, people, phase, message
):
    boards.update_board(
        db_session, people["platform_admin"], board, collecting_from=datetime(2020, 1, 1)
    )
    db_session.commit()
    client = as_person("moderator")
    response = post_form(client, _board_url(board, "/phase"), {"phase": phase})
    assert response.status_code == 303
    assert message in html(client.get(response.location))
    assert _boards(db_session)[0].phase == "collecting"


# --- lists ----------------------------------------------------------------------------------


def test_the_list_shows_phase_and_counts(as_person, db_session, board, people, make_person):
    idea = post(db_session, people["resident"], board, "Un potager partagé")
    other = post(db_session, people["resident"], board, "Des bancs à l'ombre")
    remark = comment(db_session, people["resident"], other, "Je précise.")
    boards.set_phase(db_session, people["platform_admin"], board, "supporting")
    supports.support_idea(db_session, people["staff"], idea, utcnow())
    supports.support_idea(db_session, people["researcher"], idea, utcnow())
    supports.support_idea(db_session, people["researcher"], other, utcnow())
    flags.flag(db_session, people["staff"], remark, "spam", None, utcnow())
    db_session.commit()
    page = html(as_person("staff").get(BOARDS))
    row = page.split(f'href="{_board_url(board)}"', 1)[1].split("</tr>", 1)[0]
    cells = [cell.split(">", 1)[1].split("<", 1)[0] for cell in row.split("<td")[1:]]
    assert "Supporting ideas" in row
    assert cells[3:5] == ["2", "3"]  # ideas, supports
    assert '<span class="badge badge-missing">1</span>' in row  # the flagged comment
    assert "New board" not in page  # staff read boards; moderators make them


def test_a_boards_ideas_by_state_sorted_searched_and_in_pages(as_person, db_session, board, people):
    resident = people["resident"]
    ideas = [post(db_session, resident, board, f"Idée numéro {n:02d}") for n in range(27)]
    boards.set_phase(db_session, people["platform_admin"], board, "supporting")
    supports.support_idea(db_session, people["staff"], ideas[3], utcnow())
    service.withdraw_idea(db_session, resident, ideas[0])
    db_session.commit()
    client = as_person("moderator")
    page = html(client.get(_board_url(board)))
    assert 'aria-current="page">Published <span class="count">26</span>' in page
    assert 'Withdrawn by its author <span class="count">1</span>' in page
    assert "Page 1 of 2" in page and "Idée numéro 26" in page and "Idée numéro 01" not in page
    second = html(client.get(_board_url(board, "?page=2")))
    assert "Idée numéro 01" in second and "Idée numéro 26" not in second
    supported = html(client.get(_board_url(board, "?sort=most_supported")))
    assert supported.index("Idée numéro 03") < supported.index("Idée numéro 26")
    found = html(client.get(_board_url(board, "?q=numéro 1")))
    assert "Idée numéro 12" in found and "Idée numéro 21" not in found
    by_number = html(client.get(_board_url(board, f"?q=%23{ideas[21].id}")))
    assert "Idée numéro 21" in by_number and "Idée numéro 12" not in by_number
    withdrawn = html(client.get(_board_url(board, "?state=withdrawn")))
    assert "Idée numéro 00" in withdrawn and "Idée numéro 01" not in withdrawn
    nothing = html(client.get(_board_url(board, "?q=%25")))
    assert "No idea in this state matches your search." in nothing


@pytest.mark.parametrize(
    "query",
    [
        "?state=deleted",
        "?sort=password",
        "?sort=id%20desc",
        "?page=0",
        "?page=abc",
        "?q=" + "x" * 201,
    ],
)
def test_lists_refuse_what_they_do_not_offer(as_person, board, query):
    assert as_person("moderator").get(_board_url(board, query)).status_code == 400


def test_another_citys_board_is_not_found_even_under_ones_own_city(as_person, board):
    client = as_person("other_moderator")
    assert client.get(f"/console/vienna/boards/{board.id}").status_code == 404
    assert client.get(f"/console/vienna/boards/{2**40}").status_code == 404


# --- an idea's page -------------------------------------------------------------------------


XSS_TITLE = '<script>window.__xss = 1</script> "quoted"'


def test_an_ideas_page_shows_its_text_people_and_thread(as_person, db_session, board, people):
    resident = people["resident"]
    boards.update_board(
        db_session,
        people["platform_admin"],
        board,
        location="optional",
        categories=[{"code": "green", "label": {"fr": "Verdure", "en": "Greenery"}}],
    )
    body = "Des **bacs** pour *tous*.\n\n- un\n- deux\n\n[plan](https://example.org/plan) <img>"
    idea = post(
        db_session,
        resident,
        board,
        XSS_TITLE,
        body,
        category="green",
        latitude=45.7578,
        longitude=4.832,
    )
    first = comment(db_session, resident, idea, "Premier commentaire")
    comment(db_session, resident, idea, "Une réponse", parent_id=first.id)
    gone = comment(db_session, resident, idea, "Texte effacé")
    hidden = comment(db_session, resident, idea, "Texte caché")
    comments.delete_comment(db_session, resident, gone)
    for person in (people["staff"], people["researcher"], people["admin"]):
        flags.flag(db_session, person, hidden, "offensive", "Grossier", utcnow())
    flags.flag(db_session, people["staff"], idea, "duplicate", "Voir l'idée 1", utcnow())
    db_session.commit()
    page = html(as_person("moderator").get(_idea_url(idea)))
    assert "<script>window.__xss" not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt; &#34;quoted&#34;" in page
    assert "<strong>bacs</strong>" in page and "<em>tous</em>" in page and "<li>deux</li>" in page
    assert '<a href="https://example.org/plan" rel="noopener noreferrer">plan</a>' in page
    assert "<img" not in page.split('id="text-heading"', 1)[1].split("</section>", 1)[0]
    assert "Greenery" in page and "45.75780, 4.83200" in page
    assert "Resident" in page
    assert "Premier commentaire" in page and "Une réponse" in page
    assert "Texte effacé" not in page and "Deleted by its author" in page
    assert "Texte caché" in page and "Hidden after flags, waiting for a moderator." in page
    assert "Offensive \u00d7 3" in page
    assert "Duplicate" in page and "Voir l&#39;idée 1" in page


def test_an_author_whose_account_is_gone_is_a_deleted_participant(
    as_person, db_session, board, people
):
    idea = post(db_session, people["resident"], board)
    idea.author_id = None
    db_session.commit()
    assert "deleted participant" in html(as_person("moderator").get(_idea_url(idea)))


def test_staff_read_an_idea_but_do_not_moderate_it(as_person, db_session, board, people):
    idea = post(db_session, people["resident"], board)
    db_session.commit()
    page = html(as_person("staff").get(_idea_url(idea)))
    assert "Set the official status" in page
    assert "/decide" not in page and "/mute" not in page and "/merge" not in page
    assert as_person("researcher").get(_idea_url(idea)).status_code == 403
    assert as_person("other_moderator").get(_idea_url(idea)).status_code == 404


# --- the city's answer ----------------------------------------------------------------------


def _supported(db_session, board, people, make_person):
    """An idea of a French-reading author, supported by an English reader."""
    author = make_person(people["admin"].city, "autrice@lyon.example", locale="fr")
    reader = make_person(people["admin"].city, "reader@lyon.example", locale="en")
    idea = post(db_session, author, board)
    boards.set_phase(db_session, people["platform_admin"], board, "supporting")
    supports.support_idea(db_session, reader, idea, utcnow())
    db_session.commit()
    return idea, author, reader


def test_staff_accept_an_idea_with_a_response_in_two_languages(
    as_person, db_session, board, people, make_person
):
    idea, author, reader = _supported(db_session, board, people, make_person)
    client = as_person("staff")
    response = post_form(
        client,
        _idea_url(idea, "/answer"),
        {
            "status": "accepted",
            "response-fr": "Nous installerons des **bacs** au printemps.",
            "response-en": "We will put planters in next spring.",
        },
    )
    assert response.status_code == 303
    assert response.location == _idea_url(idea) + "#history"
    db_session.expire_all()
    (change,) = db_session.scalars(sa.select(IdeaStatusChange)).all()
    assert (change.status, change.actor_id) == ("accepted", people["staff"].id)
    page = html(client.get(_idea_url(idea)))
    assert "is now “Accepted”" in page
    history = page.split('id="history"', 1)[1]
    assert "<strong>bacs</strong>" in history and "next spring" in history
    notes = {
        n.user_id: n
        for n in db_session.scalars(
            sa.select(Notification).where(Notification.kind == "idea.status_changed")
        )
    }
    assert set(notes) == {author.id, reader.id}
    assert notes[author.id].locale == "fr" and "printemps" in notes[author.id].body_text
    assert notes[reader.id].locale == "en" and "next spring" in notes[reader.id].body_text


def test_a_response_missing_a_language_is_saved_and_marked(
    as_person, db_session, board, people, make_person
):
    idea, _author, _reader = _supported(db_session, board, people, make_person)
    client = as_person("moderator")
    response = post_form(
        client, _idea_url(idea, "/answer"), {"status": "under_review", "response-fr": "On regarde."}
    )
    assert response.status_code == 303
    page = html(client.get(_idea_url(idea)))
    assert "not written in every language of the city yet" in page
    english = page.split('id="history"', 1)[1].split("English", 1)[1].split("</p>", 1)[0]
    assert "badge-missing" in english


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "maybe", "response-fr": "Peut-être"}, "Must be one of"),
        ({"status": "accepted", "response-fr": "x" * 5001}, "Longer than the maximum length"),
    ],
)
def test_a_wrong_answer_is_shown_again_and_nothing_is_saved(
    as_person, db_session, board, people, data, message
):
    idea = post(db_session, people["resident"], board)
    db_session.commit()
    response = post_form(as_person("staff"), _idea_url(idea, "/answer"), data)
    assert response.status_code == 422
    page = html(response)
    assert message in page and "Nothing is saved yet." in page
    assert data["response-fr"][:20] in page  # what was typed stays
    db_session.expire_all()
    assert db_session.scalars(sa.select(IdeaStatusChange)).all() == []
    assert db_session.get(Idea, idea.id).official_status is None


def test_only_published_ideas_are_answered(as_person, db_session, board, people):
    idea = post(db_session, people["resident"], board)
    service.withdraw_idea(db_session, people["resident"], idea)
    db_session.commit()
    client = as_person("staff")
    assert "Set the official status" not in html(client.get(_idea_url(idea)))
    response = post_form(client, _idea_url(idea, "/answer"), {"status": "accepted"})
    assert response.status_code == 303
    assert "Only published ideas can be answered." in html(client.get(response.location))


# --- the city's area ------------------------------------------------------------------------


EDIT_CITY = "/console/cities/lyon/edit"
CITY = {
    "name": "Lyon",
    "timezone": "Europe/Paris",
    "default_locale": "fr",
    "enabled_locales": ["fr", "en"],
}
AREA = {"south": "45.70", "west": "4.77", "north": "45.81", "east": "4.90"}


def _bounds(db_session):
    db_session.expire_all()
    return db_session.scalar(sa.select(City.bounds).where(City.slug == "lyon"))


def test_the_citys_area_keeps_idea_locations_inside(as_person, db_session, board, people):
    client = as_person("platform_admin")
    assert 'for="south"' in html(client.get(EDIT_CITY))
    response = post_form(client, EDIT_CITY, {**CITY, **AREA})
    assert response.status_code == 303
    assert _bounds(db_session) == [45.70, 4.77, 45.81, 4.90]
    assert 'value="45.81"' in html(client.get(EDIT_CITY))
    boards.update_board(db_session, people["platform_admin"], board, location="optional")
    db_session.commit()
    with pytest.raises(Invalid) as refused:
        post(db_session, people["resident"], board, latitude=48.85, longitude=2.35)  # Paris
    assert refused.value.errors == {"latitude": ["This place is outside the city."]}
    db_session.rollback()
    assert post(db_session, people["resident"], board, latitude=45.76, longitude=4.83).latitude
    # Leaving all four empty accepts any place again.
    response = post_form(client, EDIT_CITY, {**CITY, **dict.fromkeys(AREA, "")})
    assert response.status_code == 303
    assert _bounds(db_session) is None


@pytest.mark.parametrize(
    ("area", "where", "message"),
    [
        ({"east": ""}, "area-errors", "Enter all four edges of the area, or none."),
        ({"south": "46", "north": "45"}, "north-errors", "north of the south edge"),
        ({"west": "5", "east": "4"}, "east-errors", "east of the west edge"),
        ({"north": "91"}, "north-errors", "Between -90 and 90 degrees."),
        ({"west": "-181"}, "west-errors", "Between -180 and 180 degrees."),
        ({"south": "nan"}, "south-errors", "Between -90 and 90 degrees."),
        ({"east": "east"}, "east-errors", "Not a valid float value."),
    ],
)
def test_a_wrong_area_is_refused_and_nothing_changes(as_person, db_session, area, where, message):
    response = post_form(as_person("platform_admin"), EDIT_CITY, {**CITY, **AREA, **area})
    assert response.status_code == 422
    page = html(response)
    assert message in unescape(page.split(f'id="{where}"', 1)[1].split("</ul>", 1)[0])
    assert _bounds(db_session) is None


def test_a_refused_board_form_stays_labelled(as_person, campaign):
    response = post_form(
        as_person("moderator"), NEW, board_form(**{"title-fr": "", "edit_minutes": "x"})
    )
    assert response.status_code == 422
    audit = page_audit(html(response))
    assert [c for c in audit.controls if c.get("id") not in audit.labels] == []
    assert any(c.get("aria-invalid") == "true" for c in audit.controls)
    assert audit.h1 == 1 and audit.inline_scripts == 0 and audit.styled == []
