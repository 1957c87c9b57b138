"""Unsubscribe links: a signed token in every email stops that kind of email, no sign-in needed.

The token names a person and a kind; ``ALL`` ("*") stands for every optional email (it is in
codes and digests, which belong to no single kind). It never expires: an old email's link must
still work. Only the holder of the email can have it, and all it can do is switch email off
and on again, so it carries no more authority than that.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import NotFound
from app.models import User
from notifications import kinds
from notifications.models import EmailMode, NotificationPreference, NotificationSettings

#: Every optional email: the person's email is paused as a whole.
ALL = "*"
SALT = "livinglab.notifications.unsubscribe"


@dataclass(frozen=True)
class Subscription:
    """What an unsubscribe link is about: one person's email of one kind (or of all kinds)."""

    user: User
    kind: str

    @property
    def spec(self) -> kinds.Kind | None:
        return None if self.kind == ALL else kinds.get(self.kind)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def link_kind(kind: str) -> str:
    """The kind an email's link unsubscribes from: its own if a person can choose it, else all."""
    spec = kinds.KINDS.get(kind)
    return kind if spec is not None and spec.listed and not spec.mandatory else ALL


def make_token(user_id: int, kind: str) -> str:
    return _serializer().dumps([user_id, kind])


def unsubscribe_url(user_id: int, kind: str) -> str:
    """The public link for an email of ``kind``; needs an app context (SECRET_KEY, PUBLIC_URL)."""
    token = make_token(user_id, link_kind(kind))
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/unsubscribe/{token}"


def resolve(session: Session, token: str) -> Subscription:
    """The subscription a token stands for; NotFound for anything forged, altered or stale."""
    try:
        payload = _serializer().loads(token)
    except BadData as error:
        raise NotFound() from error
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and type(payload[0]) is int
        and isinstance(payload[1], str)
    ):
        raise NotFound()
    user_id, kind = payload
    if kind != ALL and link_kind(kind) != kind:
        raise NotFound()  # a kind since removed or made mandatory
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return Subscription(user, kind)


def _settings(session: Session, user_id: int) -> NotificationSettings | None:
    return session.get(NotificationSettings, user_id)


def _preference(session: Session, user_id: int, kind: str) -> NotificationPreference | None:
    return session.get(NotificationPreference, (user_id, kind))


def is_unsubscribed(session: Session, subscription: Subscription) -> bool:
    """True when the link's email is already off (for this kind, or paused as a whole)."""
    settings = _settings(session, subscription.user.id)
    if subscription.kind == ALL:
        return settings is not None and settings.email_paused_at is not None
    preference = _preference(session, subscription.user.id, subscription.kind)
    mode = preference.email if preference is not None else subscription.spec.email
    return mode == EmailMode.OFF


def unsubscribe(
    session: Session, subscription: Subscription, now: datetime | None = None
) -> EmailMode | None:
    """Switch the link's email off; returns the kind's email mode before (None for ALL).

    A kind keeps its inbox and push choices; ALL pauses email without touching any choice,
    so undoing it restores every one of them.
    """
    user_id = subscription.user.id
    if subscription.kind == ALL:
        settings = _settings(session, user_id)
        if settings is None:
            settings = NotificationSettings(user_id=user_id)
            session.add(settings)
        if settings.email_paused_at is None:
            settings.email_paused_at = now or utcnow()
        session.flush()
        return None
    spec = subscription.spec
    preference = _preference(session, user_id, spec.name)
    if preference is None:
        preference = NotificationPreference(
            user_id=user_id, kind=spec.name, inbox=spec.inbox, push=spec.push, email=spec.email
        )
        session.add(preference)
    before = EmailMode(preference.email)
    preference.email = EmailMode.OFF
    session.flush()
    return before


def resubscribe(
    session: Session, subscription: Subscription, mode: EmailMode | None = None
) -> None:
    """Undo an unsubscribe: email of the kind comes back as ``mode`` (else the kind's default)."""
    user_id = subscription.user.id
    if subscription.kind == ALL:
        settings = _settings(session, user_id)
        if settings is not None:
            settings.email_paused_at = None
        session.flush()
        return
    spec = subscription.spec
    if mode is None or mode == EmailMode.OFF:
        mode = spec.email if spec.email != EmailMode.OFF else EmailMode.IMMEDIATE
    if mode in (EmailMode.DAILY, EmailMode.WEEKLY) and not spec.may_digest:
        mode = EmailMode.IMMEDIATE
    preference = _preference(session, user_id, spec.name)
    if preference is None:
        return  # never unsubscribed: the kind's defaults already apply
    preference.email = mode
    session.flush()
