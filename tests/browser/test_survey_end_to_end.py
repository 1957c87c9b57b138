"""A survey from the console to a phone and back to the results, in three languages.

A moderator builds a French and German survey with skip logic in real Chromium and
publishes it; a German-speaking resident fetches it in German through the API, answers
offline and sends the response twice, then five times at once; exactly one response is
stored, and a French-speaking moderator reads it on the results page, in French.
"""

import threading
import uuid
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from app import cities
from app.accounts import issue_token
from app.db import utcnow
from app.extensions import db
from app.models import Role, TokenKind, User
from app.passwords import hash_password
from campaigns import service as campaigns
from surveys.models import ResponseAnswer, Survey, SurveyResponse
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

BUILDER = "builder@strasbourg.example"
READER = "lectrice@strasbourg.example"


def _world(app) -> str:
    """Strasbourg (fr, de), a published campaign, two moderators and a German-speaking
    resident; returns the resident's bearer token."""
    with app.app_context():
        session = db.session
        operator = session.scalar(sa.select(User).where(User.is_platform_admin.is_(True)))
        city = cities.create_city(
            session,
            slug="strasbourg",
            name="Strasbourg",
            timezone="Europe/Paris",
            default_locale="fr",
            enabled_locales=["fr", "de"],
        )
        password = hash_password(PASSWORD)
        people = {}
        for email, locale in ((BUILDER, None), (READER, "fr"), ("anna@strasbourg.example", "de")):
            people[email] = User(
                email=email,
                password_hash=password,
                city_id=city.id,
                locale=locale,
                email_verified_at=utcnow(),
            )
            session.add(people[email])
        session.flush()
        for email in (BUILDER, READER):
            cities.grant_role(session, operator, people[email], city, Role.MODERATOR)
        now = utcnow()
        campaign = campaigns.create_campaign(
            session,
            operator,
            city,
            slug="chauffage",
            title={"fr": "Chauffage", "de": "Heizung"},
            phases=[
                {
                    "title": {"fr": "Enquête", "de": "Umfrage"},
                    "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=30),
                }
            ],
        )
        campaigns.publish_campaign(session, operator, campaign)
        token = issue_token(
            session,
            people["anna@strasbourg.example"],
            TokenKind.API,
            timedelta(days=1),
            "phone",
            now,
        )
        session.commit()
        session.remove()
        return token


def _sign_in(browser, live_server, email):
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 1300})
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/console/")
    return context, page


def _build_and_publish(browser, live_server) -> None:
    context, page = _sign_in(browser, live_server, BUILDER)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/console/strasbourg/surveys/new")
    page.get_by_label("Campaign").select_option("chauffage")
    page.locator("#title-fr").fill("Votre chauffage")
    page.locator("#title-de").fill("Ihre Heizung")
    page.get_by_role("button", name="Create the survey").click()
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")

    page.get_by_label("Type of the new question on page 1").select_option("single_choice")
    page.get_by_role("button", name="Add a question to page 1").click()
    page.wait_for_load_state("load")
    page.get_by_label("Key").fill("heating")
    page.locator("#title-fr").fill("Comment chauffez-vous ?")
    page.locator("#title-de").fill("Wie heizen Sie?")
    for row, (code, french, german) in enumerate((("gas", "Gaz", "Gas"), ("wood", "Bois", "Holz"))):
        page.locator(f"#choice-{row}-value").fill(code)
        page.locator(f"#choice-{row}-label-fr").fill(french)
        page.locator(f"#choice-{row}-label-de").fill(german)
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator(".flash-success")).to_contain_text("The question is added.")

    page.get_by_label("Type of the new question on page 1").select_option("number")
    page.get_by_role("button", name="Add a question to page 1").click()
    page.wait_for_load_state("load")
    page.get_by_label("Key").fill("boiler_age")
    page.locator("#title-fr").fill("Âge de la chaudière ?")
    page.locator("#title-de").fill("Alter des Kessels?")
    page.get_by_label("Condition 1: question").select_option("heating")
    page.get_by_label("Condition 1: test").select_option("equals")
    page.get_by_label("Condition 1: value").fill("gas")
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator("#question-boiler_age")).to_contain_text("Shown only if")

    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 is published")
    assert errors == []
    context.close()


def test_a_survey_from_the_console_to_a_phone_and_back(browser, live_server, monkeypatch):
    token = _world(live_server.app)
    _build_and_publish(browser, live_server)
    api = f"{live_server.url}/api/v1"
    phone = {"Authorization": f"Bearer {token}", "Accept-Language": "de"}

    # The phone fetches the survey in German and keeps it for answering offline.
    (listed,) = requests.get(f"{api}/surveys", headers=phone, timeout=10).json()
    assert listed["my_status"] == "not_started"
    fetched = requests.get(f"{api}/surveys/{listed['id']}", headers=phone, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["ETag"]
    survey = fetched.json()
    assert "Ihre Heizung" in str(survey) and "Wie heizen Sie?" in str(survey)
    assert "Votre chauffage" not in str(survey)

    # Back online, it sends the response; the answer is lost, so it sends it again, then
    # five copies at once from its queue.
    url = f"{api}/surveys/{survey['id']}/responses/{uuid.uuid4()}/submit"
    body = {"version_id": listed["version_id"], "answers": {"heating": "gas", "boiler_age": 12}}
    first = requests.post(url, json=body, headers=phone, timeout=10)
    assert first.status_code == 201, first.text
    assert requests.post(url, json=body, headers=phone, timeout=10).status_code == 200
    statuses = []

    def resend():
        statuses.append(requests.post(url, json=body, headers=phone, timeout=10).status_code)

    senders = [threading.Thread(target=resend) for _ in range(5)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)
    assert statuses == [200] * 5

    with live_server.app.app_context():
        stored = db.session.scalars(sa.select(SurveyResponse)).all()
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(ResponseAnswer))
        survey_id = db.session.scalar(sa.select(Survey.id))
        db.session.remove()
    assert [(r.status, r.locale) for r in stored] == [("submitted", "de")]
    assert rows == 2

    # A French-speaking moderator reads the results in French.
    monkeypatch.setitem(live_server.app.config, "RESULTS_MIN_GROUP", 1)
    context, page = _sign_in(browser, live_server, READER)
    page.goto(f"{live_server.url}/console/strasbourg/surveys/{survey_id}/results")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_contain_text("Votre chauffage")
    results = page.locator("main")
    expect(results).to_contain_text("Comment chauffez-vous ?")
    expect(results).to_contain_text("Gaz")
    expect(results).to_contain_text("Âge de la chaudière ?")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    context.close()
