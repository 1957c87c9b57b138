"""The survey builder in real Chromium: create, a question in two languages, a condition,
publish."""

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
from surveys.models import Survey
from tests.browser.conftest import MODERATOR
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())


def _published_campaign(app) -> None:
    with app.app_context():
        lyon = db.session.scalar(sa.select(City).where(City.slug == "lyon"))
        operator = db.session.scalar(sa.select(User).where(User.is_platform_admin.is_(True)))
        now = utcnow()
        campaign = campaigns.create_campaign(
            db.session,
            operator,
            lyon,
            slug="heating",
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
        db.session.remove()


def test_a_moderator_builds_and_publishes_a_survey(browser, live_server):
    _published_campaign(live_server.app)
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 1300})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("Email").fill(MODERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/console/")

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
        survey = db.session.scalar(sa.select(Survey))
        assert survey.status == "published"
        questions = survey.current_version.definition["pages"][0]["questions"]
        assert [q["key"] for q in questions] == ["heating", "boiler_age"]
        assert questions[1]["show_if"] == {"question": "heating", "op": "equals", "value": "gas"}
        assert questions[0]["other"] is True
        db.session.remove()
