"""Checking people in at a workshop's door: by name, by the code typed, by the QR code's text;
once only, and undone when it was a mistake."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import User
from campaigns.models import Campaign
from tests.console import workshop_helpers
from tests.console.helpers import html, post_form
from tests.console.workshop_helpers import get, in_app, make_workshop, named_people, registration_of
from workshops import registrations
from workshops.checkin import display_code
from workshops.models import Registration, Workshop

# The published campaign "atelier" of Lyon the workshop is on.
campaign = workshop_helpers.campaign
NAMES = {"amelie": "Amélie Martin", "bruno": "Bruno Petit", "chloe": "Chloé Durand"}


@pytest.fixture
def world(app, db_session, people, campaign, make_person, lyon):
    """A 2-seat workshop starting in half an hour (check-in is open): Amélie and Bruno hold
    the seats, Chloé waits."""
    ids = named_people(db_session, make_person, lyon, NAMES)
    operator_id, campaign_id = people["platform_admin"].id, campaign.id
    with in_app(app) as session:
        workshop = make_workshop(
            session,
            get(session, User, operator_id),
            get(session, Campaign, campaign_id),
            starts_in=timedelta(minutes=30),
            capacity=2,
        )
        for key in NAMES:
            registrations.register(session, get(session, User, ids[key]), workshop)
        ids["workshop"] = workshop.id
    return ids


def _url(world, suffix="") -> str:
    return f"/console/lyon/workshops/{world['workshop']}/checkin{suffix}"


def test_the_door_lists_everyone_expected_with_counters(as_person, world):
    response = as_person("moderator").get(_url(world))
    assert response.status_code == 200
    page = html(response)
    assert page.index("Amélie Martin") < page.index("Bruno Petit") < page.index("Chloé Durand")
    assert "On the waitlist" in page  # Chloé may be let in at the door
    assert '<strong id="present-count">0</strong> checked in / <strong>2</strong>' in page
    assert 'aria-label="Check in Amélie Martin"' in page
    assert 'src="/console/static/workshop_checkin.js"' in page
    # The camera is allowed on this page only, for scanning QR codes.
    assert response.headers["Permissions-Policy"].startswith("camera=(self)")
    other = as_person("moderator").get(f"/console/lyon/workshops/{world['workshop']}")
    assert other.headers["Permissions-Policy"].startswith("camera=()")


def test_a_search_without_script_finds_people_by_name(as_person, world):
    page = html(as_person("moderator").get(_url(world, "?q=chlo")))
    assert "Chloé Durand" in page and "Amélie Martin" not in page
    nobody = html(as_person("moderator").get(_url(world, "?q=zoe")))
    assert "Nobody registered matches “zoe”." in nobody
    assert as_person("moderator").get(_url(world, "?q=" + "x" * 201)).status_code == 400


def test_checking_in_by_the_button_is_recorded_once(as_person, db_session, world):
    client = as_person("moderator")
    amelie = registration_of(db_session, world, "amelie")
    response = post_form(
        client, _url(world), {"registration_id": str(amelie.id), "q": "amé"}, page=_url(world)
    )
    assert response.status_code == 303
    assert response.location.endswith(f"/checkin?q=am%C3%A9#registration-{amelie.id}")
    first = registration_of(db_session, world, "amelie").checked_in_at
    assert first is not None
    page = html(client.get(_url(world)))
    assert "Amélie Martin is checked in." in page
    assert '<strong id="present-count">1</strong>' in page
    assert 'aria-label="Undo the check-in of Amélie Martin"' in page
    again = post_form(client, _url(world), {"registration_id": str(amelie.id)}, page=_url(world))
    assert "Amélie Martin: Already checked in at" in html(client.get(again.location))
    assert registration_of(db_session, world, "amelie").checked_in_at == first


@pytest.mark.parametrize("shape", ["typed", "lower-case with spaces", "qr"])
def test_checking_in_by_code_or_qr_payload(as_person, db_session, world, shape):
    client = as_person("moderator")
    bruno = registration_of(db_session, world, "bruno")
    shown = display_code(bruno.checkin_code)
    code = {
        "typed": shown,
        "lower-case with spaces": " " + shown.lower().replace("-", " ") + " ",
        "qr": f"LLW1:{world['workshop']}:{shown}",
    }[shape]
    response = post_form(client, _url(world), {"code": code}, page=_url(world))
    assert response.status_code == 303
    assert registration_of(db_session, world, "bruno").checked_in_at is not None
    assert "Bruno Petit is checked in." in html(client.get(response.location))


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Type the code the person shows, or scan it."),
        ("ZZZZ-ZZZZ", "No registration of this workshop has this code."),
        ("K7", "A code has 8 letters and digits"),
        ("LLW1:999999:ABCD-2345", "This code is for another workshop."),
    ],
)
def test_a_wrong_code_checks_nobody_in(as_person, db_session, world, code, message):
    client = as_person("moderator")
    response = post_form(client, _url(world), {"code": code}, page=_url(world))
    assert response.status_code == 303
    assert message in html(client.get(response.location))
    assert (
        db_session.scalar(sa.select(sa.func.count()).where(Registration.checked_in_at.is_not(None)))
        == 0
    )


def test_a_check_in_is_undone(as_person, db_session, world):
    client = as_person("moderator")
    chloe = registration_of(db_session, world, "chloe")
    post_form(client, _url(world), {"registration_id": str(chloe.id)}, page=_url(world))
    assert registration_of(db_session, world, "chloe").checked_in_at is not None
    response = post_form(client, _url(world, f"/{chloe.id}/undo"), page=_url(world))
    assert response.status_code == 303
    assert registration_of(db_session, world, "chloe").checked_in_at is None
    assert "The check-in of Chloé Durand is undone." in html(client.get(response.location))


def test_check_in_opens_two_hours_before_the_start(app, as_person, db_session, world):
    with in_app(app) as session:
        workshop = get(session, Workshop, world["workshop"])
        workshop.starts_at += timedelta(days=1)
        workshop.ends_at += timedelta(days=1)
    client = as_person("moderator")
    amelie = registration_of(db_session, world, "amelie")
    response = post_form(client, _url(world), {"registration_id": str(amelie.id)}, _url(world))
    assert "Check-in opens two hours before" in html(client.get(response.location))
    assert registration_of(db_session, world, "amelie").checked_in_at is None


def test_only_the_citys_moderators_check_people_in(as_person, db_session, world):
    amelie = registration_of(db_session, world, "amelie")
    for who, status in (("staff", 403), ("other_moderator", 404), ("researcher", 403)):
        client = as_person(who)
        assert client.get(_url(world)).status_code == status
        posted = post_form(client, _url(world), {"registration_id": str(amelie.id)})
        assert posted.status_code == status
    forged = as_person("moderator").post(
        _url(world), data={"registration_id": str(amelie.id), "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert registration_of(db_session, world, "amelie").checked_in_at is None
