"""Updates in real Chromium: compose in two languages side by side, preview each, schedule."""

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app import cities
from app.db import utcnow
from app.extensions import db
from app.models import City, Role, User
from app.passwords import hash_password
from tests.conftest import PASSWORD
from updates.models import Update

pytestmark = pytest.mark.browser

STAFF = "staff@lyon.example"
SCREENSHOTS = Path(tempfile.gettempdir())
XSS = "<img src=x onerror=\"window.__xss = 'img'\"><script>window.__xss = 'script'</script>"


def _add_staff(app) -> None:
    with app.app_context():
        lyon = db.session.scalar(sa.select(City).where(City.slug == "lyon"))
        operator = db.session.scalar(sa.select(User).where(User.is_platform_admin.is_(True)))
        person = User(
            email=STAFF,
            password_hash=hash_password(PASSWORD),
            city_id=lyon.id,
            display_name="Staff",
            email_verified_at=utcnow(),
        )
        db.session.add(person)
        db.session.flush()
        cities.grant_role(db.session, operator, person, lyon, Role.STAFF)
        db.session.commit()
        db.session.remove()


def test_compose_in_two_languages_preview_each_and_schedule(browser, live_server):
    _add_staff(live_server.app)
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 1300})
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("Email").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/console/")

    page.goto(f"{live_server.url}/console/lyon/campaigns")
    page.get_by_role("link", name="Updates").click()
    page.get_by_role("link", name="New update").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New update")
    page.wait_for_load_state("load")  # console.js marks missing translations once it runs

    # French and English side by side; English is marked missing while only French is written.
    french, english = page.locator("#title-fr"), page.locator("#title-en")
    assert french.bounding_box()["y"] == english.bounding_box()["y"]
    assert french.bounding_box()["x"] < english.bounding_box()["x"]
    english_missing = page.locator("label[for=title-en] .badge-missing")
    expect(english_missing).to_be_hidden()
    french.fill("Échafaudages lundi")
    expect(english_missing).to_be_visible()
    english.fill("Scaffolding on Monday")
    expect(english_missing).to_be_hidden()
    page.locator("#body-fr").fill("Le chantier commence.\n\nMerci de votre patience.")
    page.locator("#body-en").fill(f"<p>Work <strong>starts</strong> on Monday.</p>{XSS}")
    page.screenshot(path=SCREENSHOTS / "console-update-form.png", full_page=True)
    page.get_by_role("button", name="Save as draft").click()

    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")
    expect(page.locator("h1 .badge")).to_have_text("Draft")

    # The preview in each language, as a resident reading it would see it.
    preview = page.locator("article.update-preview")
    page.get_by_role("navigation", name="Language of the preview").get_by_role(
        "link", name="English"
    ).click()
    expect(preview).to_have_attribute("lang", "en")
    expect(preview.locator("h3")).to_have_text("Scaffolding on Monday")
    expect(preview.locator(".body strong")).to_have_text("starts")
    assert page.evaluate("window.__xss") is None
    assert preview.locator("img").count() == 0
    page.get_by_role("navigation", name="Language of the preview").get_by_role(
        "link", name="Français"
    ).click()
    expect(preview).to_have_attribute("lang", "fr")
    expect(preview.locator("h3")).to_have_text("Échafaudages lundi")
    expect(preview.locator(".body p")).to_have_text(
        ["Le chantier commence.", "Merci de votre patience."]
    )

    # Scheduled in Lyon's local time: 10:00 in July is 08:00 UTC.
    page.get_by_label("Publish on").fill("2030-07-01T10:00")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".flash-success")).to_contain_text("(UTC+02:00)")
    expect(page.locator("h1 .badge")).to_have_text("Scheduled")
    expect(page.get_by_label("Publish on")).to_have_value("2030-07-01T10:00")
    page.screenshot(path=SCREENSHOTS / "console-update.png", full_page=True)
    assert page.evaluate("window.__xss") is None
    context.close()

    with live_server.app.app_context():
        update = db.session.scalar(sa.select(Update).where(Update.status == "scheduled"))
        assert update.publish_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
        assert "onerror" not in update.body["en"] and "script" not in update.body["en"]
        assert re.fullmatch(r"<p>Work <strong>starts</strong> on Monday\.</p>", update.body["en"])
        db.session.remove()
