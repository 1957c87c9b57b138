"""Survey results in real Chromium: the charts are drawn in the page, with their labels."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import User
from tests.browser.conftest import MODERATOR, RESIDENT
from tests.conftest import PASSWORD
from tests.surveys.helpers import published_campaign
from tests.surveys.test_results import answered_survey

pytestmark = pytest.mark.browser


def _survey(app) -> int:
    with app.app_context():
        moderator = db.session.scalar(sa.select(User).where(User.email == MODERATOR))
        resident = db.session.scalar(sa.select(User).where(User.email == RESIDENT))
        campaign = published_campaign(db.session, moderator, moderator.city, slug="results")
        survey = answered_survey(db.session, moderator, campaign, resident)
        db.session.commit()
        survey_id = survey.id
        db.session.remove()
    return survey_id


def test_the_results_page_draws_labelled_bars(browser, live_server, monkeypatch):
    survey_id = _survey(live_server.app)
    monkeypatch.setitem(live_server.app.config, "RESULTS_MIN_GROUP", 2)
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 1300})
    page = context.new_page()
    errors = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(message.text),
    )
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("Email").fill(MODERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/console/")

    page.goto(f"{live_server.url}/console/lyon/surveys/{survey_id}/results")
    chart = page.get_by_role("img", name="Question tools")
    expect(chart).to_be_visible()
    bars = chart.locator("g.bar")
    expect(bars).to_have_count(3)
    expect(bars.nth(0)).to_contain_text("Marteau")
    expect(bars.nth(0)).to_contain_text("4 (80%)")
    assert bars.nth(0).locator("rect").bounding_box()["width"] > 100
    # One respondent chose "c": no bar, only "< 2".
    expect(bars.nth(2)).to_contain_text("Pince")
    expect(bars.nth(2)).to_contain_text("< 2")
    assert bars.nth(2).locator("rect").count() == 0
    assert errors == []  # nothing refused by the Content-Security-Policy
    context.close()
