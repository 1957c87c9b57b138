"""Notifications, their deliveries per channel, people's devices and preferences."""

import enum
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import User


class Channel(enum.StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    PUSH = "push"


class DeliveryStatus(enum.StrEnum):
    #: Waiting for a worker at ``due_at`` (first try or a retry).
    PENDING = "pending"
    #: Waiting for the person's next email digest at ``due_at``.
    DIGEST = "digest"
    SENT = "sent"
    #: Sent as part of a digest email.
    DIGESTED = "digested"
    #: Given up after the last retry, or refused for good by the provider; staff may retry.
    DEAD = "dead"
    #: Not to be sent any more: the device is gone or the person unsubscribed meanwhile.
    CANCELLED = "cancelled"


class Notification(Base):
    """One thing told to one person, rendered in their language when it was recorded."""

    __tablename__ = "notifications"
    __table_args__ = (
        # Domains pass a key (e.g. ``workshop:7:reminder:24h``) so nothing is told twice.
        sa.UniqueConstraint("user_id", "dedupe_key"),
        # The inbox: one person's delivered notifications, newest first.
        sa.Index("ix_notifications_inbox", "user_id", "inbox_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    #: The recipient's home city when recorded: staff of that city see its dead letters.
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    locale: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    body_html: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: What the mobile client opens when the notification is tapped, e.g. ``{"update_id": 3}``.
    data: Mapped[dict] = mapped_column(nullable=False, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: Files sent with the email, rendered with it: [{"filename", "content_type", "text"}]
    #: (a calendar file with a workshop's reminder).
    attachments: Mapped[list] = mapped_column(nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    #: When the in-app channel delivered it; the inbox lists only these.
    inbox_at: Mapped[datetime | None] = mapped_column(nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class Delivery(Base):
    """Sending one notification through one channel (and, for push, to one device)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # Workers claim by status and due time.
        sa.Index("ix_deliveries_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    device_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("push_devices.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    #: The worker holding the row, and until when; a crashed worker's claim lapses.
    claim_token: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: For digested deliveries: the digest notification that carried them.
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    notification: Mapped[Notification] = relationship(foreign_keys=[notification_id])
    device: Mapped["PushDevice | None"] = relationship()

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.status}>"


class PushPlatform(enum.StrEnum):
    WEBPUSH = "webpush"
    FCM = "fcm"


class PushDevice(Base):
    """A phone or browser that receives push messages for one person."""

    __tablename__ = "push_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    platform: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: SHA-256 of the endpoint or FCM token: one registration per device, whoever holds it.
    address_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    #: Web Push: the subscription endpoint URL. FCM: the registration token.
    address: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: Web Push subscription keys (base64url), absent for FCM.
    p256dh: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    auth: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    label: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<PushDevice {self.id} {self.platform} user={self.user_id}>"


class EmailMode(enum.StrEnum):
    OFF = "off"
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class NotificationPreference(Base):
    """A person's choice of channels for one kind; kinds without a row use their defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    inbox: Mapped[bool] = mapped_column(nullable=False)
    push: Mapped[bool] = mapped_column(nullable=False)
    email: Mapped[str] = mapped_column(sa.String(10), nullable=False)

    def __repr__(self) -> str:
        return f"<NotificationPreference {self.user_id} {self.kind}>"


class NotificationSettings(Base):
    """A person's quiet hours and time zone for notifications."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: IANA time zone of the person; None means their city's.
    timezone: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: No push between these local times (the span may cross midnight); None: no quiet hours.
    quiet_start: Mapped[time | None] = mapped_column(sa.Time, nullable=True)
    quiet_end: Mapped[time | None] = mapped_column(sa.Time, nullable=True)
    #: All optional email stopped through an unsubscribe link.
    email_paused_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<NotificationSettings {self.user_id}>"
