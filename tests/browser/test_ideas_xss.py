"""Residents' text in the console, in real Chromium: ideas, comments, names, flag notes and the
city's responses carrying script, event handlers and link tricks are shown, never run.

Each payload would set ``window.__xss`` or open a dialog if it ran. The page's Content Security
Policy would stop inline script as well, so the test also reads the DOM: no script element, no
event-handler attribute and no link to anything but web addresses may come from the text.
"""

import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app import audit
from app.db import utcnow
from app.extensions import db
from app.models import Role, User
from campaigns import service as campaigns
from ideas import answers, comments, flags, moderation
from tests.browser.conftest import MODERATOR
from tests.browser.idea_world import collecting_board, lyon_and_operator, person, sign_in
from tests.console import idea_helpers

pytestmark = pytest.mark.browser

ADMIN = "admin@lyon.example"
SCRIPT = "<script>window.__xss = 'script'</script>"
PAYLOADS = [
    SCRIPT,
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "<svg onload=\"window.__xss = 'svg'\"></svg>",
    "[click](javascript:window.__xss='md-link')",
    "[upper](JaVaScRiPt:window.__xss='upper')",
    "[spaced](  javascript:window.__xss='spaced')",
    "[encoded](jav&#x09;ascript:window.__xss='entity')",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:window.__xss='autolink'>",
    "![pic](x\" onerror=\"window.__xss='image')",
    '[ok](https://example.org/plan "title" onmouseover="window.__xss=\'attr\'")',
    "<a href=\"javascript:window.__xss='raw'\">raw</a>",
    "**[bold](javascript:alert(1))**",
]
BODY = "Une idée sûre.\n\n" + "\n\n".join(PAYLOADS)
TITLE = f"{SCRIPT}<img src=x onerror=\"window.__xss='title'\"> Potager"
NAME = "<img src=x onerror=\"window.__xss='name'\">Mallory"


def _world(app) -> dict[str, int]:
    """A board whose ideas and comments carry the payloads, flagged so the queue shows them,
    answered with a payload, and an audit entry whose reason is one."""
    with app.app_context():
        session = db.session
        lyon, operator = lyon_and_operator(session)
        person(session, lyon, ADMIN, Role.ADMIN, "Admin")
        mallory = person(session, lyon, "mallory@lyon.example", None, NAME, "fr")
        others = [person(session, lyon, f"voisin{n}@lyon.example") for n in range(3)]
        now = utcnow()
        board = collecting_board(
            session,
            "cour",
            {"fr": TITLE, "en": TITLE},
            description={"fr": BODY, "en": BODY},
            categories=[{"code": "green", "label": {"fr": SCRIPT + "Verdure"}}],
            flag_threshold=10,
        )
        campaigns.update_campaign(
            session, operator, board.campaign, title={"fr": SCRIPT + "Cour", "en": SCRIPT}
        )

        def post(title: str, body: str):
            return idea_helpers.post(session, mallory, board, title, body, category="green")

        idea = post(TITLE, BODY)
        twin = post("Un potager " + SCRIPT, "Doublon. " + BODY)
        thread = []
        for payload in PAYLOADS[:4]:
            made, _created = comments.add_comment(
                session,
                mallory,
                idea,
                client_uuid=str(uuid.uuid4()),
                body=f"Commentaire {payload}",
                language="fr",
            )
            thread.append(made)
        for neighbour in others:
            flags.flag(session, neighbour, idea, "spam", "Note " + PAYLOADS[1], now)
            flags.flag(session, neighbour, thread[0], "offensive", SCRIPT, now)
        moderator = session.scalar(sa.select(User).where(User.email == MODERATOR))
        moderation.decide(session, moderator, thread[1], "hide", "Raison " + PAYLOADS[1])
        answers.set_official_status(
            session, operator, idea, "under_review", {"fr": BODY, "en": "[x](javascript:alert(1))"}
        )
        audit.record(
            session, moderator, "idea.hide", "idea", idea.id, city_id=lyon.id, reason=PAYLOADS[1]
        )
        session.commit()
        ids = {"board": board.id, "idea": idea.id, "twin": twin.id}
        session.remove()
        return ids


#: What the rendered page may not contain, read from the DOM (in the order of the checks).
DOM_CHECK = """() => {
  const main = document.querySelector("main");
  const handlers = [];
  for (const element of main.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      if (attribute.name.startsWith("on")) handlers.push(element.tagName + " " + attribute.name);
    }
  }
  const links = Array.from(main.querySelectorAll("[href], [src], [action]"))
    .map((e) => e.getAttribute("href") || e.getAttribute("src") || e.getAttribute("action"))
    .filter((url) => !/^(https?:\\/\\/|\\/|#|\\?)/i.test(url.trim()));
  return {
    scripts: main.querySelectorAll("script, svg, img, iframe, object, embed").length,
    handlers,
    links,
    xss: window.__xss || null,
  };
}"""


def test_no_payload_runs_on_the_console_pages(browser, live_server):
    ids = _world(live_server.app)
    pages = {
        "board": f"/console/lyon/boards/{ids['board']}",
        "idea": f"/console/lyon/ideas/{ids['idea']}",
        "queue": "/console/lyon/moderation",
        "merge": f"/console/lyon/ideas/{ids['twin']}/merge",
        "confirm": f"/console/lyon/ideas/{ids['twin']}/merge?target={ids['idea']}",
        "boards": "/console/lyon/boards",
    }
    dialogs, errors = [], []
    for email, paths in ((MODERATOR, pages), (ADMIN, {"audit": "/console/lyon/audit"})):
        context, page = sign_in(browser, live_server, email)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: errors.append(str(error)))
        for name, path in paths.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            for link in page.locator("main a[href^='https://example.org']").all():
                assert link.get_attribute("rel") == "noopener noreferrer"
            page.locator("main").hover()
            found = page.evaluate(DOM_CHECK)
            assert found == {"scripts": 0, "handlers": [], "links": [], "xss": None}, name
            assert "Potager" in page.locator("main").inner_text() or name in ("audit", "queue")
        context.close()
    assert dialogs == [] and errors == []
    # The text is shown as text: a reader sees the payload's characters, not its effect.
    context, page = sign_in(browser, live_server, MODERATOR)
    page.goto(f"{live_server.url}/console/lyon/ideas/{ids['idea']}")
    expect(page.locator("h1")).to_contain_text("<script>window.__xss = 'script'</script>")
    expect(page.locator("main")).to_contain_text("Mallory")
    expect(page.locator("main")).to_contain_text("Commentaire <img src=x onerror=")
    context.close()
