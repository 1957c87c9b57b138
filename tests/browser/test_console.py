"""The console in real Chromium: the whole campaign flow, stored XSS, languages, HTTPS."""

import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import City, User
from campaigns import service
from i18n import force_locale, gettext
from tests.browser.conftest import MODERATOR, RESIDENT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

COOKIE = "livinglab_session"
SCREENSHOTS = Path(tempfile.gettempdir())


def _sign_in(page: Page, base: str, email: str = MODERATOR, password: str = PASSWORD) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label(re.compile("Email|E-Mail")).fill(email)
    page.get_by_label(re.compile("Password|Passwort")).fill(password)
    page.locator("form button[type=submit].primary").click()


def _german(app: Flask, text: str) -> str:
    with app.test_request_context(), force_locale("de"):
        return gettext(text)


def test_sign_in_create_publish_and_a_resident_sees_it(browser, live_server):
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 1300})
    page = context.new_page()
    _sign_in(page, live_server.url)
    expect(page).to_have_url(f"{live_server.url}/console/")

    # The Secure session cookie is kept on http://127.0.0.1: Chromium counts loopback as secure.
    (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("link", name="Campaigns").first.click()
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New campaign")
    page.locator("#slug").fill("renovating-block-7")
    english_title = page.locator("label[for=title-en] .badge-missing")
    expect(english_title).to_be_hidden()
    page.locator("#title-fr").fill("Rénovation de l'îlot 7")
    expect(english_title).to_be_visible()  # French has a title, English not yet
    page.locator("#title-en").fill("Renovating block 7")
    expect(english_title).to_be_hidden()
    page.locator("#summary-fr").fill("Isolation, chauffage et cours partagées.")
    page.locator("#summary-en").fill("Insulation, heating and shared courtyards.")
    page.locator("#phase-0-title-fr").fill("Information")
    page.locator("#phase-0-title-en").fill("Information")
    page.locator("#phase-0-starts_at").fill("2030-06-01T09:00")
    page.locator("#phase-0-ends_at").fill("2030-06-30T18:00")
    # Only one empty phase row shows at a time; the script reveals the next one.
    expect(page.locator("#phase-1")).to_be_hidden()
    page.get_by_role("button", name="Add another phase").click()
    expect(page.locator("#phase-1")).to_be_visible()
    expect(page.locator("#phase-1-title-fr")).to_be_focused()
    expect(page.locator("#phase-2")).to_be_hidden()
    page.locator("#phase-1-title-fr").fill("Vote")
    page.locator("#phase-1-title-en").fill("Vote")
    page.locator("#phase-1-starts_at").fill("2030-07-01T09:00")
    page.locator("#phase-1-ends_at").fill("2030-07-15T18:00")
    page.screenshot(path=SCREENSHOTS / "console-campaign-form.png", full_page=True)
    page.get_by_role("button", name="Save as draft").click()

    expect(page).to_have_url(f"{live_server.url}/console/lyon/campaigns/renovating-block-7")
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_contain_text("The campaign is published.")
    expect(page.locator("h1 .badge")).to_have_text("Published")
    page.screenshot(path=SCREENSHOTS / "console-campaign.png", full_page=True)
    page.get_by_role("link", name="Campaigns").first.click()
    row = page.locator("tr", has_text="Renovating block 7")
    expect(row.locator(".badge-published")).to_have_text("Published")
    # At tablet width (portrait) nothing needs sideways scrolling.
    page.set_viewport_size({"width": 768, "height": 1024})
    for path in ("campaigns", "campaigns/renovating-block-7", "campaigns/renovating-block-7/edit"):
        page.goto(f"{live_server.url}/console/lyon/{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
    page.goto(f"{live_server.url}/console/lyon/campaigns")
    page.screenshot(path=SCREENSHOTS / "console-campaigns-tablet.png", full_page=True)

    api = context.request
    signed_in = api.post(
        f"{live_server.url}/api/v1/auth/sign-in",
        data={"email": RESIDENT, "password": PASSWORD},
    )
    assert signed_in.status == 201, signed_in.text()
    token = signed_in.json()["token"]
    listing = api.get(
        f"{live_server.url}/api/v1/campaigns",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    assert listing.status == 200
    (item,) = listing.json()["items"]
    assert item["slug"] == "renovating-block-7"
    assert item["title"] == "Renovating block 7"
    assert [p["title"] for p in item["phases"]] == ["Information", "Vote"]
    assert item["phases"][0]["starts_at"].startswith("2030-06-01T07:00:00")
    context.close()


PAYLOADS = [
    "<script>window.__xss = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">",
    "\"><svg onload=\"window.__xss = 'svg'; alert('svg')\">",
    "javascript:alert('link')",
]


def _stored_xss(app: Flask) -> None:
    with app.app_context():
        city = db.session.scalar(sa.select(City).where(City.slug == "lyon"))
        admin = db.session.scalar(sa.select(User).where(User.email == MODERATOR))
        for number, payload in enumerate(PAYLOADS):
            service.create_campaign(
                db.session,
                admin,
                city,
                slug=f"xss-{number}",
                title={"fr": payload, "en": payload},
                summary={"fr": payload, "en": payload},
                description={"fr": payload, "en": payload},
                cover_alt={"fr": payload, "en": payload},
                cover_image_url="https://127.0.0.1/none.jpg",
                phases=[],
            )
        db.session.commit()


def test_stored_markup_never_runs_in_console_pages(browser, live_server):
    _stored_xss(live_server.app)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, live_server.url)
    base = f"{live_server.url}/console/lyon/campaigns"
    paths = [base, f"{base}?status=draft"]
    for number in range(len(PAYLOADS)):
        paths += [
            f"{base}/xss-{number}",
            f"{base}/xss-{number}?lang=en",
            f"{base}/xss-{number}/edit",
        ]
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
    assert dialogs == []
    # The text is shown as text.
    page.goto(f"{base}/xss-0?lang=en")
    expect(page.locator(".phone h3")).to_have_text(PAYLOADS[0])
    context.close()


def test_a_wrong_password_is_refused_in_german(browser, live_server):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    heading = _german(live_server.app, "Sign in to the console")
    assert heading != "Sign in to the console"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        _sign_in(page, live_server.url, password="not the password")
    assert answer.value.status == 401
    message = _german(live_server.app, "The email address or the password is wrong.")
    assert message != "The email address or the password is wrong."
    expect(page.get_by_role("alert")).to_have_text(message)
    context.close()


def test_console_forms_work_over_https(browser, live_server):
    """Browsers follow the pages' Referrer-Policy; Flask-WTF needs the Referer on HTTPS."""
    context = browser.new_context(locale="en-US", ignore_https_errors=True)
    page = context.new_page()
    _sign_in(page, live_server.https_url)
    expect(page).to_have_url(f"{live_server.https_url}/console/")
    page.goto(f"{live_server.https_url}/console/account")
    page.get_by_label("Language").select_option("en")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.https_url}/console/account")
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/login"))
    expect(page.locator(".flash-info")).to_have_text("You are signed out.")
    context.close()
