"""People's accounts: sign-up, email codes, sign-in tokens, passwords, profile."""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Invalid, NotAllowed, NotFound, Unauthorized
from app.models import AccessToken, City, CodePurpose, EmailCode, TokenKind, User
from app.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.policy import ensure
from i18n import _
from notifications.service import notify

log = logging.getLogger("livinglab.accounts")

CODE_LIFETIME = timedelta(minutes=30)
CODE_ATTEMPTS = 5
#: last_used_at is written at most this often, so reads do not all become writes.
TOUCH_EVERY = timedelta(minutes=1)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _check_new_password(password: str, email: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise Invalid(errors={"password": problems})


# --- email codes ----------------------------------------------------------------------------


def _issue_code(session: Session, user: User, purpose: CodePurpose, now: datetime) -> str:
    """A fresh six-digit code; earlier unused codes of the same purpose stop working."""
    session.execute(
        sa.update(EmailCode)
        .where(
            EmailCode.user_id == user.id, EmailCode.purpose == purpose, EmailCode.used_at.is_(None)
        )
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        EmailCode(
            user_id=user.id,
            purpose=purpose,
            code_hash=_digest(f"{user.id}:{code}"),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    notify(session, [user], f"account.{purpose.value}", {"code": code, "minutes": minutes})
    return code


def _use_code(session: Session, email: str, code: str, purpose: CodePurpose, now: datetime) -> User:
    """The person a valid code belongs to; any failure reads the same."""
    wrong = Invalid(
        _("The code is wrong or has expired."),
        errors={"code": [_("The code is wrong or has expired.")]},
        slug="invalid-code",
    )
    user = find_user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        raise wrong
    pending = session.scalar(
        sa.select(EmailCode)
        .where(
            EmailCode.user_id == user.id,
            EmailCode.purpose == purpose,
            EmailCode.used_at.is_(None),
            EmailCode.expires_at > now,
            EmailCode.attempts < CODE_ATTEMPTS,
        )
        .order_by(EmailCode.id.desc())
        .limit(1)
    )
    if pending is None:
        raise wrong
    if not hmac.compare_digest(pending.code_hash, _digest(f"{user.id}:{code.strip()}")):
        pending.attempts += 1
        session.flush()
        # The failed attempt must survive the caller's rollback, so the caller commits it.
        raise wrong
    pending.used_at = now
    return user


# --- sign-up and verification ---------------------------------------------------------------


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    city_slug: str,
    display_name: str = "",
    locale: str | None = None,
    now: datetime | None = None,
) -> None:
    """Create an unverified account and mail a code; an existing owner is told instead.

    The caller cannot tell which happened: both end the same way.
    """
    now = now or utcnow()
    email = normalise_email(email)
    city = session.scalar(sa.select(City).where(City.slug == city_slug))
    if city is None:
        raise Invalid(errors={"city": [_("There is no such city.")]})
    _check_new_password(password, email)
    existing = find_user_by_email(session, email)
    if existing is None:
        user = User(
            email=email,
            password_hash=hash_password(password),
            display_name=display_name.strip(),
            city_id=city.id,
            locale=locale,
            created_at=now,
            password_changed_at=now,
        )
        try:
            with session.begin_nested():
                session.add(user)
        except IntegrityError:
            existing = find_user_by_email(session, email)  # signed up a moment ago, concurrently
        else:
            user.city = city
            _issue_code(session, user, CodePurpose.VERIFY_EMAIL, now)
            log.info("sign-up", extra={"user_id": user.id, "city": city.slug})
            return
    if existing is not None and existing.disabled_at is None:
        if existing.email_verified_at is None:
            _issue_code(session, existing, CodePurpose.VERIFY_EMAIL, now)
        else:
            notify(session, [existing], "account.exists", {})


def resend_verification(session: Session, email: str, now: datetime | None = None) -> None:
    """Mail a new confirmation code if there is an unconfirmed account; silent otherwise."""
    user = find_user_by_email(session, email)
    if user is not None and user.email_verified_at is None and user.disabled_at is None:
        _issue_code(session, user, CodePurpose.VERIFY_EMAIL, now or utcnow())


def verify_email(session: Session, *, email: str, code: str, now: datetime | None = None) -> User:
    now = now or utcnow()
    user = _use_code(session, email, code, CodePurpose.VERIFY_EMAIL, now)
    user.email_verified_at = user.email_verified_at or now
    return user


# --- passwords ------------------------------------------------------------------------------


def request_password_reset(session: Session, email: str, now: datetime | None = None) -> None:
    """Mail a reset code if the account exists; the answer is the same either way."""
    user = find_user_by_email(session, email)
    if user is not None and user.disabled_at is None:
        _issue_code(session, user, CodePurpose.RESET_PASSWORD, now or utcnow())


def reset_password(
    session: Session, *, email: str, code: str, new_password: str, now: datetime | None = None
) -> User:
    """Set a new password with a mailed code; every signed-in device is signed out."""
    now = now or utcnow()
    _check_new_password(new_password, normalise_email(email))
    user = _use_code(session, email, code, CodePurpose.RESET_PASSWORD, now)
    _set_password(session, user, new_password, now)
    user.email_verified_at = user.email_verified_at or now  # the code proved the address
    return user


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    keep_token: AccessToken | None = None,
    now: datetime | None = None,
) -> None:
    """Change one's own password; other sessions and devices are signed out."""
    if not verify_password(user.password_hash, current_password):
        raise Invalid(errors={"current_password": [_("The current password is wrong.")]})
    _check_new_password(new_password, user.email)
    _set_password(session, user, new_password, now or utcnow(), keep_token)


def _set_password(
    session: Session, user: User, password: str, now: datetime, keep: AccessToken | None = None
) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    revoke_all_tokens(session, user, now, keep=keep)


# --- sign-in and tokens ---------------------------------------------------------------------


def sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    kind: TokenKind,
    lifetime: timedelta,
    label: str = "",
    now: datetime | None = None,
) -> tuple[User, str]:
    """Check the credentials and open a session; returns the person and the raw token."""
    now = now or utcnow()
    user = find_user_by_email(session, email)
    if not verify_password(user.password_hash if user else None, password) or not user.is_active:
        log.warning("sign-in refused", extra={"kind": kind.value})
        raise Unauthorized(
            _("The email address or the password is wrong."), slug="invalid-credentials"
        )
    if user.email_verified_at is None:
        raise NotAllowed(
            _("Please confirm your email address first with the code we sent you."),
            slug="email-not-verified",
        )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    raw = issue_token(session, user, kind, lifetime, label, now)
    log.info("sign-in", extra={"user_id": user.id, "kind": kind.value})
    return user, raw


def issue_token(
    session: Session, user: User, kind: TokenKind, lifetime: timedelta, label: str, now: datetime
) -> str:
    raw = "llt_" + secrets.token_urlsafe(32)  # 256 bits; the prefix helps secret scanners
    session.add(
        AccessToken(
            user_id=user.id,
            kind=kind,
            token_hash=_digest(raw),
            label=label[:200],
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return raw


#: Every authenticated request runs this; built once, it costs only its execution.
_TOKEN_BY_HASH = sa.select(AccessToken).where(
    AccessToken.token_hash == sa.bindparam("token_hash"), AccessToken.kind == sa.bindparam("kind")
)


def find_token(session: Session, raw: str, kind: TokenKind) -> AccessToken | None:
    return session.scalar(_TOKEN_BY_HASH, {"token_hash": _digest(raw), "kind": kind.value})


def authenticate(
    session: Session,
    raw: str,
    kind: TokenKind,
    *,
    idle: timedelta | None = None,
    now: datetime | None = None,
) -> AccessToken | None:
    """The live token for a raw value; None when unknown, expired, idle too long or revoked."""
    now = now or utcnow()
    if not raw or len(raw) > 200:
        return None
    token = find_token(session, raw, kind)
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if idle is not None and token.last_used_at + idle <= now:
        return None
    if not token.user.is_active:
        return None
    return token


def record_token_use(session: Session, token: AccessToken, now: datetime | None = None) -> None:
    """Note that a token was used (at most once a minute; it drives the console's idle timeout).

    Bookkeeping, not part of the request's work: it runs in a short transaction of its own,
    committed here, and a busy database only skips it until the next request.
    """
    now = now or utcnow()
    if now - token.last_used_at < TOUCH_EVERY:
        return
    # SQLite cannot turn the read transaction that found the token into a writing one while
    # another connection writes, so that transaction ends first.
    session.commit()
    try:
        session.execute(
            sa.update(AccessToken)
            .where(AccessToken.id == token.id, AccessToken.last_used_at < now - TOUCH_EVERY)
            .values(last_used_at=now)
        )
        session.commit()
    except OperationalError:
        session.rollback()
        log.warning("token use not recorded: database busy", extra={"token_id": token.id})


def list_tokens(session: Session, user: User, now: datetime | None = None) -> list[AccessToken]:
    """A person's live sessions and devices, newest first."""
    now = now or utcnow()
    return list(
        session.scalars(
            sa.select(AccessToken)
            .where(
                AccessToken.user_id == user.id,
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > now,
            )
            .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
        )
    )


def revoke_token(session: Session, token: AccessToken, now: datetime | None = None) -> None:
    token.revoked_at = token.revoked_at or now or utcnow()


def revoke_own_token(
    session: Session, user: User, token_id: int, now: datetime | None = None
) -> None:
    """Sign out one of one's own devices; another person's token reads as not found."""
    token = session.get(AccessToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound()
    revoke_token(session, token, now)


def revoke_all_tokens(
    session: Session, user: User, now: datetime | None = None, keep: AccessToken | None = None
) -> None:
    query = sa.update(AccessToken).where(
        AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(AccessToken.id != keep.id)
    session.execute(query.values(revoked_at=now or utcnow()))


# --- profile and administration -------------------------------------------------------------


def update_profile(
    session: Session,
    user: User,
    *,
    display_name: str | None = None,
    locale: str | None = ...,
) -> User:
    """Change one's name or language; ``locale=None`` means follow the device."""
    if display_name is not None:
        user.display_name = display_name.strip()
    if locale is not ...:
        user.locale = locale
    session.flush()
    return user


def set_disabled(
    session: Session, actor: User, user: User, disabled: bool, now: datetime | None = None
) -> None:
    """Disable or re-enable an account; disabling signs it out everywhere."""
    ensure(actor, "account.switch", user)
    now = now or utcnow()
    user.disabled_at = now if disabled else None
    if disabled:
        revoke_all_tokens(session, user, now)
