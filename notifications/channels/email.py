"""Email: each notification as a multipart text + HTML message in its recipient's language.

``open(app)`` yields a sender for one run of the outbox worker. With MAIL_SINK "smtp" it keeps
one SMTP connection for the whole run (TLS by STARTTLS or implicitly, login when credentials are
set); "log" only logs that a message went out, "console" prints its text (``make run``).
Bodies carry one-time codes, so no sink ever logs them.

Every email names why it was sent and carries an unsubscribe link that works without signing
in (List-Unsubscribe with RFC 8058 one-click POST, and a link in the footer).
"""

import logging
import smtplib
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr

from flask import Flask
from markupsafe import Markup
from sqlalchemy.orm import Session, object_session

from app.db import utcnow
from app.models import User
from notifications import kinds
from notifications.channels import Permanent, Skipped, Temporary
from notifications.models import Delivery, EmailMode, Notification, NotificationSettings
from notifications.render import render_template_in
from notifications.service import choices
from notifications.unsubscribe import ALL, link_kind, unsubscribe_url

log = logging.getLogger("livinglab.notifications")

SINKS = ("smtp", "log", "console")
SECURITY = ("starttls", "tls", "none")


def refusal(session: Session, user: User, spec: kinds.Kind | None) -> str | None:
    """Why ``user`` may not get an email of ``spec`` now, or None when they may.

    Codes (mandatory kinds) go to every enabled account; anything else stops when the person
    paused their email, switched this kind's email off, or their address is unconfirmed.
    """
    if user.disabled_at is not None:
        return "account disabled"
    if spec is not None and spec.mandatory:
        return None
    if user.email_verified_at is None:
        return "address not confirmed"
    settings = session.get(NotificationSettings, user.id)
    if settings is not None and settings.email_paused_at is not None:
        return "email paused"
    if spec is not None and choices(session, [user.id], spec)[user.id].email == EmailMode.OFF:
        return "email off for this kind"
    return None


def timezone_of(session: Session, user: User) -> str:
    settings = session.get(NotificationSettings, user.id)
    return (settings.timezone if settings is not None else None) or user.city.timezone


def _footer_reason(notification: Notification) -> str:
    """Which footer explains the email: a chosen kind, the digest, or a code asked for."""
    if notification.kind == kinds.DIGEST.name:
        return "digest"
    return "kind" if link_kind(notification.kind) != ALL else "requested"


#: Headers written on one line: mail providers read the link from them as it stands.
UNFOLDED = {"list-unsubscribe"}


class _Policy(EmailPolicy):
    """SMTP's policy, except that a link header stays one line whatever its length.

    The standard folding turns a long unbreakable value into RFC 2047 encoded words, which
    leaves List-Unsubscribe unusable; RFC 5322 allows lines of up to 998 characters.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() in UNFOLDED and str(value).isascii():
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in UNFOLDED and str(value).isascii():
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


POLICY = _Policy(linesep="\r\n")


def compose(config: dict, delivery: Delivery, timezone: str) -> EmailMessage:
    """The message for one email delivery: its notification wrapped in the email layout."""
    notification = delivery.notification
    user = notification.user
    locale = notification.locale
    link = unsubscribe_url(user.id, notification.kind)
    spec = kinds.KINDS.get(notification.kind)
    context = {
        "locale": locale,
        "subject": notification.subject,
        "reason": _footer_reason(notification),
        "topic": spec.label if spec is not None else "",
        "unsubscribe_url": link,
        "city_name": user.city.name,
    }
    text = render_template_in(
        "notifications/email.txt", locale, timezone, body=notification.body_text, **context
    )
    html = render_template_in(
        "notifications/email.html",
        locale,
        timezone,
        # Rendered (and escaped) from the kind's HTML template when it was recorded.
        body=Markup(notification.body_html),  # noqa: S704
        **context,
    )
    sender = config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = user.email
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(utcnow())
    # Stable across retries, so a receiver can drop a duplicate after a lost reply.
    stamp = f"{notification.created_at:%Y%m%d%H%M%S}"
    message["Message-ID"] = f"<{stamp}.{notification.id}.{delivery.id}.livinglab@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text.strip() + "\n")
    message.add_alternative(html.strip() + "\n", subtype="html")
    for attachment in notification.attachments or []:
        maintype, _slash, subtype = attachment["content_type"].partition("/")
        subtype, _semicolon, parameters = subtype.partition(";")
        params = dict(p.strip().split("=", 1) for p in parameters.split(";") if "=" in p)
        message.add_attachment(
            attachment["text"].encode(),
            maintype=maintype,
            subtype=subtype.strip(),
            filename=attachment["filename"],
            params=params,
        )
    # After the parts exist: making a message multipart moves Content-* headers into them.
    message["Content-Language"] = locale
    return message


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's trust store (tests swap in their own CA)."""
    return ssl.create_default_context()


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:300]


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error.smtp_code, error.smtp_error)
    return f"{type(error).__name__}: {error}"[:300]


def _refused(error: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
    """The delivery error for an SMTP refusal: 5xx for good, 4xx for now."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        text = "; ".join(_reply(code, reply) for code, reply in replies)
        if replies and all(code >= 500 for code, _text in replies):
            return Permanent(text)
        return Temporary(text)
    text = _describe(error)
    return Permanent(text) if error.smtp_code >= 500 else Temporary(text)


class SMTPTransport:
    """One connection for a run, opened on the first message, reopened once if it dropped."""

    def __init__(self, config: dict):
        self.host = config["SMTP_HOST"]
        self.port = config["SMTP_PORT"]
        self.security = config["SMTP_SECURITY"]
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.timeout = config["SMTP_TIMEOUT"]
        self.connection: smtplib.SMTP | None = None
        #: Why nothing gets through on this run: set when connecting failed, so the rest of
        #: the batch waits for the next run instead of each waiting for its own timeout.
        self.down: str | None = None
        if not self.host:
            self.down = "MAIL_SINK is smtp but SMTP_HOST is not set"
        elif self.security not in SECURITY:
            self.down = f"SMTP_SECURITY must be one of {', '.join(SECURITY)}"

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=tls_context()
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                connection.starttls(context=tls_context())
            if self.username:
                connection.login(self.username, self.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (OSError, smtplib.SMTPException):
            self.connection.close()
        self.connection = None

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def deliver(self, message: EmailMessage, delivery: Delivery) -> None:
        if self.down is not None:
            raise Temporary(self.down)
        reused = self.connection is not None
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (OSError, smtplib.SMTPException) as error:
                # Connecting or signing in failed: the server or our settings are at fault,
                # never this message, so it is tried again later.
                self.down = f"cannot reach {self.host}:{self.port}: {_describe(error)}"[:300]
                raise Temporary(self.down) from error
        try:
            self.connection.send_message(message)
        except smtplib.SMTPServerDisconnected as error:
            self._drop()
            if not reused:
                raise Temporary(_describe(error)) from error
            # The server closed a connection we kept open: once more on a fresh one.
            self.deliver(message, delivery)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
            raise _refused(error) from error
        except smtplib.SMTPNotSupportedError as error:
            # e.g. an address that needs SMTPUTF8 on a server without it.
            raise Permanent(str(error)[:300]) from error
        except OSError as error:
            self._drop()  # a timeout leaves the conversation in an unknown state
            raise Temporary(_describe(error)) from error


class Unusable:
    """A MAIL_SINK nobody knows: every email waits (and is retried) until it is fixed."""

    def __init__(self, reason: str):
        self.reason = reason

    def deliver(self, message: EmailMessage, delivery: Delivery) -> None:
        raise Temporary(self.reason)

    def close(self) -> None:
        pass


class LogTransport:
    """Development and tests: the log says a message went out, to whom (by id) and about what."""

    def deliver(self, message: EmailMessage, delivery: Delivery) -> None:
        log.info(
            "email sent",
            extra={
                "delivery_id": delivery.id,
                "user_id": delivery.notification.user_id,
                "subject": str(message["Subject"]),
            },
        )

    def close(self) -> None:
        pass


class ConsoleTransport:
    """``make run``: the text version printed where the developer watches the scheduler."""

    def deliver(self, message: EmailMessage, delivery: Delivery) -> None:
        text = message.get_body(("plain",)).get_content()
        sys.stdout.write(
            f"\n--- email to {message['To']} ({message['Content-Language']})\n"
            f"Subject: {message['Subject']}\n"
            f"List-Unsubscribe: {message['List-Unsubscribe']}\n\n{text}---\n"
        )
        sys.stdout.flush()

    def close(self) -> None:
        pass


class EmailSender:
    def __init__(self, app: Flask, transport):
        self.config = app.config
        self.transport = transport

    def send(self, delivery: Delivery) -> None:
        notification = delivery.notification
        user = notification.user
        session = object_session(delivery)
        reason = refusal(session, user, kinds.KINDS.get(notification.kind))
        if reason is not None:
            raise Skipped(reason)
        message = compose(self.config, delivery, timezone_of(session, user))
        # End the reads before talking to the server: on SQLite a job's transaction holds the
        # write lock, which web requests must not wait for while a mail server answers.
        session.commit()
        self.transport.deliver(message, delivery)


@contextmanager
def open(app: Flask) -> Iterator[EmailSender]:
    """A sender for one worker run, on the configured MAIL_SINK."""
    sink = app.config["MAIL_SINK"]
    if sink == "smtp":
        transport = SMTPTransport(app.config)
    elif sink == "console":
        transport = ConsoleTransport()
    elif sink == "log":
        transport = LogTransport()
    else:
        log.error("unknown MAIL_SINK", extra={"sink": sink})
        transport = Unusable(f"MAIL_SINK must be one of {', '.join(SINKS)}")
    try:
        yield EmailSender(app, transport)
    finally:
        transport.close()
