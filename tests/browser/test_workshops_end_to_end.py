"""A co-design workshop from the console to residents' phones and mailboxes and back (issue 6,
"Done when"), in real Chromium.

A moderator creates a 3-seat workshop in the console and publishes it; five residents register
through the API (two are waitlisted); one cancels, and the first on the waitlist gets the seat
and is told. A day before the start (time travel) the scheduler's job sends the reminder: each
confirmed resident gets an email, in their language, with a calendar file that the icalendar
library reads back. At the door the moderator checks people in by searching a name and by the
code a phone shows, completes the workshop, records minutes, a summary and an idea it led to,
and publishes the summary; the attendees are told.

Then the same pages with a workshop title, texts and a participant's answer and name carrying
script in every language: nothing runs.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from icalendar import Calendar
from playwright.sync_api import expect

from app.extensions import db
from notifications.delivery import deliver_due
from tests.browser.conftest import MODERATOR
from tests.browser.idea_world import sign_in
from tests.browser.test_ideas_xss import DOM_CHECK
from tests.browser.workshop_world import mailbox_for, residents_and_board
from workshops.jobs import workshop_schedule
from workshops.models import Workshop

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
#: Residents of Lyon: name and the language each reads, in the order they register.
RESIDENTS = {
    "amelie": ("Amélie Martin", "fr"),
    "ben": ("Ben Carter", "en"),
    "chloe": ("Chloé Durand", "fr"),
    "dan": ("Dan Walker", "en"),
    "eve": ("Ève Moreau", "fr"),
}
TITLE = {"fr": "Atelier de la cour", "en": "Courtyard workshop"}
LOCAL = "%Y-%m-%dT%H:%M"


def _starts() -> datetime:
    """Three days from now at 18:00, Lyon time."""
    day = datetime.now(PARIS) + timedelta(days=3)
    return day.replace(hour=18, minute=0, second=0, microsecond=0)


def _create_and_publish(page, url: str, starts: datetime) -> int:
    """The moderator's part before anyone registers; returns the workshop's id."""
    page.goto(f"{url}/console/lyon/campaigns")
    page.get_by_role("link", name="Workshops").click()
    page.get_by_role("link", name="New workshop").click()
    page.get_by_label("Campaign").select_option("atelier")
    fields = {
        "title-fr": TITLE["fr"],
        "title-en": TITLE["en"],
        "description-fr": "Dessinons **ensemble** la cour de l'îlot 7.",
        "description-en": "Let us design the courtyard of block 7 **together**.",
        "starts_at": starts.strftime(LOCAL),
        "ends_at": (starts + timedelta(hours=2)).strftime(LOCAL),
        "capacity": "3",
        "address": "12 rue de la République, 69002 Lyon",
        "reminder_hours": "24, 2",
        "question-0-code": "diet",
        "question-0-label-fr": "Régime alimentaire",
        "question-0-label-en": "Diet",
        "question-0-choices-fr": "vegan = Végétalien\nnone = Aucun",
        "question-0-choices-en": "vegan = Vegan\nnone = None",
    }
    for input_id, value in fields.items():
        page.locator(f"#{input_id}").fill(value)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_contain_text("residents can register")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def _calendar_of(message) -> Calendar:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename().endswith(".ics")
    return Calendar.from_ical(part.get_content())


def test_from_the_console_to_phones_and_mailboxes_and_back(browser, live_server):
    app, url = live_server.app, live_server.url
    phones, idea_id = residents_and_board(app, f"{url}/api/v1", "atelier", RESIDENTS)
    starts = _starts()
    with mailbox_for(app) as mailbox:
        context, page = sign_in(browser, live_server, MODERATOR)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        workshop_id = _create_and_publish(page, url, starts)
        expect(page.locator("main")).to_contain_text("0 / 3 seats")
        context.close()
        registration = f"/workshops/{workshop_id}/registration"

        # Five residents register from their phones: three seats, then the waitlist.
        for key, phone in phones.items():
            made = phone.call("PUT", registration, 201, answers={"diet": "vegan"})
            assert made["status"] == (
                "confirmed" if key in ("amelie", "ben", "chloe") else "waitlisted"
            )
        assert phones["dan"].call("GET", registration, 200)["waitlist_position"] == 1
        assert phones["eve"].call("GET", registration, 200)["waitlist_position"] == 2

        # Chloé cancels: Dan, first on the waitlist, gets her seat and is told.
        phones["chloe"].call("DELETE", registration, 204)
        assert phones["dan"].call("GET", registration, 200)["status"] == "confirmed"
        assert phones["eve"].call("GET", registration, 200)["waitlist_position"] == 1
        with app.app_context():
            deliver_due(db.session)
            uid = db.session.scalar(sa.select(Workshop.ical_uid).where(Workshop.id == workshop_id))
            db.session.remove()
        told = phones["dan"].inbox("workshop.registration")
        assert any("A seat became free" in n["body_text"] for n in told), told

        # A day before the start the scheduler reminds the three with a seat, by email.
        reminded_at = starts - timedelta(hours=24) + timedelta(minutes=1)
        before = len(mailbox.messages)
        with app.app_context():
            assert workshop_schedule(db.session, now=reminded_at)["reminded"] == 1
            deliver_due(db.session, now=reminded_at)
            db.session.remove()
        reminders = {
            m["To"]: m
            for m in mailbox.messages[before:]
            if m["Subject"].startswith(("Reminder", "Rappel"))
        }
        assert set(reminders) == {
            "amelie@atelier.example",
            "ben@atelier.example",
            "dan@atelier.example",
        }
        for key in ("amelie", "ben", "dan"):
            message = reminders[f"{key}@atelier.example"]
            locale = RESIDENTS[key][1]
            assert message["Content-Language"] == locale
            assert TITLE[locale] in message["Subject"]
            other = TITLE["en" if locale == "fr" else "fr"]
            assert other not in message.get_body(("plain",)).get_content()
            calendar = _calendar_of(message)
            (event,) = calendar.walk("VEVENT")
            assert str(event["UID"]) == uid
            assert str(event["SUMMARY"]) == TITLE[locale]
            assert event.decoded("DTSTART") == starts
            assert event["DTSTART"].params["TZID"] == "Europe/Paris"
            assert event.decoded("DTEND") == starts + timedelta(hours=2)

    # A quarter of an hour after the start, at the door (the phones' codes are shown there).
    with time_machine.travel(starts + timedelta(minutes=15), tick=True):
        code = phones["ben"].call("GET", f"/workshops/{workshop_id}/check-in-code", 200)
        context, page = sign_in(browser, live_server, MODERATOR)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{url}/console/lyon/workshops/{workshop_id}")
        page.get_by_role("link", name="Check-in").click()
        counters = page.locator(".door-counts")
        expect(counters).to_contain_text("0 checked in / 3 confirmed")

        # By name: the list narrows while typing.
        page.get_by_label("Find by name").fill("amél")
        expect(page.locator(".door-person", has_text="Dan Walker")).to_be_hidden()
        page.get_by_role("button", name="Check in Amélie Martin").click()
        expect(page.locator(".flash-success")).to_contain_text("Amélie Martin is checked in.")

        # By the code typed as read from Ben's phone, then his QR code scanned a second time.
        page.get_by_label("Code", exact=True).fill(code["code"].lower().replace("-", " "))
        page.get_by_label("Code", exact=True).press("Enter")
        expect(page.locator(".flash-success")).to_contain_text("Ben Carter is checked in.")
        page.get_by_label("Code", exact=True).fill(code["payload"])
        page.get_by_role("button", name="Check in", exact=True).click()
        expect(page.locator(".flash-info")).to_contain_text("Ben Carter: Already checked in at")
        expect(counters).to_contain_text("2 checked in / 3 confirmed")

        # Over: the outcomes are recorded and the summary published.
        page.get_by_role("link", name="Overview").click()
        page.get_by_role("button", name="Mark as completed").click()
        expect(page.locator(".flash-success")).to_contain_text("The workshop is completed.")
        page.locator("#minutes-text").fill("<h2>Décisions</h2><p>Un <b>potager</b> partagé.</p>")
        page.get_by_role("button", name="Save the minutes").click()
        expect(page.locator(".minutes")).to_contain_text("Décisions")
        page.locator("#summary-fr").fill("Nous avons choisi un potager partagé.")
        page.locator("#summary-en").fill("We chose a shared vegetable garden.")
        page.get_by_role("button", name="Save the summary").click()
        expect(page.locator(".flash-success")).to_contain_text("The summary is saved.")
        page.get_by_label("Find an idea of the campaign's boards by title or number").fill(
            "potager"
        )
        page.get_by_role("button", name="Search").click()
        page.get_by_label("Idea number").select_option(str(idea_id))
        page.locator("#note-idea-fr").fill("L'idée retenue par l'atelier.")
        page.get_by_role("button", name="Link the idea").click()
        expect(page.locator(".outcomes")).to_contain_text("Un potager partagé dans la cour")
        page.get_by_role("button", name="Publish summary").click()
        expect(page.locator(".flash-success")).to_contain_text("The summary is published.")
        context.close()
        with app.app_context():
            deliver_due(db.session)
            db.session.remove()
        (summary,) = phones["amelie"].inbox("workshop.summary")
        assert "Nous avons choisi un potager partagé." in summary["body_text"]
        assert phones["dan"].inbox("workshop.summary") == []  # he did not come
    assert errors == []


# --- stored XSS -------------------------------------------------------------------------------

SCRIPT = "<script>window.__xss = 'script'</script>"
IMG = "<img src=x onerror=\"window.__xss = 'img'\">"
PAYLOAD = f"{SCRIPT}{IMG} Atelier"
XSS_RESIDENTS = {"mallory": (f"{IMG}Mallory", "fr"), "neighbour": ("Voisin", "en")}


def test_no_payload_runs_on_the_workshop_pages(browser, live_server):
    app, url = live_server.app, live_server.url
    phones, idea_id = residents_and_board(app, f"{url}/api/v1", "xss", XSS_RESIDENTS)
    context, page = sign_in(browser, live_server, MODERATOR)
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    starts = _starts() + timedelta(days=1)
    page.goto(f"{url}/console/lyon/workshops/new")
    page.get_by_label("Campaign").select_option("xss")
    for input_id, value in {
        "title-fr": PAYLOAD,
        "title-en": PAYLOAD,
        "description-fr": PAYLOAD,
        "agenda-en": f"[x](javascript:window.__xss='md') {IMG}",
        "accessibility-fr": PAYLOAD,
        "starts_at": starts.strftime(LOCAL),
        "ends_at": (starts + timedelta(hours=2)).strftime(LOCAL),
        "capacity": "5",
        "address": f"{IMG} rue",
        "question-0-code": "needs",
        "question-0-label-fr": PAYLOAD,
        "question-0-label-en": PAYLOAD,
    }.items():
        page.locator(f"#{input_id}").fill(value)
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_contain_text("residents can register")
    workshop_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    registration = f"/workshops/{workshop_id}/registration"
    phones["mallory"].call("PUT", registration, 201, answers={"needs": PAYLOAD})
    phones["neighbour"].call("PUT", registration, 201, answers={"needs": SCRIPT})
    page.goto(f"{url}/console/lyon/workshops/{workshop_id}/outcomes")
    page.locator("#minutes-text").fill(PAYLOAD)
    page.get_by_role("button", name="Save the minutes").click()
    page.locator("#summary-fr").fill(PAYLOAD)
    page.get_by_role("button", name="Save the summary").click()
    page.locator("#idea_id").fill(str(idea_id))
    page.locator("#note-idea-fr").fill(PAYLOAD)
    page.get_by_role("button", name="Link the idea").click()
    expect(page.locator(".outcomes")).to_contain_text("Un potager")

    base = f"/console/lyon/workshops/{workshop_id}"
    paths = {
        "list": "/console/lyon/workshops",
        "workshop": base,
        "edit": f"{base}/edit",
        "cancel": f"{base}/cancel",
        "participants": f"{base}/participants?q=Mallory",
        "checkin": f"{base}/checkin",
        "search": f"{base}/checkin?q=Mallory",
        "outcomes": f"{base}/outcomes?idea_q=potager",
    }
    for name, path in paths.items():
        page.goto(url + path)
        page.wait_for_load_state("load")
        page.locator("main").hover()
        found = page.evaluate(DOM_CHECK)
        assert found == {"scripts": 0, "handlers": [], "links": [], "xss": None}, name
        expect(page.locator("main")).to_contain_text("<script>window.__xss")
    # The texts are shown as text: a reader sees the payload's characters, not its effect.
    page.goto(f"{url}{base}/participants")
    expect(page.locator("#confirmed")).to_contain_text(f"{IMG}Mallory")
    expect(page.locator("#confirmed")).to_contain_text(PAYLOAD)
    context.close()
    assert dialogs == [] and errors == []
