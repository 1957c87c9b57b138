"""What the idea tests in Chromium share: signing in to the console, a person of Lyon, and a
board of a published campaign that collects ideas, all made through the services."""

import sqlalchemy as sa
from playwright.sync_api import expect

from app import cities
from app.db import utcnow
from app.models import City, User
from app.passwords import hash_password
from ideas import boards
from tests.conftest import PASSWORD
from tests.surveys.helpers import published_campaign


def sign_in(browser, live_server, email: str):
    """A browser context signed in to the console as ``email``, and its page."""
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 1400})
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/console/")
    return context, page


def lyon_and_operator(session) -> tuple[City, User]:
    lyon = session.scalar(sa.select(City).where(City.slug == "lyon"))
    operator = session.scalar(sa.select(User).where(User.is_platform_admin.is_(True)))
    return lyon, operator


def person(session, lyon: City, email: str, role=None, name: str = "", locale=None) -> User:
    """A verified person of Lyon signing in with PASSWORD, maybe with a role there."""
    made = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        city_id=lyon.id,
        display_name=name,
        locale=locale,
        email_verified_at=utcnow(),
    )
    session.add(made)
    session.flush()
    if role is not None:
        operator = lyon_and_operator(session)[1]
        cities.grant_role(session, operator, made, lyon, role)
    return made


def collecting_board(session, slug: str, title: dict, **settings):
    """A board collecting ideas, of a new published campaign of Lyon."""
    lyon, operator = lyon_and_operator(session)
    campaign = published_campaign(session, operator, lyon, slug=slug)
    board = boards.create_board(session, operator, campaign, title=title, **settings)
    boards.publish_board(session, operator, board)
    boards.set_phase(session, operator, board, "collecting")
    return board
