"""Password hashing (argon2) and the policy a new password must meet."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from i18n import _, ngettext

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHasher()
#: Verified when nobody has the email given, so a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("a password nobody has")


@cache
def _common_passwords() -> frozenset[str]:
    # 30,000 most common passwords from leaked lists, as packaged with zxcvbn.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, email: str = "") -> list[str]:
    """Why a new password is refused; an empty list means it is accepted."""
    if len(password) < MIN_LENGTH:
        return [
            ngettext(
                "Use at least %(num)d character.", "Use at least %(num)d characters.", MIN_LENGTH
            )
        ]
    if len(password) > MAX_LENGTH:
        return [
            ngettext(
                "Use at most %(num)d character.", "Use at most %(num)d characters.", MAX_LENGTH
            )
        ]
    lowered = password.lower()
    local_part = email.split("@", 1)[0].lower()
    if lowered in _common_passwords() or (len(local_part) >= 4 and local_part in lowered):
        return [_("This password is too easy to guess. Choose a less common one.")]
    if len(set(password)) < 3:
        return [_("This password is too easy to guess. Choose a less common one.")]
    return []


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and say no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
