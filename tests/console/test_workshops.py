"""Workshops in the console: the list with fill levels, the form with every language side by
side, publishing, changing the time, cancelling and completing, and who may do it."""

from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.models import User
from campaigns.models import Campaign
from notifications.models import Notification
from tests.console import workshop_helpers
from tests.console.helpers import html, post_form
from tests.console.workshop_helpers import form_values, get, in_app, make_workshop, register_all
from workshops.models import Workshop

PARIS = ZoneInfo("Europe/Paris")
#: The operator, the campaign and a resident, as the workshop fixture reads them.
WORLD = (User, Campaign, User)

# The published campaign "atelier" of Lyon the workshops are on.
campaign = workshop_helpers.campaign

WORKSHOPS = "/console/lyon/workshops"
NEW = f"{WORKSHOPS}/new"


@pytest.fixture
def workshop(app, people, campaign):
    """A published 3-seat workshop in a week, with two residents on seats."""
    ids = people["platform_admin"].id, campaign.id, people["resident"].id
    with in_app(app) as session:
        operator, campaign_, resident = (
            get(session, m, i) for m, i in zip(WORLD, ids, strict=True)
        )
        made = make_workshop(session, operator, campaign_)
        register_all(session, made, [resident])
        return made.id


def _url(workshop_id: int, suffix: str = "") -> str:
    return f"{WORKSHOPS}/{workshop_id}{suffix}"


def _workshops(db_session) -> list[Workshop]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Workshop).order_by(Workshop.id)))


def workshop_form(**changes) -> dict:
    """A complete workshop form for Lyon (fr, en); ``None`` leaves a field out."""
    data = {
        "campaign": "atelier",
        "title-fr": "Dessinons la cour",
        "title-en": "Designing the courtyard",
        "description-fr": "Un atelier **ouvert** à tous.",
        "agenda-fr": "1. Visite\n2. Plans",
        "accessibility-fr": "Accès de plain-pied",
        "accessibility-en": "Step-free access",
        "starts_at": "2030-03-30T18:00",
        "ends_at": "2030-03-30T20:30",
        "registration_closes_at": "2030-03-29T12:00",
        "capacity": "20",
        "address": "12 rue de la République, 69002 Lyon",
        "latitude": "45,7640",
        "longitude": "4.8357",
        "online_url": "",
        "reminder_hours": "24, 2",
        "question-0-code": "diet",
        "question-0-label-fr": "Régime alimentaire",
        "question-0-label-en": "Diet",
        "question-0-required": "1",
        "question-0-choices-fr": "vegan = Végétalien\r\nnone = Aucun",
        "question-0-choices-en": "vegan = Vegan\r\nnone = None",
        "question-1-code": "access",
        "question-1-label-fr": "Besoins d'accès",
        "question-2-code": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- the form -------------------------------------------------------------------------------


def test_a_moderator_creates_a_workshop_with_every_language_side_by_side(
    as_person, db_session, campaign
):
    client = as_person("moderator")
    page = html(client.get(NEW))
    for name in ("title-fr", "title-en", "agenda-en", "accessibility-fr", "question-0-label-en"):
        assert f'name="{name}"' in page
    assert 'type="datetime-local"' in page and 'value="24, 2"' in page

    response = post_form(client, NEW, workshop_form(), page=NEW)
    assert response.status_code == 303, html(response)
    (made,) = _workshops(db_session)
    assert response.location.endswith(f"/workshops/{made.id}")
    assert made.status == "draft"
    assert made.title == {"fr": "Dessinons la cour", "en": "Designing the courtyard"}
    assert made.accessibility == {"fr": "Accès de plain-pied", "en": "Step-free access"}
    # Typed on Lyon's clock, the day before the clocks go forward: UTC+1.
    assert made.starts_at == datetime(2030, 3, 30, 17, 0, tzinfo=UTC)
    assert made.ends_at == datetime(2030, 3, 30, 19, 30, tzinfo=UTC)
    assert made.registration_closes_at == datetime(2030, 3, 29, 11, 0, tzinfo=UTC)
    assert made.registration_opens_at is None
    assert (made.capacity, made.latitude, made.longitude) == (20, 45.764, 4.8357)
    assert made.reminder_hours == [24, 2]
    assert made.questions == [
        {
            "code": "diet",
            "label": {"fr": "Régime alimentaire", "en": "Diet"},
            "required": True,
            "choices": [
                {"code": "vegan", "label": {"fr": "Végétalien", "en": "Vegan"}},
                {"code": "none", "label": {"fr": "Aucun", "en": "None"}},
            ],
        },
        {"code": "access", "label": {"fr": "Besoins d'accès"}, "required": False},
    ]
    shown = html(client.get(response.location))
    assert "Designing the courtyard" in shown and "Step-free access" in shown
    assert "<strong>ouvert</strong>" in shown  # the description's markdown, rendered
    assert "Vegan" in shown and "24 hours before" in shown

    # The edit form shows what was saved, times on the city's clock.
    edit = unescape(html(client.get(_url(made.id, "/edit"))))
    assert 'value="2030-03-30T18:00"' in edit and 'value="45.764"' in edit
    assert "vegan = Végétalien\nnone = Aucun" in edit


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"starts_at": "tomorrow"}, "starts_at", "Enter a valid date and time."),
        ({"ends_at": ""}, "ends_at", "Enter when the workshop ends."),
        ({"ends_at": "2030-03-30T17:00"}, "ends_at", "The workshop must end after it starts."),
        (
            {"starts_at": "2030-03-31T02:30", "ends_at": "2030-03-31T04:00"},
            "starts_at",
            "because the clocks are put forward then",
        ),
        ({"capacity": ""}, "capacity", "Enter how many seats the workshop has."),
        ({"capacity": "0"}, "capacity", "Must be between 1 and 10000."),
        ({"reminder_hours": "24h"}, "reminder_hours", "Write whole hours separated by commas"),
        ({"reminder_hours": "24, 24"}, "reminder_hours", "Up to 5 different numbers of hours"),
        ({"latitude": "north"}, "latitude", "Enter a number such as 45.7640."),
        ({"longitude": ""}, "longitude", "Give both latitude and longitude."),
        ({"online_url": "http://meet.example.org"}, "online_url", "Use an https:// address"),
        ({"title-fr": ""}, "title", ""),
        ({"question-0-choices-fr": "vegan Végétalien"}, "questions", "as code = label"),
        ({"question-1-code": "Access!"}, "questions", "Question 2: Codes use lower-case"),
        ({"campaign": "elsewhere"}, "campaign", "Choose one of the city's campaigns."),
    ],
)
def test_mistakes_show_next_to_their_field_and_nothing_is_saved(
    as_person, db_session, campaign, changes, field, message
):
    client = as_person("moderator")
    response = post_form(client, NEW, workshop_form(**changes), page=NEW)
    assert response.status_code == 422
    page = unescape(html(response))
    assert "Nothing is saved yet" in page
    assert message in page
    if field not in ("title", "questions"):
        assert f'id="{field}-errors"' in page
    assert _workshops(db_session) == []
    # What was typed comes back.
    assert "Designing the courtyard" in page or field == "title"


def test_an_archived_campaign_takes_no_new_workshop(as_person, db_session, make_campaign):
    make_campaign(slug="old", status="archived")
    client = as_person("moderator")
    response = post_form(client, NEW, workshop_form(campaign="old"), page=NEW)
    assert response.status_code == 422
    assert _workshops(db_session) == []


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_upcoming_and_past_workshops_with_their_fill_level(
    app, as_person, db_session, people, campaign, workshop, make_person, lyon
):
    others = [make_person(lyon, f"n{i}@lyon.example") for i in range(3)]
    db_session.commit()
    ids = [p.id for p in others]
    operator_id, campaign_id = people["platform_admin"].id, campaign.id
    with in_app(app) as session:
        full = get(session, Workshop, workshop)
        register_all(session, full, [get(session, User, i) for i in ids])
    with in_app(app) as session:
        past = make_workshop(
            session,
            get(session, User, operator_id),
            get(session, Campaign, campaign_id),
            title={"fr": "Atelier passé"},
        )
        # Held three days ago (moved straight in the database: the service refuses the past).
        past.starts_at = utcnow() - timedelta(days=3)
        past.ends_at = past.starts_at + timedelta(hours=2)
    client = as_person("moderator")
    page = html(client.get(WORKSHOPS))
    assert "Courtyard workshop" in page and "Atelier passé" not in page
    assert "3 / 3 seats, 1 waiting" in page
    assert 'max="3" value="3"' in page
    assert 'Upcoming <span class="count">1</span>' in page
    past_page = html(client.get(f"{WORKSHOPS}?when=past"))
    assert "Atelier passé" in past_page and "Courtyard workshop" not in past_page
    assert "0 checked in" in past_page
    assert client.get(f"{WORKSHOPS}?when=tomorrow").status_code == 400
    assert client.get(f"{WORKSHOPS}?page=0").status_code == 400
    # The city's bar links to the list.
    assert f'href="{WORKSHOPS}" aria-current="page">Workshops</a>' in page


def test_the_workshop_page_shows_its_state_place_and_questions(as_person, workshop):
    page = html(as_person("moderator").get(_url(workshop)))
    assert "Courtyard workshop" in page and "Published" in page
    assert "12 rue de la République" in page
    assert "1 / 3 seats" in page
    assert "Régime alimentaire" not in page and "Diet" in page  # the reader's language
    for suffix in ("/participants", "/checkin", "/outcomes", "/edit", "/cancel"):
        assert f'href="{_url(workshop, suffix)}"' in page


# --- changing it ----------------------------------------------------------------------------


def test_a_draft_is_published(app, as_person, db_session, people, campaign):
    operator_id, campaign_id = people["platform_admin"].id, campaign.id
    with in_app(app) as session:
        operator, campaign_ = get(session, User, operator_id), get(session, Campaign, campaign_id)
        draft_id = make_workshop(session, operator, campaign_, publish=False).id
    client = as_person("moderator")
    response = post_form(client, _url(draft_id, "/publish"), page=_url(draft_id))
    assert response.status_code == 303
    assert get(db_session, Workshop, draft_id).status == "published"
    assert "residents can register" in html(client.get(response.location))
    again = post_form(client, _url(draft_id, "/publish"), page=_url(draft_id))
    assert "Only a draft can be published." in html(client.get(again.location))


def test_moving_a_published_workshop_tells_everyone_registered(
    app, as_person, db_session, workshop
):
    client = as_person("moderator")
    before = get(db_session, Workshop, workshop)
    sequence, told = before.ical_sequence, _told(db_session, "workshop.changed")
    form = _edit_form(client, workshop)
    later = before.starts_at + timedelta(days=1)
    form["starts_at"] = later.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
    form["ends_at"] = (later + timedelta(hours=2)).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
    response = post_form(client, _url(workshop, "/edit"), form, page=_url(workshop, "/edit"))
    assert response.status_code == 303, html(response)
    after = get(db_session, Workshop, workshop)
    assert after.starts_at == later and after.ical_sequence == sequence + 1
    assert _told(db_session, "workshop.changed") == told + 1
    assert "Everyone registered is told" in html(client.get(response.location))


def test_the_capacity_cannot_drop_below_the_seats_taken(as_person, db_session, workshop):
    client = as_person("moderator")
    form = _edit_form(client, workshop) | {"capacity": "0", "title-en": "Changed"}
    response = post_form(client, _url(workshop, "/edit"), form, page=_url(workshop, "/edit"))
    assert response.status_code == 422
    assert 'id="capacity-errors"' in html(response)
    saved = get(db_session, Workshop, workshop)
    assert (saved.capacity, saved.title["en"]) == (3, "Courtyard workshop")


def test_cancelling_asks_first_and_tells_everyone_with_the_reason(as_person, db_session, workshop):
    client = as_person("moderator")
    page = html(client.get(_url(workshop, "/cancel")))
    assert "Cancel the workshop?" in page and 'name="reason"' in page
    assert get(db_session, Workshop, workshop).status == "published"
    response = post_form(
        client, _url(workshop, "/cancel"), {"reason": "La salle est fermée."}, page=_url(workshop)
    )
    assert response.status_code == 303
    assert get(db_session, Workshop, workshop).status == "cancelled"
    (told,) = db_session.scalars(
        sa.select(Notification).where(Notification.kind == "workshop.changed")
    ).all()
    assert "La salle est fermée." in told.body_text
    # Nothing is offered on a cancelled workshop but reading it.
    shown = html(client.get(response.location))
    assert "Cancel the workshop…" not in shown and f'{_url(workshop, "/edit")}"' not in shown
    again = client.get(_url(workshop, "/cancel"))
    assert "Only a draft or a published workshop can be cancelled." in html(again)


def test_a_reason_longer_than_anyone_writes_is_refused(as_person, db_session, workshop):
    client = as_person("moderator")
    response = post_form(client, _url(workshop, "/cancel"), {"reason": "x" * 2001}, _url(workshop))
    assert response.status_code == 400
    assert get(db_session, Workshop, workshop).status == "published"


def test_a_workshop_is_completed_once_it_started(app, as_person, db_session, workshop):
    client = as_person("moderator")
    early = post_form(client, _url(workshop, "/complete"), page=_url(workshop))
    assert "has not started yet" in html(client.get(early.location))
    assert get(db_session, Workshop, workshop).status == "published"
    with in_app(app) as session:
        started = get(session, Workshop, workshop)
        started.starts_at = utcnow() - timedelta(minutes=5)
    response = post_form(client, _url(workshop, "/complete"), page=_url(workshop))
    assert response.location.endswith(_url(workshop, "/outcomes"))
    assert get(db_session, Workshop, workshop).status == "completed"


# --- who may ---------------------------------------------------------------------------------


def test_another_citys_workshop_is_not_found_even_under_ones_own_city(as_person, workshop):
    client = as_person("other_moderator")
    assert client.get(_url(workshop)).status_code == 404
    assert client.get(f"/console/vienna/workshops/{workshop}").status_code == 404
    staff = as_person("staff")
    assert staff.get(_url(workshop)).status_code == 403
    assert staff.get(WORKSHOPS).status_code == 403
    assert "Workshops</a>" not in html(staff.get("/console/lyon/campaigns"))


def test_every_workshop_form_needs_its_csrf_token(as_person, db_session, workshop):
    client = as_person("moderator")
    before = get(db_session, Workshop, workshop).status
    for suffix in ("/publish", "/cancel", "/complete", "/edit"):
        response = client.post(_url(workshop, suffix), data={"csrf_token": "forged"})
        assert response.status_code == 400, suffix
    assert client.post(NEW, data=workshop_form()).status_code == 400
    assert get(db_session, Workshop, workshop).status == before
    assert len(_workshops(db_session)) == 1


# --- helpers ---------------------------------------------------------------------------------


def _told(db_session, kind: str) -> int:
    return db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.kind == kind)
    )


def _edit_form(client, workshop_id: int) -> dict:
    """The edit form as the browser would send it back unchanged."""
    return form_values(html(client.get(_url(workshop_id, "/edit"))))


def test_only_the_texts_of_a_workshop_that_is_over_are_corrected(
    app, as_person, db_session, workshop
):
    with in_app(app) as session:
        over = get(session, Workshop, workshop)
        over.status = "completed"
    client = as_person("moderator")
    page = html(client.get(_url(workshop, "/edit")))
    assert "Only its texts can still be corrected." in page
    assert 'name="starts_at"' not in page and 'name="question-0-code"' not in page
    form = _edit_form(client, workshop) | {"title-en": "Courtyard workshop (held)"}
    response = post_form(client, _url(workshop, "/edit"), form, page=_url(workshop, "/edit"))
    assert response.status_code == 303, html(response)
    saved = get(db_session, Workshop, workshop)
    assert saved.title["en"] == "Courtyard workshop (held)" and saved.capacity == 3


def test_a_cancelled_workshop_is_not_edited(as_person, db_session, workshop):
    client = as_person("moderator")
    post_form(client, _url(workshop, "/cancel"), {"reason": ""}, page=_url(workshop))
    response = client.get(_url(workshop, "/edit"))
    assert response.status_code == 303
    assert "A cancelled workshop cannot be changed." in html(client.get(response.location))
    posted = post_form(client, _url(workshop, "/edit"), {"title-fr": "x"}, page=_url(workshop))
    assert posted.status_code == 303
    assert get(db_session, Workshop, workshop).title["fr"] == "Atelier de la cour"
