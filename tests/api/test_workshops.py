"""Workshops through the API: the upcoming list, one workshop, registering with a waitlist.
Another city's workshops and drafts are not found, and nobody sees another person's
registration. (My workshops, calendars and the check-in code: test_workshop_mine.py.)"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from app.db import utcnow
from app.models import Role
from campaigns.models import CampaignFollow
from tests.api import workshop_fixtures
from tests.api.helpers import assert_problem
from tests.api.workshop_fixtures import (
    ONLINE,
    REGISTRATION_FIELDS,
    SUMMARY_FIELDS,
    count_registrations,
    mine,
    register,
)
from tests.surveys.helpers import published_campaign
from tests.workshops.helpers import published_workshop
from workshops.models import Registration, RegistrationStatus, WorkshopStatus

people, signed, vienna_workshop, workshop, workshop_of = (
    workshop_fixtures.people,
    workshop_fixtures.signed,
    workshop_fixtures.vienna_workshop,
    workshop_fixtures.workshop,
    workshop_fixtures.workshop_of,
)
PARIS = ZoneInfo("Europe/Paris")

DETAIL_FIELDS = SUMMARY_FIELDS | {
    "agenda",
    "registration_opens_at",
    "registration_closes_at",
    "questions",
    "registration",
    "online_url",
    "summary",
    "outcomes",
    "follow_up_survey_id",
}
PLACE_FIELDS = {"address", "latitude", "longitude", "accessibility"}


# --- the upcoming list ----------------------------------------------------------------------


def test_upcoming_workshops_of_my_city_in_my_language(
    client, signed, people, workshop, workshop_of, vienna_workshop, db_session
):
    now = utcnow()
    cancelled = workshop_of(
        status=WorkshopStatus.CANCELLED,
        starts_at=now + timedelta(days=9),
        ends_at=now + timedelta(days=9, hours=1),
    )
    workshop_of(status=WorkshopStatus.DRAFT)
    workshop_of(starts_at=now - timedelta(days=1), ends_at=now - timedelta(hours=22))
    db_session.commit()
    listed = client.get("/api/v1/workshops", headers=signed(people[0], **{"Accept-Language": "en"}))
    assert listed.status_code == 200
    body = listed.get_json()
    assert [w["id"] for w in body["items"]] == [workshop.id, cancelled.id]
    assert body["next_cursor"] is None
    item = body["items"][0]
    assert set(item) == SUMMARY_FIELDS and set(item["place"]) == PLACE_FIELDS
    assert (item["title"], item["language"]) == ("Courtyard workshop", "en")
    # No English description: the city's language, rendered like idea bodies.
    assert item["description"] == "<p>Dessinons la cour ensemble.</p>"
    assert item["place"] == {
        "address": "12 rue de la République, 69002 Lyon",
        "latitude": 45.76,
        "longitude": 4.83,
        "accessibility": "Step-free access",
    }
    assert (item["online"], item["capacity"], item["seats_left"], item["waitlist_length"]) == (
        True,
        20,
        20,
        0,
    )
    assert (item["registration_open"], item["status"], item["my_status"]) == (
        True,
        "published",
        None,
    )
    assert "online_url" not in item
    # Times carry the offset of the city's zone, and name the same instant.
    starts = datetime.fromisoformat(item["starts_at"])
    assert starts == workshop.starts_at
    assert starts.utcoffset() == workshop.starts_at.astimezone(PARIS).utcoffset()
    assert body["items"][1]["status"] == "cancelled"
    assert body["items"][1]["registration_open"] is False


def test_filters_by_campaign_and_by_the_campaigns_i_follow(
    client, signed, people, workshop, moderator, lyon, db_session
):
    other = published_campaign(db_session, moderator, lyon, slug="block-8")
    starts = utcnow().replace(microsecond=0) + timedelta(days=2)
    elsewhere = published_workshop(
        db_session, other, title={"fr": "Autre atelier"}, starts_at=starts
    )
    db_session.commit()
    headers = signed(people[0])

    def ids(query=""):
        response = client.get(f"/api/v1/workshops{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [w["id"] for w in response.get_json()["items"]]

    assert ids() == [elsewhere.id, workshop.id]
    assert ids(f"?campaign={other.id}") == [elsewhere.id]
    assert ids("?campaign=999999") == []
    assert ids("?following=true") == []
    db_session.add(CampaignFollow(user_id=people[0].id, campaign_id=workshop.campaign_id))
    db_session.commit()
    assert ids("?following=true") == [workshop.id]
    assert_problem(client.get("/api/v1/workshops?campaign=x", headers=headers), 400)
    assert_problem(client.get("/api/v1/workshops?sort=title", headers=headers), 400)


def test_pages_follow_each_other_soonest_first(client, signed, people, workshop_of, db_session):
    now = utcnow().replace(microsecond=0)
    made = [
        workshop_of(starts_at=now + timedelta(days=d), ends_at=now + timedelta(days=d, hours=1))
        for d in (5, 1, 3, 2, 4)
    ]
    db_session.commit()
    expected = [w.id for w in sorted(made, key=lambda w: w.starts_at)]
    headers = signed(people[0])
    seen, cursor = [], None
    for _page in range(3):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/workshops{query}", headers=headers).get_json()
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
    assert seen == expected and cursor is None
    assert_problem(client.get("/api/v1/workshops?cursor=nonsense", headers=headers), 400)


def test_the_list_answers_304_until_a_seat_is_taken(client, signed, people, workshop):
    headers = signed(people[0])
    first = client.get("/api/v1/workshops", headers=headers)
    etag = first.headers["ETag"]
    cached = client.get("/api/v1/workshops", headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304
    assert (
        register(client, signed(people[1]), workshop, answers={"diet": "none"}).status_code == 201
    )
    changed = client.get("/api/v1/workshops", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.get_json()["items"][0]["seats_left"] == 19
    # The detail too.
    path = f"/api/v1/workshops/{workshop.id}"
    etag = client.get(path, headers=headers).headers["ETag"]
    assert client.get(path, headers={**headers, "If-None-Match": etag}).status_code == 304


# --- one workshop ---------------------------------------------------------------------------


def test_one_workshop_with_its_agenda_and_questions(client, signed, people, workshop):
    headers = signed(people[0], **{"Accept-Language": "en"})
    response = client.get(f"/api/v1/workshops/{workshop.id}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == DETAIL_FIELDS
    assert body["agenda"] == "<ol>\n<li>Welcome</li>\n<li><strong>Tables</strong></li>\n</ol>"
    assert body["questions"] == [
        {
            "code": "diet",
            "label": "Diet",
            "required": True,
            "choices": [{"code": "vegan", "label": "Vegan"}, {"code": "none", "label": "None"}],
        },
        {"code": "access", "label": "Access needs", "required": False, "choices": None},
    ]
    assert (body["registration"], body["online_url"], body["my_status"]) == (None, None, None)
    assert (body["summary"], body["outcomes"], body["follow_up_survey_id"]) == (None, [], None)
    assert body["registration_opens_at"] is None and body["registration_closes_at"] is None


def test_drafts_other_cities_and_unknown_ids_are_not_found(
    client, signed, people, workshop_of, vienna_workshop, workshop, vienna, make_user, db_session
):
    draft = workshop_of(status=WorkshopStatus.DRAFT)
    db_session.commit()
    moderator_headers = signed(make_user(workshop.city, role=Role.MODERATOR))
    for headers in (signed(people[0]), moderator_headers):
        for workshop_id in (draft.id, vienna_workshop.id, 999999, 2**31 + 5):
            for suffix in ("", "/registration", "/calendar.ics", "/check-in-code"):
                response = client.get(f"/api/v1/workshops/{workshop_id}{suffix}", headers=headers)
                assert_problem(response, 404)
        assert_problem(register(client, headers, draft, answers={}), 404)
    # A resident of Vienna never learns that Lyon's workshop exists.
    wiener = signed(make_user(vienna))
    not_there = client.get("/api/v1/workshops/999999", headers=wiener)
    for suffix in ("", "/registration", "/calendar.ics", "/check-in-code"):
        response = client.get(f"/api/v1/workshops/{workshop.id}{suffix}", headers=wiener)
        assert_problem(response, 404)
        if not suffix:
            assert response.get_json() == not_there.get_json()
    assert_problem(register(client, wiener, workshop, answers={"diet": "none"}), 404)
    assert (
        client.delete(f"/api/v1/workshops/{workshop.id}/registration", headers=wiener).status_code
        == 404
    )
    assert [
        w["id"] for w in client.get("/api/v1/workshops", headers=wiener).get_json()["items"]
    ] == [vienna_workshop.id]
    assert count_registrations(db_session) == 0


# --- registering ----------------------------------------------------------------------------


def test_registering_twice_answers_the_same_registration(client, signed, people, workshop):
    headers = signed(people[0])
    first = register(client, headers, workshop, answers={"diet": "vegan", "access": " Rampe "})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert set(body) == REGISTRATION_FIELDS
    assert (body["status"], body["waitlist_position"], body["checked_in"]) == (
        "confirmed",
        None,
        False,
    )
    assert body["answers"] == {"diet": "vegan", "access": "Rampe"}
    again = register(client, headers, workshop, answers={"diet": "vegan", "access": " Rampe "})
    assert again.status_code == 200 and again.get_json() == body
    # Without answers, the stored ones stay.
    assert register(client, headers, workshop).get_json()["answers"] == body["answers"]
    assert mine(client, headers, workshop).get_json() == body
    detail = client.get(f"/api/v1/workshops/{workshop.id}", headers=headers).get_json()
    assert (detail["my_status"], detail["registration"], detail["online_url"]) == (
        "confirmed",
        body,
        ONLINE,
    )
    listed = client.get("/api/v1/workshops", headers=headers).get_json()["items"][0]
    assert (listed["my_status"], listed["seats_left"]) == ("confirmed", 19)


def test_nobody_sees_another_residents_registration(client, signed, people, workshop):
    register(client, signed(people[0]), workshop, answers={"diet": "vegan", "access": "Fauteuil"})
    other = signed(people[1])
    assert_problem(mine(client, other, workshop), 404)
    assert_problem(client.get(f"/api/v1/workshops/{workshop.id}/check-in-code", headers=other), 404)
    detail = client.get(f"/api/v1/workshops/{workshop.id}", headers=other)
    body = detail.get_json()
    assert (body["registration"], body["my_status"], body["online_url"]) == (None, None, None)
    assert body["seats_left"] == 19
    assert "Fauteuil" not in detail.get_data(as_text=True)
    assert client.get("/api/v1/me/workshops", headers=other).get_json()["items"] == []
    # Cancelling mine (I have none) leaves theirs alone.
    gone = client.delete(f"/api/v1/workshops/{workshop.id}/registration", headers=other)
    assert gone.status_code == 204
    assert mine(client, signed(people[0]), workshop).get_json()["status"] == "confirmed"


def test_a_full_workshop_waitlists_and_a_cancellation_promotes(
    client, signed, people, workshop, db_session
):
    workshop.capacity = 3
    db_session.commit()
    answers = {"diet": "none"}
    statuses = [register(client, signed(p), workshop, answers=answers) for p in people]
    assert [r.status_code for r in statuses] == [201] * 5
    assert [(r.get_json()["status"], r.get_json()["waitlist_position"]) for r in statuses] == [
        ("confirmed", None),
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    waiting = signed(people[3])
    detail = client.get(f"/api/v1/workshops/{workshop.id}", headers=waiting).get_json()
    assert (detail["seats_left"], detail["waitlist_length"], detail["online_url"]) == (0, 2, None)
    assert register(client, waiting, workshop, answers=answers).get_json()["status"] == "waitlisted"

    cancelled = client.delete(
        f"/api/v1/workshops/{workshop.id}/registration", headers=signed(people[1])
    )
    assert cancelled.status_code == 204 and cancelled.get_data() == b""
    assert_problem(mine(client, signed(people[1]), workshop), 404)
    promoted = mine(client, waiting, workshop).get_json()
    assert (promoted["status"], promoted["waitlist_position"]) == ("confirmed", None)
    assert mine(client, signed(people[4]), workshop).get_json()["waitlist_position"] == 1
    detail = client.get(f"/api/v1/workshops/{workshop.id}", headers=waiting).get_json()
    assert (detail["seats_left"], detail["waitlist_length"], detail["online_url"]) == (0, 1, ONLINE)
    # A phone sending its cancellation again, and someone never registered: nothing to do.
    for person in (people[1], people[1]):
        again = client.delete(
            f"/api/v1/workshops/{workshop.id}/registration", headers=signed(person)
        )
        assert again.status_code == 204
    assert (
        db_session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.status == RegistrationStatus.CONFIRMED
            )
        )
        == 3
    )


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ({}, {"diet"}),
        ({"diet": "meat"}, {"diet"}),
        ({"diet": "none", "shoe_size": "42"}, {"shoe_size"}),
        ({"diet": "none", "access": "x" * 501}, {"access"}),
    ],
)
def test_bad_answers_are_refused_field_by_field(
    client, signed, people, workshop, db_session, answers, fields
):
    response = register(client, signed(people[0]), workshop, answers=answers)
    body = assert_problem(response, 422)
    assert set(body["errors"]["answers"]) == fields
    assert count_registrations(db_session) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {"diet": "none"}, "status": "confirmed"},
        {"answers": {"diet": "none"}, "user_id": 1},
        {"answers": {"diet": "none"}, "checked_in_at": "2030-01-01T00:00:00Z"},
        {"answers": {"diet": "none"}, "city_id": 2},
        {"answers": {"diet": "none"}, "queue_number": 1},
        {"answers": ["vegan"]},
        {"answers": {"diet": 3}},
    ],
)
def test_fields_a_resident_may_not_set_are_refused(
    client, signed, people, workshop, db_session, body
):
    response = client.put(
        f"/api/v1/workshops/{workshop.id}/registration", json=body, headers=signed(people[0])
    )
    assert_problem(response, 422)
    assert count_registrations(db_session) == 0


def test_registration_opens_on_time_and_the_list_says_so(
    client, signed, people, workshop_of, db_session
):
    opens = utcnow().replace(microsecond=0) + timedelta(hours=2)
    later = workshop_of(registration_opens_at=opens)
    db_session.commit()
    headers = signed(people[0])
    listed = client.get("/api/v1/workshops", headers=headers)
    assert listed.get_json()["items"][0]["registration_open"] is False
    assert_problem(register(client, headers, later), 409, "registration-not-open")
    assert count_registrations(db_session) == 0
    with time_machine.travel(opens + timedelta(minutes=1)):
        # Nothing in the database changed, yet the list did: its ETag is not the old one.
        again = client.get(
            "/api/v1/workshops", headers={**headers, "If-None-Match": listed.headers["ETag"]}
        )
        assert again.status_code == 200
        assert again.get_json()["items"][0]["registration_open"] is True
        assert register(client, headers, later).status_code == 201


def test_registering_is_throttled_but_sending_again_is_not(client, signed, people, workshop):
    headers = signed(people[0])
    assert register(client, headers, workshop, answers={"diet": "none"}).status_code == 201
    resent = [register(client, headers, workshop).status_code for _ in range(12)]
    assert resent == [200] * 12
    refused = [register(client, headers, workshop, answers={"diet": "x"}) for _ in range(10)]
    assert [r.status_code for r in refused] == [422] * 9 + [429]
    assert int(refused[-1].headers["Retry-After"]) > 0
    assert_problem(refused[-1], 429, "too-many-requests")
    # Reading is not throttled.
    assert mine(client, headers, workshop).status_code == 200
