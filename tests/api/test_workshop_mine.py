"""My workshops through the API: the list of my registrations, calendar files, my private
calendar feed, the code I show at the door, and what a workshop led to once published."""

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import defusedxml.ElementTree as ET
import icalendar

from app.db import utcnow
from ideas.models import IdeaState
from tests.api import workshop_fixtures
from tests.api.helpers import assert_problem
from tests.api.workshop_fixtures import (
    ONLINE,
    REGISTRATION_FIELDS,
    SUMMARY_FIELDS,
    mine,
    register,
)
from tests.ideas import conftest as ideas_fixtures
from tests.surveys.helpers import make_survey
from tests.workshops.helpers import registration
from workshops import checkin, console_queries, outcomes, registrations, service

people, signed, telling, workshop, workshop_of = (
    workshop_fixtures.people,
    workshop_fixtures.signed,
    workshop_fixtures.telling,
    workshop_fixtures.workshop,
    workshop_fixtures.workshop_of,
)
board_of, idea_on = ideas_fixtures.board_of, ideas_fixtures.idea_on
ANSWERS = {"diet": "none"}
FEED_PATH = re.compile(r"^https://lab\.example\.org(/api/v1/calendar/[A-Za-z0-9_-]{20,}\.ics)$")


def parsed(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.get_data())


def events(calendar: icalendar.Calendar) -> list:
    return list(calendar.walk("VEVENT"))


# --- my workshops ---------------------------------------------------------------------------


def test_my_workshops_upcoming_soonest_first_then_past_latest_first(
    client, signed, people, workshop_of, moderator, telling, db_session
):
    now = utcnow().replace(microsecond=0)

    def on(days: float):
        starts = now + timedelta(days=days)
        return workshop_of(starts_at=starts, ends_at=starts + timedelta(hours=2))

    later, soon, removed, cancelled = on(7), on(3), on(10), on(5)
    long_ago, lately = on(-30), on(-2)
    db_session.commit()
    me = people[0]
    headers = signed(me)
    for upcoming in (later, soon, removed, cancelled):
        assert register(client, headers, upcoming).status_code == 201
    client.delete(f"/api/v1/workshops/{cancelled.id}/registration", headers=headers)
    for past in (long_ago, lately):
        # Registered back then (registration closes at the start).
        registration(db_session, past, me, at=past.starts_at - timedelta(days=3))
    # Another resident's registration is not mine.
    register(client, signed(people[1]), soon)
    with telling() as session:
        taken_off = registrations.my_registration(session, me, removed)
        registrations.remove(session, moderator, removed, taken_off, "Complet pour les voisins")
    invited = on(12)
    with telling() as session:
        registrations.invite(session, moderator, invited, me)

    everything = client.get("/api/v1/me/workshops", headers=headers)
    assert everything.status_code == 200
    items = everything.get_json()["items"]
    assert [i["workshop"]["id"] for i in items] == [
        soon.id,
        later.id,
        removed.id,
        invited.id,
        lately.id,
        long_ago.id,
    ]
    assert set(items[0]) == {"registration", "workshop"}
    assert set(items[0]["registration"]) == REGISTRATION_FIELDS
    assert set(items[0]["workshop"]) == SUMMARY_FIELDS
    assert [i["registration"]["status"] for i in items] == [
        "confirmed",
        "confirmed",
        "removed",
        "invited",
        "confirmed",
        "confirmed",
    ]
    assert items[2]["registration"]["removed_reason"] == "Complet pour les voisins"
    assert items[0]["workshop"]["my_status"] == "confirmed"
    assert items[0]["workshop"]["seats_left"] == 18

    # Pages, across the turn from upcoming to past.
    for limit in (1, 2, 3, 4, 5):
        seen, cursor = [], None
        for _page in range(8):
            query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(f"/api/v1/me/workshops{query}", headers=headers).get_json()
            seen += [i["workshop"]["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [i["workshop"]["id"] for i in items], limit
    assert_problem(client.get("/api/v1/me/workshops?cursor=abc", headers=headers), 400)
    etag = everything.headers["ETag"]
    cached = client.get("/api/v1/me/workshops", headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304


# --- calendar files -------------------------------------------------------------------------


def test_the_calendar_file_gives_the_link_only_to_a_seat(
    client, signed, people, workshop, db_session
):
    workshop.capacity = 1
    db_session.commit()
    seated, waiting = signed(people[0]), signed(people[1])
    register(client, seated, workshop, answers=ANSWERS)
    register(client, waiting, workshop, answers=ANSWERS)
    path = f"/api/v1/workshops/{workshop.id}/calendar.ics"
    response = client.get(path, headers={**seated, "Accept-Language": "en"})
    calendar = parsed(response)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="workshop-{workshop.id}.ics"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    (event,) = events(calendar)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert (str(event["UID"]), str(event["SUMMARY"])) == (workshop.ical_uid, "Courtyard workshop")
    assert event.decoded("DTSTART") == workshop.starts_at
    assert str(event["URL"]) == ONLINE
    (event,) = events(parsed(client.get(path, headers=waiting)))
    assert "URL" not in event and ONLINE not in str(event.get("DESCRIPTION", ""))
    # Anyone of the city may add it to their calendar, without the link.
    (event,) = events(parsed(client.get(path, headers=signed(people[2]))))
    assert "URL" not in event


def test_a_cancelled_workshop_file_cancels_the_event(
    client, signed, people, workshop, moderator, telling
):
    headers = signed(people[0])
    register(client, headers, workshop, answers=ANSWERS)
    with telling() as session:
        service.cancel_workshop(session, moderator, workshop, "Pluie")
    calendar = parsed(client.get(f"/api/v1/workshops/{workshop.id}/calendar.ics", headers=headers))
    (event,) = events(calendar)
    assert (str(calendar["METHOD"]), str(event["STATUS"])) == ("CANCEL", "CANCELLED")
    detail = client.get(f"/api/v1/workshops/{workshop.id}", headers=headers).get_json()
    assert (detail["status"], detail["online_url"], detail["registration_open"]) == (
        "cancelled",
        None,
        False,
    )


def test_my_calendar_feed_works_without_sign_in_until_replaced_or_revoked(
    app, client, signed, people, workshop, lyon, db_session
):
    me = people[0]
    me.locale = "en"
    db_session.commit()
    headers = signed(me)
    register(client, headers, workshop, answers=ANSWERS)
    status = client.get("/api/v1/me/calendar-feed", headers=headers).get_json()
    assert status == {"active": False, "created_at": None}

    app.config["PUBLIC_URL"] = "https://lab.example.org"
    try:
        first = client.post("/api/v1/me/calendar-feed", headers=headers)
        second = client.post("/api/v1/me/calendar-feed", headers=headers)
    finally:
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    assert first.status_code == 201 and set(first.get_json()) == {"url"}
    old, new = (FEED_PATH.match(r.get_json()["url"]).group(1) for r in (first, second))
    assert old != new

    # No bearer: the URL decides; in the owner's language, whatever the request says.
    response = client.get(new, headers={"Accept-Language": "fr"})
    calendar = parsed(response)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Language"] == "en"
    (event,) = events(calendar)
    assert (str(event["UID"]), str(event["SUMMARY"])) == (workshop.ical_uid, "Courtyard workshop")
    assert str(event["URL"]) == ONLINE
    assert_problem(client.get(old), 404)
    status = client.get("/api/v1/me/calendar-feed", headers=headers).get_json()
    assert status["active"] is True and status["created_at"]

    assert client.delete("/api/v1/me/calendar-feed", headers=headers).status_code == 204
    assert client.delete("/api/v1/me/calendar-feed", headers=headers).status_code == 204
    assert_problem(client.get(new), 404)
    assert_problem(client.get(f"/api/v1/calendar/{secrets.token_urlsafe(32)}.ics"), 404)
    assert client.get("/api/v1/me/calendar-feed", headers=headers).get_json()["active"] is False


def test_a_feed_shows_only_its_owners_seats(client, signed, people, workshop, workshop_of):
    other = workshop_of(title={"fr": "Atelier des autres"})
    register(client, signed(people[0]), workshop, answers=ANSWERS)
    register(client, signed(people[1]), other, answers=ANSWERS)
    url = client.post("/api/v1/me/calendar-feed", headers=signed(people[0])).get_json()["url"]
    path = urlsplit(url).path
    uids = [str(e["UID"]) for e in events(parsed(client.get(path)))]
    assert uids == [workshop.ical_uid]


# --- check-in code --------------------------------------------------------------------------


def test_the_check_in_code_is_the_one_the_console_accepts(
    client, signed, people, workshop, moderator, db_session
):
    headers = signed(people[0])
    path = f"/api/v1/workshops/{workshop.id}/check-in-code"
    assert_problem(client.get(path, headers=headers), 404)
    register(client, headers, workshop, answers=ANSWERS)
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"code", "payload", "svg"}
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", body["code"])
    assert body["payload"] == f"LLW1:{workshop.id}:{body['code']}"
    root = ET.fromstring(body["svg"])
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in body["svg"]
    # The same code again, as long as the registration stands.
    assert client.get(path, headers=headers).get_json() == body

    # At the door: the scanned payload, or the code typed in lower case.
    scanned = console_queries.typed_code(workshop, body["payload"])
    registration, recorded = checkin.check_in(
        db_session, moderator, workshop, code=scanned, now=workshop.starts_at
    )
    assert recorded and registration.user_id == people[0].id
    again, recorded = checkin.check_in(
        db_session, moderator, workshop, code=body["code"].lower(), now=workshop.starts_at
    )
    assert again.id == registration.id and not recorded
    db_session.commit()
    assert mine(client, headers, workshop).get_json()["checked_in"] is True


def test_no_check_in_code_without_a_seat_or_a_waitlist_place(
    client, signed, people, workshop, moderator, telling
):
    invited, cancelled = people[0], people[1]
    with telling() as session:
        registrations.invite(session, moderator, workshop, invited)
    register(client, signed(cancelled), workshop, answers=ANSWERS)
    client.delete(f"/api/v1/workshops/{workshop.id}/registration", headers=signed(cancelled))
    for person in (invited, cancelled):
        response = client.get(
            f"/api/v1/workshops/{workshop.id}/check-in-code", headers=signed(person)
        )
        assert_problem(response, 404)
    assert mine(client, signed(invited), workshop).get_json()["status"] == "invited"
    # Accepting the invitation is registering.
    accepted = register(client, signed(invited), workshop, answers=ANSWERS)
    assert (accepted.status_code, accepted.get_json()["status"]) == (201, "confirmed")


# --- outcomes -------------------------------------------------------------------------------


def test_summary_and_outcomes_show_once_published(
    client, signed, people, workshop, moderator, campaign, board_of, idea_on, telling, db_session
):
    attendee = people[0]
    headers = signed(attendee, **{"Accept-Language": "en"})
    register(client, headers, workshop, answers=ANSWERS)
    board = board_of()
    kept = idea_on(board, people[1], title="Un potager")
    hidden = idea_on(board, people[1], title="Des bancs")
    survey = make_survey(db_session, moderator, campaign)
    after = workshop.ends_at + timedelta(hours=1)
    with telling() as session:
        service.complete_workshop(session, moderator, workshop, now=after)
        outcomes.set_summary(
            session, moderator, workshop, {"fr": "**Merci**", "en": "**Thanks**"}, survey.id
        )
        outcomes.add_outcome(session, moderator, workshop, idea_id=kept.id, note={"en": "Seeds"})
        outcomes.add_outcome(session, moderator, workshop, idea_id=hidden.id)
        outcomes.add_outcome(session, moderator, workshop, survey_id=survey.id)
    path = f"/api/v1/workshops/{workshop.id}"
    body = client.get(path, headers=headers).get_json()
    assert (body["status"], body["summary"], body["outcomes"]) == ("completed", None, [])
    assert body["follow_up_survey_id"] is None

    with telling() as session:
        outcomes.publish_summary(session, moderator, workshop, now=after)
        hidden.state = IdeaState.HIDDEN
    body = client.get(path, headers=headers).get_json()
    assert body["summary"] == "<p><strong>Thanks</strong></p>"
    assert body["outcomes"] == [
        {
            "kind": "idea",
            "idea_id": kept.id,
            "survey_id": None,
            "title": "Un potager",
            "note": "Seeds",
        },
        {
            "kind": "survey",
            "idea_id": None,
            "survey_id": survey.id,
            "title": "Your heating",
            "note": "",
        },
    ]
    assert body["follow_up_survey_id"] == survey.id
    # Over: nothing to register for or cancel any more.
    assert_problem(register(client, signed(people[2]), workshop, answers=ANSWERS), 409)
    listed = client.get("/api/v1/workshops", headers=headers).get_json()["items"]
    assert listed == []
