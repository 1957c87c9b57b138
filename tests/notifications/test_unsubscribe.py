"""The unsubscribe link of every email: works without signing in, changes nothing on GET, undoes."""

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from notifications import unsubscribe
from notifications.models import (
    Delivery,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from tests.notifications.conftest import NEWS
from tests.notifications.test_email import deliver, send_code, tell

pytestmark = pytest.mark.usefixtures("mail_kinds")


def link_path(message) -> str:
    """The path of the mail's List-Unsubscribe link (the test client speaks to this app)."""
    return urlsplit(message["List-Unsubscribe"][1:-1]).path


def emails_for(session, user, kind=NEWS) -> int:
    return session.scalar(
        sa.select(sa.func.count(Delivery.id))
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == user.id, Notification.kind == kind)
        .where(Delivery.channel == "email")
    )


def preference(session, user, kind=NEWS) -> NotificationPreference | None:
    session.expire_all()
    return session.get(NotificationPreference, (user.id, kind))


def undo_value(page: str) -> str:
    return re.search(r'name="email" value="([a-z]*)"', page)[1]


@pytest.fixture
def mailed(app, db_session, lyon, make_user, smtp_server):
    """A person who received one NEWS mail; returns (person, the mail)."""
    user = make_user(lyon, email="lea@example.org")
    tell(app, db_session, [user])
    deliver(app, db_session)
    [message] = smtp_server.messages
    return user, message


def test_following_the_link_stops_that_kind_of_email_without_signing_in(
    app, db_session, client, mailed, smtp_server
):
    user, message = mailed
    path = link_path(message)

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "fr"  # the recipient's language, not the reader's
    assert '<html lang="fr">' in page.text
    assert f'action="{path}"' in page.text  # the button posts back to the same link
    assert preference(db_session, user) is None  # looking changes nothing

    done = client.post(path)
    assert done.status_code == 200
    stored = preference(db_session, user)
    assert stored.email == EmailMode.OFF
    assert (stored.inbox, stored.push) == (True, True)  # the app keeps showing it

    tell(app, db_session, [user], title="Encore")
    assert emails_for(db_session, user) == 1  # only the first one, before unsubscribing
    assert deliver(app, db_session) == 1  # the inbox entry; no mail
    assert len(smtp_server.messages) == 1


def test_a_mail_providers_one_click_post_unsubscribes(app, db_session, client, mailed):
    user, message = mailed
    # RFC 8058: a bare POST with this body, no cookies, no CSRF token.
    response = client.post(link_path(message), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert preference(db_session, user).email == EmailMode.OFF


def test_opening_the_link_any_number_of_times_changes_nothing(
    app, db_session, client, mailed, smtp_server
):
    user, message = mailed
    for _ in range(3):
        assert client.get(link_path(message)).status_code == 200
        assert client.head(link_path(message)).status_code == 200
    assert preference(db_session, user) is None
    tell(app, db_session, [user], title="Encore")
    deliver(app, db_session)
    assert len(smtp_server.messages) == 2


def test_undo_brings_back_the_email_as_it_was(app, db_session, client, mailed, smtp_server):
    user, message = mailed
    db_session.add(
        NotificationPreference(
            user_id=user.id, kind=NEWS, inbox=True, push=False, email=EmailMode.DAILY
        )
    )
    db_session.commit()
    path = link_path(message)
    done = client.post(path)
    assert preference(db_session, user).email == EmailMode.OFF
    assert undo_value(done.text) == "daily"

    again = client.post(f"{path}/undo", data={"email": undo_value(done.text)})
    assert again.status_code == 200
    restored = preference(db_session, user)
    assert (restored.email, restored.inbox, restored.push) == (EmailMode.DAILY, True, False)
    # And the page offers to unsubscribe again.
    assert f'action="{path}"' in again.text


def test_undo_without_knowing_the_earlier_choice_restores_the_default(
    app, db_session, client, mailed
):
    user, message = mailed
    path = link_path(message)
    client.post(path)
    page = client.get(path)  # later: the page says it is off and offers to undo
    assert undo_value(page.text) == ""
    client.post(f"{path}/undo", data={"email": ""})
    assert preference(db_session, user).email == EmailMode.IMMEDIATE


def test_a_code_mails_link_pauses_all_optional_email_but_codes_still_arrive(
    app, db_session, client, lyon, make_user, smtp_server, translate
):
    user = make_user(lyon)
    send_code(app, db_session, user, code="310733")
    deliver(app, db_session)
    path = link_path(smtp_server.messages[0])
    assert client.post(path).status_code == 200
    db_session.expire_all()
    assert db_session.get(NotificationSettings, user.id).email_paused_at is not None

    tell(app, db_session, [user])
    send_code(app, db_session, user, code="552190")
    deliver(app, db_session)
    assert emails_for(db_session, user) == 0  # no news by email while paused
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == [translate("fr", "Your Living Lab password reset code")] * 2

    client.post(f"{path}/undo")
    db_session.expire_all()
    assert db_session.get(NotificationSettings, user.id).email_paused_at is None
    tell(app, db_session, [user], title="Retour")
    assert emails_for(db_session, user) == 1


def test_the_page_speaks_the_recipients_language_and_keeps_the_link_private(
    app, db_session, client, vienna, make_user
):
    hans = make_user(vienna, locale="de")
    with app.app_context():
        path = urlsplit(unsubscribe.unsubscribe_url(hans.id, NEWS)).path
    page = client.get(path, headers={"Accept-Language": "ja"})
    assert page.headers["Content-Language"] == "de"
    assert '<html lang="de">' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token stays off other sites
    assert "object-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.text and "style=" not in page.text  # nothing the CSP blocks


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "WzEsIioiXQ.tampered-signature",
        "",
    ],
)
def test_a_bad_link_is_a_translated_not_found_page(client, translate, token):
    for method in ("get", "post"):
        response = getattr(client, method)(
            f"/unsubscribe/{token}", headers={"Accept-Language": "de"}
        )
        assert response.status_code == 404
        assert translate("de", "Not found.") in response.text


def test_an_altered_or_foreign_token_changes_nothing(app, db_session, client, mailed, translate):
    user, message = mailed
    path = link_path(message)
    token = path.rsplit("/", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with app.app_context():
        secret = app.config["SECRET_KEY"]
    forged = [
        flipped,
        URLSafeSerializer("another secret", salt=unsubscribe.SALT).dumps([user.id, NEWS]),
        URLSafeSerializer(secret, salt="another purpose").dumps([user.id, NEWS]),
        # Signed for real, but codes cannot be unsubscribed from, and nobody has id 0.
        URLSafeSerializer(secret, salt=unsubscribe.SALT).dumps([user.id, "account.reset_password"]),
        URLSafeSerializer(secret, salt=unsubscribe.SALT).dumps([0, NEWS]),
        URLSafeSerializer(secret, salt=unsubscribe.SALT).dumps({"user": user.id}),
    ]
    for bad in forged:
        for suffix in ("", "/undo"):
            response = client.post(f"/unsubscribe/{bad}{suffix}", headers={"Accept-Language": "fr"})
            assert response.status_code == 404, bad
            assert translate("fr", "Not found.") in response.text
    assert preference(db_session, user) is None
    assert db_session.get(NotificationSettings, user.id) is None
