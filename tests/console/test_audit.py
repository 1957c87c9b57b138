"""The audit log page: who did what to what, when (city time) and why, for admins only."""

from datetime import UTC, datetime, timedelta

import pytest

from app import audit
from app.db import utcnow
from tests.console.helpers import html, post_form
from tests.console.idea_helpers import open_board, post
from tests.surveys.helpers import published_campaign

AUDIT = "/console/lyon/audit"


@pytest.fixture
def logged(db_session, people):
    """A Lyon idea hidden by the moderator, a mute by the admin, an automatic hide, and an
    entry of Vienna's that Lyon's log never shows."""
    operator, lyon = people["platform_admin"], people["admin"].city
    board = open_board(db_session, operator, published_campaign(db_session, operator, lyon, "c"))
    idea = post(db_session, people["resident"], board, "Un potager <b>partagé</b>")
    moment = datetime(2030, 1, 15, 17, 5, tzinfo=UTC)  # 18:05 in Lyon
    made = {
        "hide": audit.record(
            db_session,
            people["moderator"],
            "idea.hide",
            "idea",
            idea.id,
            city_id=lyon.id,
            reason="Hors <i>sujet</i>",
            details={"flags": 2},
            now=moment,
        ),
        "auto": audit.record(
            db_session,
            None,
            "idea.auto_hide",
            "idea",
            idea.id,
            city_id=lyon.id,
            details={"flags": 3},
            now=moment - timedelta(hours=1),
        ),
        "mute": audit.record(
            db_session,
            people["admin"],
            "author.mute",
            "user",
            people["resident"].id,
            city_id=lyon.id,
            reason="Spam répété",
            now=moment + timedelta(minutes=1),
        ),
        "vienna": audit.record(
            db_session,
            people["other_moderator"],
            "idea.hide",
            "idea",
            idea.id,
            city_id=people["other_moderator"].city_id,
            reason="Wiener Grund",
        ),
    }
    db_session.commit()
    return idea, made


def _rows(page: str) -> list[str]:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]


def test_admins_read_who_did_what_when_and_why(as_person, logged):
    idea, _made = logged
    page = html(as_person("admin").get(AUDIT))
    rows = _rows(page)
    assert len(rows) == 3  # Vienna's entry is Vienna's
    mute, hide, auto = rows
    assert "Admin" in mute and "paused an author's posting" in mute
    assert "Account of Resident" in mute and "Spam répété" in mute
    assert "Moderator" in hide and "hid an idea" in hide and "2 flags resolved." in hide
    assert f'href="/console/lyon/ideas/{idea.id}"' in hide
    assert (
        "Un potager &lt;b&gt;partagé&lt;/b&gt;" in hide and "Hors &lt;i&gt;sujet&lt;/i&gt;" in hide
    )
    assert "1/15/30, 6:05" in hide  # on Lyon's clock
    assert "Automatically" in auto and "After 3 flags." in auto
    assert "Wiener Grund" not in page


def test_the_log_is_filtered_by_action_and_by_person(as_person, logged, people):
    client = as_person("admin")
    by_action = _rows(html(client.get(AUDIT + "?action=author.mute")))
    assert len(by_action) == 1 and "Spam répété" in by_action[0]
    by_person = _rows(html(client.get(f"{AUDIT}?person={people['moderator'].id}")))
    assert len(by_person) == 1 and "Hors" in by_person[0]
    page = html(client.get(f"{AUDIT}?person={people['other_moderator'].id}"))
    assert "No entry matches these filters." in page
    filters = html(client.get(AUDIT)).split('<select id="person"', 1)[1].split("</select>")[0]
    assert "Moderator" in filters and "Admin" in filters and "vienna" not in filters


@pytest.mark.parametrize("query", ["?action=DROP TABLE", "?person=me", "?page=-1"])
def test_filters_outside_what_is_offered_are_refused(as_person, logged, query):
    assert as_person("admin").get(AUDIT + query).status_code == 400


def test_the_log_is_read_in_pages(as_person, db_session, people):
    lyon = people["admin"].city
    for n in range(30):
        audit.record(
            db_session,
            people["moderator"],
            "comment.hide",
            "comment",
            n + 1,
            city_id=lyon.id,
            reason=f"Raison {n:02d}",
            now=utcnow() + timedelta(seconds=n),
        )
    db_session.commit()
    client = as_person("admin")
    first = html(client.get(AUDIT))
    assert "Raison 29" in first and "Raison 04" not in first and "Page 1 of 2" in first
    second = html(client.get(AUDIT + "?page=2"))
    assert "Raison 04" in second and "Raison 29" not in second


def test_a_decision_in_the_console_is_in_the_log(as_person, logged):
    idea, _made = logged
    decision = {"decision": "hide", "reason": "Doublon évident"}
    post_form(as_person("moderator"), f"/console/lyon/ideas/{idea.id}/decide", decision)
    (made,) = [row for row in _rows(html(as_person("admin").get(AUDIT))) if "Doublon" in row]
    assert "Moderator" in made and "hid an idea" in made and "0 flags" not in made


@pytest.mark.parametrize("who", ["moderator", "staff", "researcher"])
def test_only_admins_read_the_log(as_person, logged, who):
    client = as_person(who)
    assert client.get(AUDIT).status_code == 403
    assert 'href="/console/lyon/audit"' not in html(client.get("/console/lyon/campaigns"))
