"""The survey builder in real Chromium: create, a question in two languages, a condition,
publish; a page shown only on an earlier answer, as a phone receives it."""

import copy
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.db import utcnow
from app.extensions import db
from app.models import City, User
from campaigns import service as campaigns
from campaigns.models import Campaign
from surveys import service as surveys
from surveys.models import Survey
from tests.browser.conftest import MODERATOR, RESIDENT
from tests.conftest import PASSWORD
from tests.console.test_pages import PageAudit
from tests.surveys.helpers import DEFINITION

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())


def _published_campaign(app, slug: str = "heating") -> int:
    with app.app_context():
        lyon = db.session.scalar(sa.select(City).where(City.slug == "lyon"))
        operator = db.session.scalar(sa.select(User).where(User.is_platform_admin.is_(True)))
        now = utcnow()
        campaign = campaigns.create_campaign(
            db.session,
            operator,
            lyon,
            slug=slug,
            title={"fr": "Chauffage", "en": "Heating"},
            phases=[
                {
                    "title": {"fr": "Enquête", "en": "Survey"},
                    "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=30),
                }
            ],
        )
        campaigns.publish_campaign(db.session, operator, campaign)
        db.session.commit()
        campaign_id = campaign.id
        db.session.remove()
        return campaign_id


def _sign_in(browser, live_server):
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 1300})
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("Email").fill(MODERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/console/")
    return context, page


def test_a_moderator_builds_and_publishes_a_survey(browser, live_server):
    _published_campaign(live_server.app)
    context, page = _sign_in(browser, live_server)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/console/lyon/campaigns")
    page.get_by_role("navigation", name="City").get_by_role("link", name="Surveys").click()
    page.get_by_role("link", name="New survey").click()
    page.get_by_label("Campaign").select_option("heating")
    page.locator("#title-fr").fill("Votre chauffage")
    page.locator("#title-en").fill("Your heating")
    page.get_by_role("button", name="Create the survey").click()
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")
    expect(page.locator("h1 .badge")).to_have_text("Draft")

    # A choice question, French and English side by side.
    page.get_by_label("Type of the new question on page 1").select_option("single_choice")
    page.get_by_role("button", name="Add a question to page 1").click()
    page.wait_for_load_state("load")
    french, english = page.locator("#title-fr"), page.locator("#title-en")
    assert french.bounding_box()["y"] == english.bounding_box()["y"]
    assert french.bounding_box()["x"] < english.bounding_box()["x"]
    page.get_by_label("Key").fill("heating")
    french.fill("Comment chauffez-vous ?")
    english.fill("How do you heat?")
    page.locator("#choice-0-value").fill("gas")
    page.locator("#choice-0-label-fr").fill("Gaz")
    page.locator("#choice-0-label-en").fill("Gas")
    page.locator("#choice-1-value").fill("wood")
    page.locator("#choice-1-label-fr").fill("Bois")
    page.locator("#choice-1-label-en").fill("Wood")
    page.get_by_label("Offer “Other, please specify”").check()
    page.screenshot(path=SCREENSHOTS / "console-survey-question.png", full_page=True)
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator(".flash-success")).to_contain_text("The question is added.")

    # A number shown only to those heating with gas.
    page.get_by_label("Type of the new question on page 1").select_option("number")
    page.get_by_role("button", name="Add a question to page 1").click()
    page.get_by_label("Key").fill("boiler_age")
    page.locator("#title-fr").fill("Âge de la chaudière ?")
    page.locator("#title-en").fill("Age of the boiler?")
    page.get_by_label("Condition 1: question").select_option("heating")
    page.get_by_label("Condition 1: test").select_option("equals")
    page.get_by_label("Condition 1: value").fill("gas")
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator("#question-boiler_age")).to_contain_text("Shown only if")

    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 is published")
    expect(page.locator("h1 .badge")).to_have_text("Published")
    page.get_by_role("navigation", name="Language of the preview").get_by_role(
        "link", name="English"
    ).click()
    expect(page.locator("article.survey-preview")).to_contain_text("How do you heat?")
    page.screenshot(path=SCREENSHOTS / "console-survey.png", full_page=True)
    assert errors == []
    context.close()

    with live_server.app.app_context():
        query = sa.select(Survey).join(Campaign).where(Campaign.slug == "heating")
        survey = db.session.scalar(query)
        assert survey.status == "published"
        questions = survey.current_version.definition["pages"][0]["questions"]
        assert [q["key"] for q in questions] == ["heating", "boiler_age"]
        assert questions[1]["show_if"] == {"question": "heating", "op": "equals", "value": "gas"}
        assert questions[0]["other"] is True
        db.session.remove()


def _two_page_survey(app, campaign_id: int) -> int:
    """The heating survey of the survey tests with the boiler's age alone on page 2, shown to
    everyone for now; its id."""
    definition = copy.deepcopy(DEFINITION)
    home = definition["pages"][0]
    (boiler,) = [q for q in home["questions"] if q["key"] == "boiler_age"]
    home["questions"].remove(boiler)
    del boiler["show_if"]
    definition["pages"].append({"key": "boiler", "questions": [boiler]})
    with app.app_context():
        moderator = db.session.scalar(sa.select(User).where(User.email == MODERATOR))
        campaign = db.session.get(Campaign, campaign_id)
        survey = surveys.create_survey(db.session, moderator, campaign, title=DEFINITION["title"])
        surveys.save_definition(db.session, moderator, survey, definition)
        db.session.commit()
        survey_id = survey.id
        db.session.remove()
        return survey_id


def test_a_page_shown_only_on_an_earlier_answer_reaches_the_phone(browser, live_server):
    campaign_id = _published_campaign(live_server.app, "courtyard")
    survey_id = _two_page_survey(live_server.app, campaign_id)
    context, page = _sign_in(browser, live_server)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(f"{live_server.url}/console/lyon/surveys/{survey_id}")
    page.get_by_role("link", name="Edit page 2").click()
    expect(page.locator("h1")).to_have_text("Page 2")
    audit = PageAudit()
    audit.feed(page.content())
    assert [c for c in audit.controls if c.get("id") not in audit.labels] == []
    assert audit.inline_scripts == 0 and audit.styled == []
    questions = page.get_by_label("Condition 1: question")
    # Only the questions of the pages before this one can be tested.
    assert questions.locator("option").all_inner_texts() == [
        "(no condition)",
        "heating: Comment chauffez-vous ?",
        "comfort: Confort en hiver",
        "comment: Un commentaire ?",
    ]
    questions.select_option("heating")
    page.get_by_label("Condition 1: test").select_option("equals")
    page.get_by_label("Condition 1: value").fill("gas")
    page.screenshot(path=SCREENSHOTS / "console-survey-page.png", full_page=True)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash-success")).to_contain_text("Your changes are saved.")
    expect(page.locator("#page-2")).to_contain_text("Shown only if heating is gas")
    expect(page.locator("#page-1")).not_to_contain_text("Shown only if")

    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 is published")
    assert errors == []

    api = context.request
    signed_in = api.post(
        f"{live_server.url}/api/v1/auth/sign-in",
        data={"email": RESIDENT, "password": PASSWORD},
    )
    assert signed_in.status == 201, signed_in.text()
    phone = {"Authorization": f"Bearer {signed_in.json()['token']}", "Accept-Language": "en"}
    fetched = api.get(f"{live_server.url}/api/v1/surveys/{survey_id}", headers=phone)
    assert fetched.status == 200, fetched.text()
    first, second = fetched.json()["definition"]["pages"]
    assert "show_if" not in first
    assert second["show_if"] == {"question": "heating", "op": "equals", "value": "gas"}
    assert second["questions"][0]["title"] == "Age of the boiler?"
    context.close()
