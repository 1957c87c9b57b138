"""An idea board from the residents' phones to the console and back (issue 5, "Done when").

Residents post, comment and support within their budget through the API; two of them flag a
spam post until it is hidden; a moderator, in Chromium, opens the supporting phase, reviews
the queue and keeps the post hidden with a reason, then merges a duplicate (budgets intact,
checked through ``my-supports``); staff accept an idea with a response in French and English;
and each supporter finds the city's answer in their inbox, in their own language.
"""

import uuid
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import expect

from app.accounts import issue_token
from app.db import utcnow
from app.extensions import db
from app.models import Role, TokenKind
from notifications.delivery import deliver_due
from tests.browser.conftest import MODERATOR
from tests.browser.idea_world import collecting_board, lyon_and_operator, person, sign_in

pytestmark = pytest.mark.browser

STAFF = "staff@lyon.example"
#: Residents of Lyon and the language each reads.
RESIDENTS = {"amelie": "fr", "ben": "en", "chloe": "fr", "dan": "fr"}
RESPONSE_FR = "Nous installerons les bacs au printemps."
RESPONSE_EN = "We will put the planters in next spring."


def _world(app) -> tuple[int, dict[str, dict]]:
    """Staff, four residents with a phone each, and a board of a published campaign that
    collects ideas, with a budget of two supports; returns the board and each phone's headers."""
    with app.app_context():
        session = db.session
        lyon, _operator = lyon_and_operator(session)
        person(session, lyon, STAFF, Role.STAFF, "Staff")
        now = utcnow()
        phones = {}
        for name, locale in RESIDENTS.items():
            resident = person(session, lyon, f"{name}@lyon.example", None, name.title(), locale)
            token = issue_token(session, resident, TokenKind.API, timedelta(days=1), "phone", now)
            phones[name] = {"Authorization": f"Bearer {token}", "Accept-Language": locale}
        board = collecting_board(
            session,
            "jardins",
            {"fr": "La cour de l'îlot 7", "en": "The courtyard of block 7"},
            support_budget=2,
            flag_threshold=2,
        )
        session.commit()
        board_id = board.id
        session.remove()
        return board_id, phones


class Phone:
    """A resident's phone talking to the live API."""

    def __init__(self, api: str, headers: dict):
        self.api, self.headers = api, headers

    def call(self, method: str, path: str, expected: int, **body):
        response = requests.request(
            method, self.api + path, json=body or None, headers=self.headers, timeout=10
        )
        assert response.status_code == expected, (method, path, response.text)
        return response.json() if response.content else None

    def post_idea(self, board_id: int, title: str, body: str) -> int:
        made = self.call(
            "POST",
            f"/boards/{board_id}/ideas",
            201,
            client_uuid=str(uuid.uuid4()),
            title=title,
            body=body,
        )
        return made["id"]

    def inbox(self, kind: str) -> list[dict]:
        return [n for n in self.call("GET", "/notifications", 200)["items"] if n["kind"] == kind]


def test_from_phones_to_the_console_and_back(browser, live_server):
    board_id, headers = _world(live_server.app)
    api = f"{live_server.url}/api/v1"
    amelie, ben, chloe, dan = (Phone(api, headers[name]) for name in RESIDENTS)

    # Residents post and discuss while the board collects ideas.
    garden = amelie.post_idea(
        board_id, "Un potager partagé dans la cour", "Des bacs de culture pour tous les voisins."
    )
    benches = amelie.post_idea(board_id, "Des bancs à l'ombre", "Deux bancs sous le tilleul.")
    twin = chloe.post_idea(
        board_id, "Un potager partagé pour la cour", "Des bacs pour cultiver entre voisins."
    )
    spam = dan.post_idea(board_id, "Achetez des montres", "Des montres pas chères sur mon site.")
    said = ben.call(
        "POST",
        f"/ideas/{garden}/comments",
        201,
        client_uuid=str(uuid.uuid4()),
        body="Great idea, count me in!",
    )
    amelie.call(
        "POST",
        f"/ideas/{garden}/comments",
        201,
        client_uuid=str(uuid.uuid4()),
        body="Merci !",
        parent_id=said["id"],
    )

    # Two residents flag the spam: it is hidden until a moderator decides.
    for phone in (amelie, ben):
        phone.call("POST", f"/ideas/{spam}/flags", 201, reason="spam", note="Publicité")
    chloe.call("GET", f"/ideas/{spam}", 404)
    assert dan.call("GET", f"/ideas/{spam}", 200)["state"] == "hidden"

    # A moderator opens the supporting phase in the console.
    context, page = sign_in(browser, live_server, MODERATOR)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/console/lyon/campaigns")
    page.get_by_role("link", name="Idea boards").click()
    page.get_by_role("link", name="The courtyard of block 7").click()
    page.get_by_label("Phase").select_option("supporting")
    page.get_by_role("button", name="Switch phase").click()
    expect(page.locator(".flash-success")).to_contain_text("Supporting ideas")

    # Residents support within their budget of two.
    amelie.call("PUT", f"/ideas/{garden}/support", 201)
    ben.call("PUT", f"/ideas/{garden}/support", 201)
    ben.call("PUT", f"/ideas/{twin}/support", 201)
    refused = ben.call("PUT", f"/ideas/{benches}/support", 409)
    assert refused["type"].endswith("no-supports-left")
    chloe.call("PUT", f"/ideas/{twin}/support", 201)

    # The moderator reviews the queue: the spam stays hidden, with a reason its author reads.
    page.reload()
    queue_link = page.get_by_role("link", name="Moderation")
    expect(queue_link).to_contain_text("1")
    queue_link.click()
    item = page.locator(f"#idea-{spam}")
    expect(item).to_contain_text("Achetez des montres")
    expect(item).to_contain_text("Spam \u00d7 2")
    item.get_by_label("Reason").fill("Publicité : ce n'est pas une idée pour la cour.")
    item.get_by_role("button", name="Keep hidden").click()
    expect(page.locator(".flash-success")).to_contain_text("Your decision is saved.")
    expect(page.locator("main")).to_contain_text("Nothing is waiting for a moderator.")

    # ...then merges the duplicate into the first garden idea.
    page.goto(f"{live_server.url}/console/lyon/ideas/{twin}")
    page.get_by_role("link", name="Merge into another idea…").click()
    page.get_by_label("Find by title or number").fill(f"#{garden}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Merge into this one").first.click()
    expect(page.locator("h1")).to_contain_text(f"Merge the duplicate into idea {garden}?")
    page.get_by_label("Reason").fill("La même idée que le potager partagé.")
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Supports moved: 1")
    expect(page.locator("h1")).to_contain_text("Un potager partagé dans la cour")
    assert errors == []
    context.close()

    # Nobody counts twice and no budget breaks: Ben supported both and got one back.
    mine = ben.call("GET", f"/boards/{board_id}/my-supports", 200)
    assert (mine["used"], mine["left"], mine["idea_ids"]) == (1, 1, [garden])
    mine = chloe.call("GET", f"/boards/{board_id}/my-supports", 200)
    assert (mine["used"], mine["left"], mine["idea_ids"]) == (1, 1, [garden])
    assert chloe.call("GET", f"/ideas/{garden}", 200)["supports_count"] == 3
    ben.call("PUT", f"/ideas/{benches}/support", 201)  # the freed support is his to give

    # Staff accept the idea with a response in both of the city's languages.
    context, page = sign_in(browser, live_server, STAFF)
    page.goto(f"{live_server.url}/console/lyon/ideas/{garden}")
    page.get_by_label("Status").select_option("accepted")
    page.locator("#response-fr").fill(RESPONSE_FR)
    page.locator("#response-en").fill(RESPONSE_EN)
    page.get_by_role("button", name="Publish the answer").click()
    expect(page.locator(".flash-success")).to_contain_text("is now “Accepted”")
    expect(page.locator("#history")).to_contain_text(RESPONSE_EN)
    context.close()

    # The outbox delivers; each supporter reads the answer in their own language.
    with live_server.app.app_context():
        deliver_due(db.session)
        db.session.remove()
    (told,) = ben.inbox("idea.status_changed")
    assert RESPONSE_EN in told["body_text"] and RESPONSE_FR not in told["body_text"]
    for phone in (amelie, chloe):
        (told,) = phone.inbox("idea.status_changed")
        assert RESPONSE_FR in told["body_text"] and RESPONSE_EN not in told["body_text"]
    assert chloe.inbox("idea.merged")
    (decided,) = dan.inbox("idea.moderated")
    assert "ce n'est pas une idée pour la cour" in decided["body_text"]
    assert amelie.inbox("idea.comment")
    assert dan.call("GET", f"/ideas/{spam}", 200)["moderation_reason"].startswith("Publicité")
