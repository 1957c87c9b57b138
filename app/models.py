"""Cities, people, role grants and sign-in tokens, and the rows that make later work durable."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Role(enum.StrEnum):
    """A role granted to a person in one city."""

    MODERATOR = "moderator"
    STAFF = "staff"
    RESEARCHER = "researcher"
    ADMIN = "admin"


class City(Base):
    """A city running a living lab: the tenant every object belongs to."""

    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: IANA time zone used for display and scheduling, e.g. ``Europe/Paris``.
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    default_locale: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    #: Locales content is written in; the default locale is always among them.
    enabled_locales: Mapped[list] = mapped_column(nullable=False)
    #: The area residents' locations must lie in: [south, west, north, east] in degrees.
    bounds: Mapped[list | None] = mapped_column(nullable=True)
    #: The city's districts by their proper names, as residents pick them ("Leopoldstadt").
    districts: Mapped[list] = mapped_column(nullable=False, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<City {self.slug}>"


class User(Base):
    """A person: a resident of their home city, maybe holding roles in cities."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; unique across the deployment.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    #: The person's own language choice; None means "follow my device".
    locale: Mapped[str | None] = mapped_column(sa.String(8), nullable=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    is_platform_admin: Mapped[bool] = mapped_column(nullable=False, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    city: Mapped[City] = relationship(lazy="joined")
    grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
    )

    #: The console session token this object was loaded for (not stored).
    session_token = None

    # flask-login's protocol
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str | None:
        return self.session_token

    def roles_in(self, city_id: int) -> set[Role]:
        return {Role(g.role) for g in self.grants if g.city_id == city_id}

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleGrant(Base):
    """One role of one person in one city."""

    __tablename__ = "role_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "city_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    city: Mapped[City] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<RoleGrant {self.user_id} {self.role}@{self.city_id}>"


class TokenKind(enum.StrEnum):
    API = "api"
    CONSOLE = "console"


class AccessToken(Base):
    """A signed-in device (API bearer token) or console session; only a hash is kept."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    #: What the person called the device, or the browser's user agent for console sessions.
    label: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<AccessToken {self.id} {self.kind} user={self.user_id}>"


class CodePurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105  (a purpose, not a password)


class EmailCode(Base):
    """A short one-time code mailed to a person (email verification, password reset)."""

    __tablename__ = "email_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    #: Wrong guesses so far; the code dies after a few.
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<EmailCode {self.id} {self.purpose}>"


class IdempotencyRecord(Base):
    """The stored answer to a create, replayed when a client retries with the same key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose key it is: ``user:<id>`` or ``anonymous``, so clients cannot replay each other's.
    scope: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    endpoint: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: SHA-256 of the request body: the same key with other content is refused.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(nullable=False)
    response_body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<IdempotencyRecord {self.scope} {self.key}>"


class SchedulerLease(Base):
    """Which scheduler process leads, and until when its lease runs."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)

    def __repr__(self) -> str:
        return f"<SchedulerLease {self.name} {self.holder}>"


#: APScheduler's job store table, declared here so migrations create and own it.
apscheduler_jobs = sa.Table(
    "apscheduler_jobs",
    Base.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)
