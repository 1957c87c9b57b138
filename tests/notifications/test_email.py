"""Email as people receive it: a real SMTP server on loopback gets what the outbox sends."""

import logging
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from notifications import unsubscribe
from notifications.channels import email as email_channel
from notifications.delivery import deliver_due
from notifications.models import (
    Delivery,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from notifications.service import notify
from tests.notifications.conftest import NEWS

pytestmark = pytest.mark.usefixtures("mail_kinds")

MOMENT = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)


def tell(app, session, users, title="Jardin", kind=NEWS, **context):
    with app.app_context():
        notify(session, users, kind, {"title": title, "moment": MOMENT, **context})
        session.commit()


def send_code(app, session, user, code="493817"):
    with app.app_context():
        notify(session, [user], "account.reset_password", {"code": code, "minutes": 15})
        session.commit()


def deliver(app, session, now=None) -> int:
    with app.app_context():
        return deliver_due(session, now=now)


def email_of(session, user, kind=NEWS) -> Delivery:
    return session.scalars(
        sa.select(Delivery)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == user.id, Notification.kind == kind)
        .where(Delivery.channel == "email")
        .order_by(Delivery.id.desc())
    ).first()


def parts(message):
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


# --- what arrives -----------------------------------------------------------------------------


def test_each_person_reads_the_mail_in_their_own_language(
    app, db_session, lyon, vienna, make_user, translate, smtp_server
):
    marie = make_user(lyon, email="marie@example.org")  # Lyon speaks French
    hans = make_user(vienna, email="hans@example.org", locale="de")
    tell(app, db_session, [marie, hans])
    assert deliver(app, db_session) == 4  # an inbox entry and an email each

    for person, locale in ((marie, "fr"), (hans, "de")):
        [message] = smtp_server.to(person.email)
        stored = email_of(db_session, person).notification
        assert message["Subject"] == stored.subject == f"{translate(locale, 'Sign in')}: Jardin"
        assert message["Content-Language"] == locale
        text, html = parts(message)
        assert f"{translate(locale, 'Sign out')}: Jardin" in text
        assert "18:30" in text  # 17:30 UTC on the clocks of Paris and Vienna
        assert f'<html lang="{locale}">' in html
        assert f"{translate(locale, 'Sign out')}: <b>Jardin</b>" in html
    assert smtp_server.envelopes[0][0] == "no-reply@livinglab.test"


def test_a_mail_is_text_and_html_with_the_headers_of_an_automatic_mail(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon, email="ana@example.org")
    tell(app, db_session, [user])
    deliver(app, db_session)
    [message] = smtp_server.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == "Living Lab <no-reply@livinglab.test>"
    assert message["To"] == "ana@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@livinglab.test>")
    text, _html = parts(message)
    assert "<" not in text.replace(unsubscribe_link(message), "")


def unsubscribe_link(message) -> str:
    value = message["List-Unsubscribe"]
    assert value.startswith("<") and value.endswith(">")
    return value[1:-1]


def test_every_mail_offers_one_click_unsubscribe_for_its_kind(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon)
    tell(app, db_session, [user])
    deliver(app, db_session)
    [message] = smtp_server.messages
    link = unsubscribe_link(message)
    assert link.startswith("https://lab.example.org/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire too the link is one plain line, however long: not folded, not encoded.
    assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in smtp_server.raw[0]
    text, html = parts(message)
    assert link in text and f'href="{link}"' in html
    with app.app_context():
        subscription = unsubscribe.resolve(db_session, link.rsplit("/", 1)[1])
    assert (subscription.user.id, subscription.kind) == (user.id, NEWS)


def test_text_given_by_people_is_escaped_in_the_html_part(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon)
    tell(app, db_session, [user], title='<script>alert("x")</script>')
    deliver(app, db_session)
    _text, html = parts(smtp_server.messages[0])
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- codes, pauses and second thoughts --------------------------------------------------------


def test_a_paused_person_still_gets_a_password_reset_code(
    app, db_session, lyon, make_user, translate, smtp_server
):
    user = make_user(lyon, email="paused@example.org")
    tell(app, db_session, [user])  # news recorded before the pause...
    db_session.add(NotificationSettings(user_id=user.id, email_paused_at=utcnow()))
    db_session.commit()
    send_code(app, db_session, user)
    deliver(app, db_session)

    [message] = smtp_server.messages  # ...is not sent after it; the code is
    assert message["Subject"] == translate("fr", "Your Living Lab password reset code")
    assert "493817" in parts(message)[0]
    assert email_of(db_session, user).status == "cancelled"
    # Its link pauses all optional email (there is no choosing away codes).
    with app.app_context():
        token = unsubscribe_link(message).rsplit("/", 1)[1]
        assert unsubscribe.resolve(db_session, token).kind == unsubscribe.ALL


def test_switching_a_kind_off_after_it_was_recorded_stops_its_mail(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon)
    tell(app, db_session, [user])
    db_session.add(
        NotificationPreference(
            user_id=user.id, kind=NEWS, inbox=True, push=True, email=EmailMode.OFF
        )
    )
    db_session.commit()
    deliver(app, db_session)
    assert smtp_server.messages == []
    assert email_of(db_session, user).status == "cancelled"


def test_a_disabled_account_gets_no_mail_not_even_codes(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon)
    send_code(app, db_session, user)
    user.disabled_at = utcnow()
    db_session.commit()
    deliver(app, db_session)
    assert smtp_server.messages == []
    assert email_of(db_session, user, "account.reset_password").status == "cancelled"


# --- when the server says no ------------------------------------------------------------------


def test_an_address_refused_for_good_is_a_dead_letter_after_one_try(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon)
    tell(app, db_session, [user])
    smtp_server.rcpt_replies.append("550 5.1.1 No such user here")
    deliver(app, db_session)
    item = email_of(db_session, user)
    assert (item.status, item.attempts) == ("dead", 1)
    assert item.last_error.startswith("550")
    assert smtp_server.messages == []


def test_a_server_asking_to_wait_is_tried_again_later(
    app, db_session, lyon, make_user, smtp_server
):
    user = make_user(lyon)
    tell(app, db_session, [user])
    smtp_server.data_replies.append("451 4.3.0 Try again later")
    before = utcnow()
    deliver(app, db_session)
    item = email_of(db_session, user)
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error.startswith("451")
    assert item.due_at >= before + timedelta(seconds=15)  # backed off, not hammered
    assert deliver(app, db_session) == 0  # not due yet

    assert deliver(app, db_session, now=item.due_at) == 1
    db_session.refresh(item)
    assert (item.status, item.attempts) == ("sent", 2)
    assert len(smtp_server.messages) == 1


def test_a_server_that_is_down_is_tried_again_later(app, db_session, lyon, make_user, smtp_factory):
    down = smtp_factory()
    users = [make_user(lyon) for _ in range(3)]
    tell(app, db_session, users)
    down.stop()
    deliver(app, db_session)
    items = [email_of(db_session, user) for user in users]
    assert [(i.status, i.attempts) for i in items] == [("pending", 1)] * 3
    assert all("cannot reach" in i.last_error for i in items)

    back = smtp_factory()  # the server is back (the settings now point at it)
    later = max(i.due_at for i in items)
    assert deliver(app, db_session, now=later) == 3
    assert sorted(m["To"] for m in back.messages) == sorted(u.email for u in users)


def test_a_connection_the_server_dropped_is_opened_again(
    app, db_session, lyon, make_user, smtp_server
):
    first, second = make_user(lyon), make_user(lyon)
    tell(app, db_session, [first, second])
    # 421 closes the connection: the first mail waits, the second goes over a new connection.
    smtp_server.data_replies.append("421 4.3.2 Shutting down")
    deliver(app, db_session)
    assert email_of(db_session, first).status == "pending"
    assert email_of(db_session, second).status == "sent"
    assert smtp_server.to(second.email)


# --- TLS and signing in -----------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_over_tls_with_a_login(
    app, db_session, lyon, make_user, smtp_factory, certificate, monkeypatch, security
):
    cert_file, key_file = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    mailbox = None

    def authenticator(*args):
        return mailbox.authenticate(*args)

    if security == "starttls":
        options = {"tls_context": server_context, "require_starttls": True}
    else:
        options = {"ssl_context": server_context, "auth_require_tls": False}
    mailbox = smtp_factory(security, authenticator=authenticator, **options)
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "s3cret")
    # The test server's own certificate authority stands in for the system's.
    monkeypatch.setattr(
        email_channel, "tls_context", lambda: ssl.create_default_context(cafile=str(cert_file))
    )
    user = make_user(lyon)
    tell(app, db_session, [user])
    deliver(app, db_session)
    assert len(mailbox.messages) == 1
    assert mailbox.logins == ["mailer"]


def test_a_certificate_nobody_vouches_for_is_refused(
    app, db_session, lyon, make_user, smtp_factory, certificate
):
    cert_file, key_file = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    mailbox = smtp_factory("starttls", tls_context=server_context, require_starttls=True)
    user = make_user(lyon)
    tell(app, db_session, [user])
    deliver(app, db_session)
    item = email_of(db_session, user)
    assert (item.status, item.attempts) == ("pending", 1)
    assert "CERTIFICATE_VERIFY_FAILED" in item.last_error
    assert mailbox.messages == []


# --- the sinks without a server ---------------------------------------------------------------


def test_the_log_names_the_mail_but_never_its_body(
    app, db_session, lyon, make_user, smtp_server, caplog
):
    user = make_user(lyon, email="secret-holder@example.org")
    send_code(app, db_session, user, code="771903")
    with caplog.at_level(logging.DEBUG):
        deliver(app, db_session)
        app.config["MAIL_SINK"] = "log"  # restored by the fixture
        send_code(app, db_session, user, code="882014")
        deliver(app, db_session)
    ours = [r for r in caplog.records if r.name.startswith("livinglab")]
    logged = " ".join(str(record.__dict__) for record in ours)
    assert "771903" not in logged and "882014" not in logged
    assert "secret-holder@example.org" not in logged
    [sent] = [r for r in ours if r.getMessage() == "email sent"]
    assert sent.user_id == user.id


def test_the_console_sink_prints_the_text_for_developers(
    app, db_session, lyon, make_user, monkeypatch, capsys
):
    monkeypatch.setitem(app.config, "MAIL_SINK", "console")
    user = make_user(lyon, email="dev@example.org")
    send_code(app, db_session, user, code="120456")
    deliver(app, db_session)
    out = capsys.readouterr().out
    assert "dev@example.org" in out and "120456" in out


def test_an_unknown_sink_keeps_mail_waiting_and_push_going(
    app, db_session, lyon, make_user, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_SINK", "pigeon")
    user = make_user(lyon)
    tell(app, db_session, [user])
    assert deliver(app, db_session) == 1  # the inbox entry
    item = email_of(db_session, user)
    assert (item.status, item.attempts) == ("pending", 1)
    assert "MAIL_SINK" in item.last_error
