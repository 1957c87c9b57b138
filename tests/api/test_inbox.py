"""My in-app inbox through the API: what the in-app channel delivered, newest first, read state.

Notifications are recorded with ``notify`` for the real kind ``update.published`` and delivered
by the outbox worker; email and push go to a recorder. Rendering is stubbed but in one test (the
update's templates have their own tests): these tests are about which notifications it shows.
"""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from notifications import delivery, service
from notifications.models import Channel, Delivery, Notification, NotificationPreference
from notifications.render import Rendered, render
from tests.api.helpers import assert_problem

KIND = "update.published"
ITEM_FIELDS = {
    "id",
    "kind",
    "subject",
    "body_text",
    "body_html",
    "data",
    "created_at",
    "read",
    "read_at",
}


@pytest.fixture(autouse=True)
def plain_rendering(monkeypatch):
    def render(_kind, _locale, _timezone, context):
        title = context["title"]
        return Rendered(title, f"{title}\n", f"<p>{title}</p>")

    monkeypatch.setattr(service, "render", render)


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """Email and push go to this list instead of a provider."""
    outbox = []

    class Recorder:
        def send(self, item):
            outbox.append(item.id)

    @contextmanager
    def opener(_app):
        yield Recorder()

    monkeypatch.setattr(delivery, "_openers", lambda: {Channel.EMAIL: opener, Channel.PUSH: opener})
    return outbox


@pytest.fixture
def tell(app, db_session):
    """Record an update notification for ``user``; returns its id."""

    def tell_(user, title, **data) -> int:
        with app.app_context():
            service.notify(db_session, [user], KIND, {"title": title}, data=data)
            db_session.commit()
        return db_session.scalar(
            sa.select(sa.func.max(Notification.id)).where(Notification.user_id == user.id)
        )

    return tell_


@pytest.fixture
def deliver(app, db_session):
    def deliver_() -> int:
        with app.app_context():
            return delivery.deliver_due(db_session)

    return deliver_


@pytest.fixture
def resident(lyon, make_user):
    return make_user(lyon, email="resident@example.org")


def _inbox(client, headers, **query):
    response = client.get("/api/v1/notifications", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def _unread(client, headers) -> int:
    response = client.get("/api/v1/notifications/unread-count", headers=headers)
    assert response.status_code == 200
    return response.json["unread"]


def test_the_inbox_lists_delivered_notifications_newest_first(
    client, resident, bearer, tell, deliver
):
    headers = bearer(resident)
    first = tell(resident, "Scaffolding on Monday", update_id=1)
    deliver()
    second = tell(resident, "The courtyard opens", update_id=2)
    deliver()
    tell(resident, "Not delivered yet", update_id=3)

    page = _inbox(client, headers)

    assert [item["id"] for item in page["items"]] == [second, first]
    assert page["next_cursor"] is None
    item = page["items"][0]
    assert set(item) == ITEM_FIELDS
    assert item["kind"] == KIND
    assert item["subject"] == "The courtyard opens"
    assert item["body_text"] == "The courtyard opens\n"
    assert item["body_html"] == "<p>The courtyard opens</p>"
    assert item["data"] == {"update_id": 2}
    assert item["read"] is False and item["read_at"] is None
    assert item["created_at"].endswith("+00:00")


def test_a_notification_told_only_by_email_never_reaches_the_inbox(
    client, db_session, resident, bearer, tell, deliver, sent
):
    db_session.add(
        NotificationPreference(
            user_id=resident.id, kind=KIND, inbox=False, push=True, email="immediate"
        )
    )
    db_session.commit()
    tell(resident, "By email only")
    deliver()
    assert len(sent) == 1  # the email went out
    assert _inbox(client, bearer(resident))["items"] == []
    assert _unread(client, bearer(resident)) == 0


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, resident, bearer, tell, deliver):
    headers = bearer(resident)
    told = []
    for n in range(5):
        told.append(tell(resident, f"Update {n}"))
        deliver()
    newest_first = told[::-1]

    first = _inbox(client, headers, limit=2)
    # Something arriving meanwhile does not shift the pages already being read.
    tell(resident, "Arrived while paging")
    deliver()
    second = _inbox(client, headers, limit=2, cursor=first["next_cursor"])
    third = _inbox(client, headers, limit=2, cursor=second["next_cursor"])

    pages = [first, second, third]
    assert [[i["id"] for i in p["items"]] for p in pages] == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [{"cursor": "not-a-cursor"}, {"unread": "perhaps"}, {"limit": 0}, {"sort": "read_at"}],
)
def test_odd_query_parameters_are_refused(client, resident, bearer, query):
    response = client.get("/api/v1/notifications", query_string=query, headers=bearer(resident))
    assert_problem(response, 400)


def test_reading_lowers_the_unread_count_and_keeps_the_first_read_time(
    client, resident, bearer, tell, deliver
):
    headers = bearer(resident)
    ids = [tell(resident, f"Update {n}") for n in range(3)]
    deliver()
    assert _unread(client, headers) == 3

    read = client.post(f"/api/v1/notifications/{ids[0]}/read", headers=headers)
    assert read.status_code == 200
    assert set(read.json) == ITEM_FIELDS
    assert read.json["id"] == ids[0] and read.json["read"] is True and read.json["read_at"]
    again = client.post(f"/api/v1/notifications/{ids[0]}/read", headers=headers)
    assert again.status_code == 200 and again.json["read_at"] == read.json["read_at"]

    assert _unread(client, headers) == 2
    unread = _inbox(client, headers, unread="true")
    assert [item["id"] for item in unread["items"]] == [ids[2], ids[1]]
    everything = _inbox(client, headers)
    assert [item["read"] for item in everything["items"]] == [False, False, True]


def test_read_all_marks_what_is_delivered_and_says_how_many(
    client, db_session, resident, bearer, tell, deliver
):
    headers = bearer(resident)
    read_first = tell(resident, "Read before")
    deliver()
    client.post(f"/api/v1/notifications/{read_first}/read", headers=headers)
    tell(resident, "Unread one")
    tell(resident, "Unread two")
    deliver()
    waiting = tell(resident, "Not delivered yet")

    response = client.post("/api/v1/notifications/read-all", headers=headers)

    assert response.status_code == 200 and response.json == {"marked": 2}
    assert _unread(client, headers) == 0
    assert _inbox(client, headers, unread="true")["items"] == []
    assert client.post("/api/v1/notifications/read-all", headers=headers).json == {"marked": 0}
    # Delivered later, it arrives unread.
    deliver()
    assert _unread(client, headers) == 1
    assert [i["id"] for i in _inbox(client, headers, unread="true")["items"]] == [waiting]


def test_someone_elses_notification_is_not_found_and_stays_unread(
    client, db_session, lyon, vienna, resident, make_user, bearer, tell, deliver
):
    neighbour = make_user(lyon)
    stranger = make_user(vienna)
    theirs = tell(neighbour, "For the neighbour")
    elsewhere = tell(stranger, "For Vienna")
    deliver()
    not_delivered = tell(resident, "Mine, not delivered yet")
    headers = bearer(resident)

    for notification_id in (theirs, elsewhere, not_delivered, 2_000_000_000):
        response = client.post(f"/api/v1/notifications/{notification_id}/read", headers=headers)
        body = assert_problem(response, 404, "not-found")
        assert set(body) == {"type", "title", "status"}
    assert client.post("/api/v1/notifications/read-all", headers=headers).json == {"marked": 0}

    assert _inbox(client, headers)["items"] == []
    assert _unread(client, headers) == 0
    db_session.expire_all()
    assert db_session.scalars(sa.select(Notification.read_at)).all() == [None, None, None]
    assert _unread(client, bearer(neighbour)) == 1


def test_the_inbox_needs_a_signed_in_person(client):
    for method, path in [
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/notifications/unread-count"),
        ("POST", "/api/v1/notifications/1/read"),
        ("POST", "/api/v1/notifications/read-all"),
    ]:
        assert_problem(client.open(path, method=method), 401)


def test_reading_changes_only_the_read_time(client, db_session, resident, bearer, tell, deliver):
    notification_id = tell(resident, "Update")
    deliver()
    before = db_session.get(Notification, notification_id)
    inbox_at, subject = before.inbox_at, before.subject
    client.post(f"/api/v1/notifications/{notification_id}/read", headers=bearer(resident))
    after = db_session.get(Notification, notification_id, populate_existing=True)
    assert (after.inbox_at, after.subject) == (inbox_at, subject)
    assert after.read_at is not None
    # The in-app delivery itself was sent once and stays so.
    statuses = db_session.scalars(sa.select(Delivery.status).where(Delivery.channel == "inbox"))
    assert list(statuses) == ["sent"]


def test_the_inbox_shows_the_update_as_rendered_in_my_language(
    app, client, db_session, lyon, make_user, bearer, deliver, monkeypatch
):
    monkeypatch.setattr(service, "render", render)  # the real templates this time
    person = make_user(lyon, locale="en")
    title = {"fr": "La cour ouvre", "en": "The courtyard opens"}
    with app.app_context():
        service.notify(db_session, [person], KIND, {"title": title, "summary": {}}, data={"u": 1})
        db_session.commit()
    deliver()
    (item,) = _inbox(client, bearer(person))["items"]
    assert item["subject"] == "The courtyard opens"
    assert item["data"] == {"u": 1}
