"""Idea boards through the API: boards, ideas, similar ideas and comments; another city's
things are not found and another author's are not theirs to change."""

import uuid

import pytest
import sqlalchemy as sa

from app.db import utcnow
from ideas.models import (
    BoardStatus,
    Comment,
    CommentState,
    Idea,
    IdeaState,
    IdeaStatusChange,
    Phase,
    Support,
)
from tests.api.helpers import assert_problem
from tests.ideas import conftest as ideas_fixtures

# The ideas tests' fixtures: a published campaign of Lyon and boards and ideas on it.
board_of, comment_on, idea_on = (
    ideas_fixtures.board_of,
    ideas_fixtures.comment_on,
    ideas_fixtures.idea_on,
)

IDEA_FIELDS = {
    "id",
    "board_id",
    "title",
    "excerpt",
    "category",
    "category_label",
    "language",
    "author",
    "supports_count",
    "comments_count",
    "official_status",
    "state",
    "moderation_reason",
    "mine",
    "supported_by_me",
    "latitude",
    "longitude",
    "created_at",
    "published_at",
}
DETAIL_FIELDS = IDEA_FIELDS | {
    "body",
    "status_history",
    "merged_into",
    "editable",
    "edit_until",
    "edited_at",
    "withdrawn_at",
}
COMMENT_FIELDS = {
    "id",
    "parent_id",
    "state",
    "body",
    "author",
    "language",
    "mine",
    "moderation_reason",
    "created_at",
    "edited_at",
    "replies",
}
XSS_TITLE = '<script>alert("t")</script> Jardin <img src=x onerror=alert(1)>'
XSS_BODY = '**Bacs** <script>alert(1)</script> [x](javascript:alert(2)) <b onclick="x()">b</b>'


@pytest.fixture
def author(lyon, make_user):
    return make_user(lyon, email="camille.martin@example.org")


@pytest.fixture
def board(db_session, board_of):
    made = board_of(
        categories=[{"code": "green", "label": {"fr": "Nature", "en": "Green"}}],
        description={"fr": "Vos **idées**", "en": "Your **ideas**"},
        support_budget=3,
    )
    db_session.commit()
    return made


@pytest.fixture
def idea(db_session, board, idea_on, author):
    made = idea_on(board, author, category="green")
    db_session.commit()
    return made


@pytest.fixture
def elsewhere(db_session, vienna, make_user, bearer):
    """A resident of Vienna, signed in."""
    return bearer(make_user(vienna))


def new_idea(**values) -> dict:
    return {
        "client_uuid": str(uuid.uuid4()),
        "title": "Des bancs à l'ombre",
        "body": "Pour s'asseoir l'été près des jeux.",
    } | values


def new_comment(**values) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "body": "Bonne idée !"} | values


# --- boards ---------------------------------------------------------------------------------


def test_boards_of_my_city_in_my_language(client, bearer, resident, board, board_of, db_session):
    board_of(status=BoardStatus.DRAFT)
    db_session.commit()
    headers = bearer(resident, **{"Accept-Language": "en"})
    listed = client.get("/api/v1/boards", headers=headers)
    assert listed.status_code == 200
    assert [(b["id"], b["title"]) for b in listed.get_json()] == [
        (board.id, "Courtyard of block 7")
    ]
    assert client.get(f"/api/v1/boards?campaign={board.campaign_id}", headers=headers).get_json()
    assert client.get("/api/v1/boards?campaign=999999", headers=headers).get_json() == []
    assert_problem(client.get("/api/v1/boards?campaign=x", headers=headers), 400)

    detail = client.get(f"/api/v1/boards/{board.id}", headers=headers)
    body = detail.get_json()
    assert body["description"] == "<p>Your <strong>ideas</strong></p>"
    assert body["categories"] == [{"code": "green", "label": "Green"}]
    assert (body["phase"], body["support_budget"], body["supports_left"]) == ("collecting", 3, 3)
    assert body["supports_withdrawable"] is True


def test_board_answers_304_until_it_changes(client, bearer, resident, board, db_session):
    headers = bearer(resident)
    for path in ("/api/v1/boards", f"/api/v1/boards/{board.id}"):
        first = client.get(path, headers=headers)
        cached = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
        assert cached.status_code == 304
    etag = client.get(f"/api/v1/boards/{board.id}", headers=headers).headers["ETag"]
    board.phase, board.updated_at = Phase.SUPPORTING, utcnow()
    db_session.commit()
    changed = client.get(f"/api/v1/boards/{board.id}", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["phase"] == "supporting"


# --- posting and reading ideas --------------------------------------------------------------


def test_posting_an_idea_and_sending_it_again(client, bearer, resident, board, db_session):
    headers = bearer(resident, **{"Accept-Language": "uk"})
    sent = new_idea(category="green")
    created = client.post(f"/api/v1/boards/{board.id}/ideas", json=sent, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert set(body) == DETAIL_FIELDS
    assert (body["state"], body["language"], body["mine"], body["editable"]) == (
        "published",
        "uk",
        True,
        True,
    )
    assert body["category_label"] == "Nature"
    again = client.post(f"/api/v1/boards/{board.id}/ideas", json=sent, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    changed = client.post(
        f"/api/v1/boards/{board.id}/ideas",
        json={**sent, "title": "Autre chose ici"},
        headers=headers,
    )
    assert_problem(changed, 409, "idea-changed")
    assert db_session.scalar(sa.select(sa.func.count(Idea.id))) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"author_id": 1},
        {"supports_count": 99},
        {"city_id": 2},
        {"state": "published"},
        {"language": "de"},
        {"board_id": 3},
    ],
)
def test_fields_a_resident_may_not_set_are_refused(
    client, bearer, resident, board, db_session, extra
):
    response = client.post(
        f"/api/v1/boards/{board.id}/ideas", json=new_idea(**extra), headers=bearer(resident)
    )
    assert_problem(response, 422)
    assert db_session.scalar(sa.select(sa.func.count(Idea.id))) == 0


def test_bad_ideas_are_refused_field_by_field(client, bearer, resident, board):
    response = client.post(
        f"/api/v1/boards/{board.id}/ideas",
        json=new_idea(title="Non", category="sport", client_uuid="not-a-uuid"),
        headers=bearer(resident),
    )
    assert set(assert_problem(response, 422)["errors"]) == {"client_uuid"}
    response = client.post(
        f"/api/v1/boards/{board.id}/ideas",
        json=new_idea(title="Non", category="sport", latitude=45.7),
        headers=bearer(resident),
    )
    assert set(assert_problem(response, 422)["errors"]) == {"title", "category", "latitude"}


def test_script_in_title_and_body_never_comes_out_as_markup(client, bearer, resident, board):
    headers = bearer(resident)
    posted = client.post(
        f"/api/v1/boards/{board.id}/ideas",
        json=new_idea(title=XSS_TITLE, body=XSS_BODY),
        headers=headers,
    ).get_json()
    # The title is plain text: shown as typed, never as markup.
    assert posted["title"] == XSS_TITLE
    assert posted["body"] == (
        "<p><strong>Bacs</strong> &lt;script&gt;alert(1)&lt;/script&gt; "
        '[x](javascript:alert(2)) &lt;b onclick="x()"&gt;b&lt;/b&gt;</p>'
    )
    listed = client.get(f"/api/v1/boards/{board.id}/ideas", headers=headers).get_json()
    assert listed["items"][0]["excerpt"] == (
        'Bacs <script>alert(1)</script> [x](javascript:alert(2)) <b onclick="x()">b</b>'
    )


def test_posting_is_throttled_with_retry_after(client, bearer, resident, board):
    headers = bearer(resident)
    statuses = [
        client.post(f"/api/v1/boards/{board.id}/ideas", json=new_idea(), headers=headers)
        for _ in range(6)
    ]
    assert [r.status_code for r in statuses] == [201] * 5 + [429]
    assert int(statuses[-1].headers["Retry-After"]) > 0
    assert_problem(statuses[-1], 429, "too-many-requests")
    # Reading is not throttled.
    assert client.get(f"/api/v1/boards/{board.id}/ideas", headers=headers).status_code == 200


def test_a_board_not_collecting_takes_no_idea(client, bearer, resident, board, db_session):
    board.phase = Phase.SUPPORTING
    db_session.commit()
    response = client.post(
        f"/api/v1/boards/{board.id}/ideas", json=new_idea(), headers=bearer(resident)
    )
    assert_problem(response, 409, "not-collecting")


def test_the_list_pages_sorts_and_filters(
    client,
    translate,
    bearer,
    resident,
    author,
    board,
    idea_on,
    db_session,
):
    made = [idea_on(board, author, title=f"Idée numéro {n}") for n in range(5)]
    for n, idea in enumerate(made):
        idea.supports_count = n
    gone = idea_on(board, None, title="Sans auteur désormais")
    db_session.add(Support(idea_id=made[1].id, board_id=board.id, user_id=resident.id))
    db_session.commit()
    headers = bearer(resident)
    path = f"/api/v1/boards/{board.id}/ideas"

    first = client.get(f"{path}?sort=most_supported&limit=2", headers=headers).get_json()
    assert [i["title"] for i in first["items"]] == ["Idée numéro 4", "Idée numéro 3"]
    assert set(first["items"][0]) == IDEA_FIELDS
    second = client.get(
        f"{path}?sort=most_supported&limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    assert [i["title"] for i in second["items"]] == ["Idée numéro 2", "Idée numéro 1"]
    assert [i["supported_by_me"] for i in second["items"]] == [False, True]
    assert_problem(
        client.get(f"{path}?sort=newest&cursor={first['next_cursor']}", headers=headers), 400
    )
    assert_problem(client.get(f"{path}?cursor=bm90IGEgY3Vyc29y", headers=headers), 400)

    everything = client.get(f"{path}?sort=random&limit=1000", headers=headers).get_json()
    assert len(everything["items"]) == 6 and everything["next_cursor"] is None
    authors = {i["title"]: i["author"] for i in everything["items"]}
    assert authors["Sans auteur désormais"] == translate("fr", "deleted participant")
    assert authors["Idée numéro 0"] == "Camille Martin"
    supported = client.get(f"{path}?supported=true", headers=headers).get_json()["items"]
    assert [i["id"] for i in supported] == [made[1].id]
    assert gone.id not in [
        i["id"] for i in client.get(f"{path}?mine=true", headers=headers).get_json()["items"]
    ]


@pytest.mark.parametrize(
    "query",
    ["sort=password", "sort=id;DROP TABLE ideas", "status=maybe", "limit=0", "colour=red"],
)
def test_list_parameters_outside_the_allow_list_are_refused(client, bearer, resident, board, query):
    response = client.get(f"/api/v1/boards/{board.id}/ideas?{query}", headers=bearer(resident))
    assert_problem(response, 400)


def test_the_list_answers_304_until_something_changes(
    client, bearer, resident, author, board, idea, db_session
):
    headers = bearer(resident)
    path = f"/api/v1/boards/{board.id}/ideas"
    etag = client.get(path, headers=headers).headers["ETag"]
    assert client.get(path, headers={**headers, "If-None-Match": etag}).status_code == 304
    db_session.add(Support(idea_id=idea.id, board_id=board.id, user_id=resident.id))
    db_session.commit()
    changed = client.get(path, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.get_json()["items"][0]["supported_by_me"] is True


def test_an_idea_with_its_answers_and_where_it_went(
    client,
    bearer,
    resident,
    author,
    board,
    idea,
    idea_on,
    db_session,
):
    target = idea_on(board, author, title="La grande idée")
    idea.state, idea.merged_into_id = IdeaState.MERGED, target.id
    idea.official_status = "accepted"
    db_session.add(
        IdeaStatusChange(
            idea_id=idea.id, status="accepted", response={"fr": "Oui, **en 2027**", "en": "Yes"}
        )
    )
    db_session.commit()
    body = client.get(f"/api/v1/ideas/{idea.id}", headers=bearer(resident)).get_json()
    assert body["body"] == "<p>Des bacs pour tous.</p>"
    assert body["merged_into"] == {"id": target.id, "title": "La grande idée"}
    assert [(s["status"], s["response"]) for s in body["status_history"]] == [
        ("accepted", "<p>Oui, <strong>en 2027</strong></p>")
    ]
    assert (body["mine"], body["editable"], body["edit_until"]) == (False, False, None)


def test_authors_see_their_ideas_out_of_sight_with_the_reason(
    client, bearer, resident, author, board, idea, db_session
):
    idea.state, idea.moderation_reason = IdeaState.HIDDEN, "Propos injurieux"
    db_session.commit()
    mine = client.get(f"/api/v1/ideas/{idea.id}", headers=bearer(author)).get_json()
    assert (mine["state"], mine["moderation_reason"]) == ("hidden", "Propos injurieux")
    listed = client.get(f"/api/v1/boards/{board.id}/ideas", headers=bearer(author)).get_json()
    assert [i["moderation_reason"] for i in listed["items"]] == ["Propos injurieux"]
    assert_problem(client.get(f"/api/v1/ideas/{idea.id}", headers=bearer(resident)), 404)
    theirs = client.get(f"/api/v1/boards/{board.id}/ideas", headers=bearer(resident)).get_json()
    assert theirs["items"] == []


def test_the_author_edits_and_withdraws(client, bearer, author, board, idea, db_session):
    headers = bearer(author)
    edited = client.patch(
        f"/api/v1/ideas/{idea.id}", json={"title": "Un potager fleuri"}, headers=headers
    )
    assert edited.status_code == 200 and edited.get_json()["title"] == "Un potager fleuri"
    assert edited.get_json()["edited_at"] is not None
    assert_problem(
        client.patch(f"/api/v1/ideas/{idea.id}", json={"supports_count": 0}, headers=headers), 422
    )
    withdrawn = client.post(f"/api/v1/ideas/{idea.id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert client.post(f"/api/v1/ideas/{idea.id}/withdraw", headers=headers).status_code == 200
    listed = client.get(f"/api/v1/boards/{board.id}/ideas", headers=headers).get_json()
    assert listed["items"] == []


# --- similar ideas --------------------------------------------------------------------------


def test_similar_ideas_while_drafting(client, bearer, resident, author, board, idea_on, db_session):
    garden = idea_on(board, author, title="Un jardin partagé dans la cour")
    garden.search_text = "un jardin partage dans la cour des bacs pour tous."
    idea_on(board, author, title="Éclairage du parc la nuit")
    db_session.commit()
    found = client.post(
        f"/api/v1/boards/{board.id}/similar",
        json={"title": "Jardins partagés", "body": "dans la cour"},
        headers=bearer(resident),
    )
    assert found.status_code == 200
    [only] = found.get_json()
    assert (only["id"], only["title"]) == (garden.id, "Un jardin partagé dans la cour")
    assert (
        set(only) == {"id", "title", "excerpt", "supports_count", "score"} and only["score"] > 0.25
    )
    assert_problem(
        client.post(f"/api/v1/boards/{board.id}/similar", json={}, headers=bearer(resident)), 422
    )


# --- comments -------------------------------------------------------------------------------


def test_a_thread_with_replies_and_a_deleted_comment(
    client, bearer, resident, author, board, idea, db_session
):
    mine, theirs = bearer(resident), bearer(author)
    path = f"/api/v1/ideas/{idea.id}/comments"
    sent = new_comment(body="Oui, avec des <b>fleurs</b>")
    first = client.post(path, json=sent, headers=mine)
    assert first.status_code == 201
    top = first.get_json()
    assert set(top) == COMMENT_FIELDS
    assert top["body"] == "<p>Oui, avec des &lt;b&gt;fleurs&lt;/b&gt;</p>"
    assert client.post(path, json=sent, headers=mine).status_code == 200
    assert_problem(client.post(path, json={**sent, "body": "Autre"}, headers=mine), 409)
    reply = client.post(path, json=new_comment(parent_id=top["id"]), headers=theirs).get_json()
    nested = client.post(path, json=new_comment(parent_id=reply["id"]), headers=mine)
    assert "parent_id" in assert_problem(nested, 422)["errors"]

    assert client.delete(f"/api/v1/comments/{top['id']}", headers=mine).status_code == 204
    assert client.delete(f"/api/v1/comments/{top['id']}", headers=mine).status_code == 204
    thread = client.get(path, headers=theirs).get_json()
    [shown] = thread["items"]
    assert (shown["state"], shown["body"], shown["author"]) == ("deleted", None, None)
    assert [r["id"] for r in shown["replies"]] == [reply["id"]]
    assert thread["next_cursor"] is None
    assert db_session.scalar(sa.select(Idea.comments_count).where(Idea.id == idea.id)) == 1


def test_hidden_comments_only_for_their_author(
    client, bearer, resident, author, idea, comment_on, db_session
):
    comment_on(idea, resident, "Insultant", state=CommentState.HIDDEN, moderation_reason="Insulte")
    db_session.commit()
    path = f"/api/v1/ideas/{idea.id}/comments"
    [seen] = client.get(path, headers=bearer(resident)).get_json()["items"]
    assert (seen["state"], seen["moderation_reason"]) == ("hidden", "Insulte")
    assert client.get(path, headers=bearer(author)).get_json()["items"] == []


def test_comments_page_and_answer_304(client, bearer, resident, idea, db_session):
    headers = bearer(resident)
    path = f"/api/v1/ideas/{idea.id}/comments"
    for n in range(3):
        client.post(path, json=new_comment(body=f"Commentaire {n}"), headers=headers)
    first = client.get(f"{path}?limit=2", headers=headers)
    assert [c["body"] for c in first.get_json()["items"]] == [
        "<p>Commentaire 0</p>",
        "<p>Commentaire 1</p>",
    ]
    cursor = first.get_json()["next_cursor"]
    rest = client.get(f"{path}?limit=2&cursor={cursor}", headers=headers).get_json()
    assert [c["body"] for c in rest["items"]] == ["<p>Commentaire 2</p>"]
    etag = first.headers["ETag"]
    again = client.get(f"{path}?limit=2", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304


def test_commenting_is_throttled_with_retry_after(client, bearer, resident, idea):
    headers = bearer(resident)
    path = f"/api/v1/ideas/{idea.id}/comments"
    statuses = [client.post(path, json=new_comment(), headers=headers) for _ in range(11)]
    assert [r.status_code for r in statuses] == [201] * 10 + [429]
    assert int(statuses[-1].headers["Retry-After"]) > 0


def test_the_author_edits_a_comment(client, bearer, resident, idea):
    headers = bearer(resident)
    posted = client.post(f"/api/v1/ideas/{idea.id}/comments", json=new_comment(), headers=headers)
    edited = client.patch(
        f"/api/v1/comments/{posted.get_json()['id']}", json={"body": "Très bien"}, headers=headers
    )
    assert edited.status_code == 200
    assert (edited.get_json()["body"], edited.get_json()["replies"]) == ("<p>Très bien</p>", [])


# --- another city, another author: every endpoint -------------------------------------------


@pytest.fixture
def world(db_session, board, idea, comment_on, resident, author):
    comment = comment_on(idea, author, "Le commentaire de l'auteur")
    db_session.commit()
    return {"board": board.id, "idea": idea.id, "comment": comment.id}


ENDPOINTS = [
    ("GET", "/api/v1/boards/{board}", None),
    ("GET", "/api/v1/boards/{board}/ideas", None),
    ("POST", "/api/v1/boards/{board}/ideas", new_idea()),
    ("POST", "/api/v1/boards/{board}/similar", {"title": "Un potager"}),
    ("GET", "/api/v1/ideas/{idea}", None),
    ("PATCH", "/api/v1/ideas/{idea}", {"title": "Un autre titre"}),
    ("POST", "/api/v1/ideas/{idea}/withdraw", None),
    ("GET", "/api/v1/ideas/{idea}/comments", None),
    ("POST", "/api/v1/ideas/{idea}/comments", new_comment()),
    ("PATCH", "/api/v1/comments/{comment}", {"body": "Modifié"}),
    ("DELETE", "/api/v1/comments/{comment}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_another_citys_board_idea_or_comment_is_not_found(
    client, world, elsewhere, db_session, method, path, body
):
    response = client.open(path.format(**world), method=method, json=body, headers=elsewhere)
    assert_problem(response, 404)
    assert db_session.scalar(sa.select(sa.func.count(Idea.id))) == 1
    assert db_session.scalar(sa.select(Comment.state)) == "published"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [e for e in ENDPOINTS if e[0] in ("PATCH", "DELETE") or e[1].endswith("withdraw")],
)
def test_another_authors_idea_or_comment_is_not_mine_to_change(
    client, world, bearer, resident, db_session, method, path, body
):
    response = client.open(path.format(**world), method=method, json=body, headers=bearer(resident))
    assert_problem(response, 403, "not-the-author")
    idea = db_session.scalar(sa.select(Idea))
    assert (idea.title, idea.state) == ("Un potager partagé", "published")
    comment = db_session.scalar(sa.select(Comment))
    assert (comment.body, comment.state) == ("Le commentaire de l'auteur", "published")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_unknown_ids_are_not_found(client, world, bearer, resident, method, path, body):
    missing = {name: 2**31 - 1 for name in world}
    response = client.open(
        path.format(**missing), method=method, json=body, headers=bearer(resident)
    )
    assert_problem(response, 404)
    huge = {name: 2**40 for name in world}
    response = client.open(path.format(**huge), method=method, json=body, headers=bearer(resident))
    assert_problem(response, 404)


def test_resending_a_posted_idea_does_not_use_up_the_limit(client, bearer, resident, board):
    headers = bearer(resident)
    url = f"/api/v1/boards/{board.id}/ideas"
    first = new_idea()
    assert client.post(url, json=first, headers=headers).status_code == 201
    resends = [client.post(url, json=first, headers=headers).status_code for _ in range(6)]
    assert resends == [200] * 6
    fresh = [client.post(url, json=new_idea(), headers=headers).status_code for _ in range(5)]
    assert fresh == [201] * 4 + [429]
