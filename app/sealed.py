"""Secrets we must keep but never show (a meter data provider's tokens), sealed at rest.

A sealed text is a Fernet token (AES-128-CBC with an HMAC-SHA256, and the time it was made),
under a key derived from SECRET_KEY with HKDF and a purpose label: the database alone, or a
dump of it, reveals nothing, and the key is no key used for anything else (sessions, links).
Keys in ``SECRET_KEY_FALLBACKS`` still open what they sealed, so SECRET_KEY can be rotated;
anything sealed anew uses the current key. A changed, cut or foreign token raises ``Broken``.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

#: HKDF's ``info``: a key derived for sealing is worth nothing for any other purpose.
PURPOSE = b"livinglab/sealed/v1"


class Broken(Exception):
    """A sealed text that this deployment's keys cannot open: changed, cut, or sealed elsewhere."""


@lru_cache(maxsize=16)
def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def derived_key(purpose: bytes) -> bytes:
    """A 32-byte key for one purpose (HKDF's ``info``, e.g. ``b"livinglab/<use>/v1"``), derived
    from SECRET_KEY: what it signs or seals says nothing about the secret key or any other
    purpose's key."""
    return _derive(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=8)
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, PURPOSE)))


def _secrets() -> list[str]:
    config = current_app.config
    fallbacks = [key for key in config.get("SECRET_KEY_FALLBACKS") or [] if key]
    return [config["SECRET_KEY"], *fallbacks]


def seal(text: str) -> str:
    """``text`` sealed with the current key (ASCII, about 1.4 times longer plus 57 characters)."""
    return _fernet(_secrets()[0]).encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The text ``seal`` sealed, with the current key or a fallback; ``Broken`` otherwise."""
    try:
        opened = MultiFernet([_fernet(secret) for secret in _secrets()]).decrypt(
            token.encode("ascii")
        )
    except (InvalidToken, UnicodeEncodeError, AttributeError):
        raise Broken(
            "this text was not sealed with this deployment's keys, or was changed"
        ) from None
    return opened.decode()
