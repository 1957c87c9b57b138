"""Moderation in the console: the queue, decisions with a reason, pausing authors, merging
duplicates; each decision told to the author and written to the audit log."""

from html import unescape

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from ideas import boards, flags, supports
from ideas.models import Comment, Flag, Idea, Mute, Support, SupportBudget
from notifications.models import Notification
from tests.console.helpers import csrf_token, html, post_form
from tests.console.idea_helpers import comment, idea_state, open_board, permission_world, post
from tests.console.test_permissions import ROUTES
from tests.surveys.helpers import published_campaign

QUEUE = "/console/lyon/moderation"


@pytest.fixture
def board(db_session, people):
    lyon = people["admin"].city
    campaign = published_campaign(db_session, people["platform_admin"], lyon, "ideas")
    made = open_board(db_session, people["platform_admin"], campaign, flag_threshold=2)
    db_session.commit()
    return made


@pytest.fixture
def residents(people, make_person):
    lyon = people["admin"].city
    return [make_person(lyon, f"voisin{n}@lyon.example", locale="fr") for n in range(3)]


def _idea_url(idea, suffix="") -> str:
    return f"/console/lyon/ideas/{idea.id}{suffix}"


def _fresh(db_session, model, item_id):
    db_session.expire_all()
    return db_session.get(model, item_id)


def _told(db_session, person, kind="idea.moderated") -> list[Notification]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            sa.select(Notification).where(
                Notification.user_id == person.id, Notification.kind == kind
            )
        )
    )


def _audit(db_session) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


@pytest.fixture
def waiting(db_session, board, people, residents):
    """An idea hidden by two flags, a comment flagged once, and an idea awaiting approval."""
    author, first, second = residents
    hidden = post(db_session, author, board, "Publicité pour mon garage", "Appelez le 06…")
    for person in (first, second):
        flags.flag(db_session, person, hidden, "spam", f"Note de {person.email}", utcnow())
    trees = post(db_session, first, board, "Des arbres")
    remark = comment(db_session, first, trees, "Idiot")
    flags.flag(db_session, second, remark, "offensive", None, utcnow())
    boards.update_board(db_session, people["platform_admin"], board, requires_approval=True)
    pending = post(db_session, second, board, "Un composteur", "Près de l'entrée.")
    db_session.commit()
    return {"hidden": hidden, "comment": remark, "pending": pending}


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_lists_what_waits_with_its_context(as_person, waiting, residents):
    page = html(as_person("moderator").get(QUEUE))
    assert 'Moderation <span class="count">3<span class="visually-hidden"> items waiting' in page
    assert 'aria-current="page">All <span class="count">3</span>' in page
    hidden = page.split('id="idea-{}"'.format(waiting["hidden"].id), 1)[1].split("</article>")[0]
    assert "Publicité pour mon garage" in hidden and "Appelez le 06…" in hidden
    assert "Courtyard of block 7" in hidden
    assert "Voisin0" in hidden  # the author
    assert "Spam \u00d7 2" in hidden and "Note de voisin1@lyon.example" in hidden
    assert "Hidden: residents do not see it now." in hidden
    assert 'value="restore"' in hidden and 'value="hide"' in hidden  # restore, or keep hidden
    remark = page.split('id="comment-{}"'.format(waiting["comment"].id), 1)[1]
    assert "A comment on" in remark.split("</article>")[0] and "Idiot" in remark
    assert "Offensive \u00d7 1" in remark.split("</article>")[0]
    pending = page.split('id="idea-{}"'.format(waiting["pending"].id), 1)[1].split("</article>")[0]
    assert 'value="approve"' in pending and 'value="reject"' in pending
    only_pending = html(as_person("moderator").get(QUEUE + "?why=pending"))
    assert "Un composteur" in only_pending and "Publicité" not in only_pending


def test_staff_have_no_queue_and_no_badge(as_person, waiting):
    client = as_person("staff")
    assert client.get(QUEUE).status_code == 403
    assert "/moderation" not in html(client.get("/console/lyon/boards"))


def test_a_bad_queue_filter_is_refused(as_person, waiting):
    assert as_person("moderator").get(QUEUE + "?why=everything").status_code == 400


def test_restoring_from_the_queue(as_person, db_session, waiting, residents, people):
    idea = waiting["hidden"]
    client = as_person("moderator")
    response = post_form(
        client,
        _idea_url(idea, "/decide"),
        {"decision": "restore", "reason": "Ce n'est pas de la publicité.", "back": "queue"},
    )
    assert response.status_code == 303
    assert response.location == QUEUE
    saved = _fresh(db_session, Idea, idea.id)
    assert (saved.state, saved.moderation_reason) == ("published", "Ce n'est pas de la publicité.")
    assert saved.flags_count == 0
    assert all(
        f.resolved_at for f in db_session.scalars(sa.select(Flag).where(Flag.idea_id == idea.id))
    )
    page = html(client.get(QUEUE))
    assert "Your decision is saved." in page
    assert "Publicité pour mon garage" not in page
    (note,) = _told(db_session, residents[0])
    assert "Ce n'est pas de la publicité." in note.body_text
    entry = _audit(db_session)[-1]
    assert (entry.action, entry.subject_id) == ("idea.restore", idea.id)
    assert entry.actor_id == people["moderator"].id
    assert entry.reason == "Ce n'est pas de la publicité."


def test_a_decision_without_reason_is_shown_again_beside_its_item(as_person, db_session, waiting):
    idea = waiting["hidden"]
    client = as_person("moderator")
    response = post_form(
        client, _idea_url(idea, "/decide"), {"decision": "hide", "reason": "  ", "back": "queue"}
    )
    assert response.status_code == 422
    item = html(response).split(f'id="idea-{idea.id}"', 1)[1].split("</article>")[0]
    assert "Give a reason: the author will see it." in unescape(item)
    assert 'aria-invalid="true"' in item
    saved = _fresh(db_session, Idea, idea.id)
    assert (saved.state, saved.moderation_reason, saved.flags_count) == ("hidden", None, 2)


def test_approving_and_rejecting_ideas_awaiting_approval(as_person, db_session, board, waiting):
    pending = waiting["pending"]
    other = post(
        db_session, waiting["comment"].author, board, "Un autre composteur", "Encore un bac."
    )
    db_session.commit()
    client = as_person("admin")
    approve = {"decision": "approve", "reason": "Bienvenue", "back": "queue", "why": "pending"}
    response = post_form(client, _idea_url(pending, "/decide"), approve)
    assert response.location == QUEUE + "?why=pending"
    reject = {"decision": "reject", "reason": "Doublon du composteur."}
    response = post_form(client, _idea_url(other, "/decide"), reject)
    assert response.location == _idea_url(other)
    approved, rejected = _fresh(db_session, Idea, pending.id), _fresh(db_session, Idea, other.id)
    assert (approved.state, approved.published_at is not None) == ("published", True)
    assert (rejected.state, rejected.moderation_reason) == ("rejected", "Doublon du composteur.")
    assert "Reason given to the author: Doublon du composteur." in unescape(
        html(client.get(_idea_url(other)))
    )


def test_a_decision_the_state_no_longer_allows_is_refused(as_person, db_session, waiting):
    idea = waiting["hidden"]
    client = as_person("moderator")
    response = post_form(
        client, _idea_url(idea, "/decide"), {"decision": "approve", "reason": "Ok"}
    )
    assert response.status_code == 303
    assert "This idea is not waiting for approval." in html(client.get(response.location))
    assert _fresh(db_session, Idea, idea.id).state == "hidden"
    assert _audit(db_session)[-1].action == "idea.auto_hide"


def test_hiding_a_comment_from_the_ideas_page(as_person, db_session, waiting):
    remark = waiting["comment"]
    idea = remark.idea
    client = as_person("moderator")
    assert _fresh(db_session, Idea, idea.id).comments_count == 1
    response = post_form(
        client,
        f"/console/lyon/comments/{remark.id}/decide",
        {"decision": "hide", "reason": "Insulte.", "back": "idea", "idea": str(idea.id)},
    )
    assert response.location == _idea_url(idea) + f"#comment-{remark.id}"
    saved = _fresh(db_session, Comment, remark.id)
    assert (saved.state, saved.moderation_reason) == ("hidden", "Insulte.")
    assert _fresh(db_session, Idea, idea.id).comments_count == 0
    page = html(client.get(_idea_url(idea)))
    assert "Hidden by a moderator: Insulte." in page


def test_another_citys_items_are_not_found(as_person, db_session, waiting, vienna, make_person):
    client = as_person("other_moderator")
    data = {"decision": "hide", "reason": "x"}
    assert (
        post_form(client, f"/console/vienna/ideas/{waiting['hidden'].id}/decide", data).status_code
        == 404
    )
    url = f"/console/vienna/comments/{waiting['comment'].id}/decide"
    assert post_form(client, url, data).status_code == 404
    assert _fresh(db_session, Idea, waiting["hidden"].id).moderation_reason is None


# --- pausing authors ------------------------------------------------------------------------


def _mute_url(person, action="mute") -> str:
    return f"/console/lyon/authors/{person.id}/{action}"


def test_an_author_is_paused_until_a_time_on_the_citys_clock(
    as_person, db_session, waiting, residents
):
    author = residents[0]
    idea = waiting["hidden"]
    client = as_person("moderator")
    data = {"reason": "Publicité répétée", "until": "2030-01-15T18:00", "back": "idea"}
    response = post_form(client, _mute_url(author), {**data, "idea": str(idea.id)})
    assert response.location == _idea_url(idea)
    db_session.expire_all()
    mute = db_session.scalar(sa.select(Mute).where(Mute.user_id == author.id))
    assert mute.until.replace(tzinfo=None).isoformat() == "2030-01-15T17:00:00"  # winter: UTC+1
    page = html(client.get(_idea_url(idea)))
    assert "can no longer post here until" in page and "posting paused" in page
    assert "Posting paused until 1/15/30, 6:00" in page
    response = post_form(client, _mute_url(author, "unmute"), {"reason": "C'est réglé."})
    assert response.location == QUEUE
    db_session.expire_all()
    assert db_session.scalar(sa.select(Mute).where(Mute.user_id == author.id)) is None
    assert [e.action for e in _audit(db_session)][-2:] == ["author.mute", "author.unmute"]
    assert len(_told(db_session, author)) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Give a reason: the author will see it."),
        ({"reason": "Spam", "until": "2001-01-01T10:00"}, "Choose a moment in the future."),
        ({"reason": "Spam", "until": "soon"}, "Enter a valid date and time."),
        ({"reason": "Spam", "until": "2030-03-31T02:30"}, "because the clocks are put forward"),
    ],
)
def test_a_wrong_pause_is_shown_again_and_nothing_changes(
    as_person, db_session, waiting, residents, data, message
):
    author = residents[0]
    key = f"mute-idea-{waiting['hidden'].id}"
    form = {**data, "back": "queue", "key": key}
    response = post_form(as_person("moderator"), _mute_url(author), form)
    assert response.status_code == 422
    page = html(response)
    item = page.split(f'id="idea-{waiting["hidden"].id}"', 1)[1].split("</article>")[0]
    assert "<details open>" in item
    assert message in unescape(item)
    db_session.expire_all()
    assert db_session.scalars(sa.select(Mute)).all() == []


def test_moderators_cannot_pause_themselves_or_strangers(as_person, db_session, people, waiting):
    client = as_person("moderator")
    response = post_form(client, _mute_url(people["moderator"]), {"reason": "Test"})
    assert response.status_code == 303
    assert "You cannot mute yourself." in html(client.get(response.location))
    assert (
        post_form(client, _mute_url(people["other_moderator"]), {"reason": "x"}).status_code == 404
    )
    assert (
        post_form(client, _mute_url(people["resident"], "unmute"), {"reason": "x"}).status_code
        == 303
    )
    db_session.expire_all()
    assert db_session.scalars(sa.select(Mute)).all() == []


# --- merging duplicates ---------------------------------------------------------------------


@pytest.fixture
def duplicates(db_session, board, people, residents):
    """Two ideas about a compost bin on a board with a budget of two supports: one resident
    supports both, another only the duplicate."""
    author, both, only_duplicate = residents
    boards.update_board(db_session, people["platform_admin"], board, support_budget=2)
    original = post(db_session, people["resident"], board, "Un composteur collectif")
    duplicate = post(db_session, author, board, "Composteur collectif dans la cour")
    comment(db_session, author, duplicate, "Ma version.")
    boards.set_phase(db_session, people["platform_admin"], board, "supporting")
    for person, idea in ((both, original), (both, duplicate), (only_duplicate, duplicate)):
        supports.support_idea(db_session, person, idea, utcnow())
    db_session.commit()
    return original, duplicate


def _used(db_session, person) -> int:
    db_session.expire_all()
    return db_session.scalar(
        sa.select(SupportBudget.used).where(SupportBudget.user_id == person.id)
    )


def test_a_duplicate_is_merged_after_choosing_and_confirming(
    as_person, db_session, duplicates, residents
):
    original, duplicate = duplicates
    author, both, only_duplicate = residents
    client = as_person("moderator")
    choose = html(client.get(_idea_url(duplicate, "/merge")))
    assert "Ideas that read alike" in choose
    assert f'href="{_idea_url(duplicate, "/merge")}?target={original.id}"' in unescape(choose)
    assert "Un composteur collectif" in html(
        client.get(_idea_url(duplicate, "/merge?q=composteur"))
    )
    assert "Un composteur collectif" in html(
        client.get(_idea_url(duplicate, f"/merge?q=%23{original.id}"))
    )
    assert "No published idea" in html(client.get(_idea_url(duplicate, "/merge?q=piscine")))
    confirm = html(client.get(_idea_url(duplicate, f"/merge?target={original.id}")))
    assert "Composteur collectif dans la cour" in confirm and "Un composteur collectif" in confirm
    assert f'name="target" value="{original.id}"' in confirm
    response = post_form(
        client, _idea_url(duplicate, "/merge"), {"target": str(original.id), "reason": "Même idée."}
    )
    assert response.status_code == 303 and response.location == _idea_url(original)
    assert "Supports moved: 1; supports given back to residents who supported both: 1." in unescape(
        html(client.get(response.location))
    )
    merged, target = _fresh(db_session, Idea, duplicate.id), _fresh(db_session, Idea, original.id)
    assert (merged.state, merged.merged_into_id, merged.supports_count) == (
        "merged",
        original.id,
        0,
    )
    assert target.supports_count == 2
    supporters = set(
        db_session.scalars(sa.select(Support.user_id).where(Support.idea_id == original.id))
    )
    assert supporters == {both.id, only_duplicate.id}
    assert (_used(db_session, both), _used(db_session, only_duplicate)) == (1, 1)
    assert _told(db_session, author, "idea.merged")
    assert _audit(db_session)[-1].details == {"into": original.id, "moved": 1, "freed": 1}
    page = html(client.get(_idea_url(duplicate)))
    assert "Merged into" in page and _idea_url(original) in page


def test_a_merge_without_reason_is_shown_again(as_person, db_session, duplicates):
    original, duplicate = duplicates
    response = post_form(
        as_person("moderator"), _idea_url(duplicate, "/merge"), {"target": str(original.id)}
    )
    assert response.status_code == 422
    assert "Give a reason: the author will see it." in unescape(html(response))
    assert _fresh(db_session, Idea, duplicate.id).state == "published"


def test_a_merge_target_must_be_a_published_idea_of_the_same_board(
    as_person, db_session, duplicates, people, board
):
    original, duplicate = duplicates
    other_board = open_board(db_session, people["platform_admin"], board.campaign)
    elsewhere = post(db_session, people["resident"], other_board, "Un composteur ailleurs")
    db_session.commit()
    client = as_person("moderator")
    assert client.get(_idea_url(duplicate, f"/merge?target={elsewhere.id}")).status_code == 404
    assert client.get(_idea_url(duplicate, "/merge?target=abc")).status_code == 400
    data = {"target": str(elsewhere.id), "reason": "x"}
    assert post_form(client, _idea_url(duplicate, "/merge"), data).status_code == 404
    # Whether the target can take a duplicate is the service's to judge.
    withdrawn = _fresh(db_session, Idea, original.id)
    withdrawn.state = "withdrawn"
    db_session.commit()
    data = {"target": str(original.id), "reason": "Même idée."}
    response = post_form(client, _idea_url(duplicate, "/merge"), data)
    assert response.status_code == 303
    assert "Ideas can only be merged into a published idea." in html(client.get(response.location))
    assert _fresh(db_session, Idea, duplicate.id).state == "published"


# --- forms need their token -----------------------------------------------------------------


IDEA_ROUTES = ("idea", "board", "comment", "author")


def test_every_idea_form_needs_its_csrf_token(as_person, db_session, people):
    ids = {name: person.id for name, person in people.items()}
    ids |= permission_world(db_session, people)
    client = as_person("admin")
    csrf_token(client)  # a session exists, but the forms are sent without its token
    before = idea_state(db_session)
    posts = [
        (path, data)
        for (endpoint, method), (path, data, _expected) in ROUTES.items()
        if method == "POST" and any(word in endpoint for word in IDEA_ROUTES)
    ]
    assert len(posts) == 10
    for path, data in posts:
        form = {k: v.format(**ids) if isinstance(v, str) else v for k, v in data.items()}
        assert client.post(path.format(**ids), data=form).status_code == 400, path
    assert idea_state(db_session) == before


def test_a_refused_decision_shows_the_page_of_the_queue_it_came_from(
    as_person, db_session, board, people, residents
):
    author, first, _second = residents
    ideas = [post(db_session, author, board, f"Annonce numéro {n:02d}") for n in range(27)]
    for idea in ideas:
        flags.flag(db_session, first, idea, "spam", None, utcnow())
    db_session.commit()
    client = as_person("moderator")
    assert "Annonce numéro 26" in html(client.get(QUEUE + "?page=2"))
    last = ideas[-1]
    form = {"decision": "hide", "reason": "", "back": "queue", "page": "2"}
    response = post_form(client, _idea_url(last, "/decide"), form)
    assert response.status_code == 422
    item = html(response).split(f'id="idea-{last.id}"', 1)[1].split("</article>")[0]
    assert "Give a reason" in unescape(item)
