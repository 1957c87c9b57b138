"""Providers' tokens sealed at rest (app/sealed.py): unreadable in the database, opened only
with this deployment's key, and never opened once changed."""

import base64

import pytest
from cryptography.fernet import Fernet

from app.sealed import Broken, seal, unseal

pytestmark = pytest.mark.usefixtures("in_app")

TOKEN = "Bq7xT0kEnFrOmEnEdIs-éà"


def test_a_sealed_text_opens_as_it_was_and_hides_it():
    sealed = seal(TOKEN)
    assert TOKEN not in sealed and "Bq7x" not in sealed
    assert sealed.isascii()
    assert unseal(sealed) == TOKEN
    assert seal(TOKEN) != sealed  # a fresh IV each time: equal tokens do not look equal


@pytest.mark.parametrize(
    "change",
    [
        # In the middle: the last characters before the padding carry unused bits.
        lambda s: s[:30] + ("A" if s[30] != "A" else "B") + s[31:],
        lambda s: s[:40],
        lambda s: "",
        lambda s: "not a sealed text",
        lambda s: s + "é",
    ],
    ids=["one character changed", "cut", "empty", "foreign", "not ascii"],
)
def test_a_changed_text_does_not_open(change):
    with pytest.raises(Broken):
        unseal(change(seal(TOKEN)))


def test_another_deployments_key_does_not_open_it(app, monkeypatch):
    sealed = seal(TOKEN)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-deployment")
    with pytest.raises(Broken):
        unseal(sealed)


def test_an_old_key_still_opens_what_it_sealed_after_a_rotation(app, monkeypatch):
    sealed = seal(TOKEN)
    old = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "the-new-key")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old])
    assert unseal(sealed) == TOKEN
    resealed = seal(TOKEN)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
    assert unseal(resealed) == TOKEN  # sealed anew with the new key


def test_the_key_is_not_the_secret_key_itself(app):
    """A key derived for sealing: a token made with SECRET_KEY used directly does not open."""
    raw = app.config["SECRET_KEY"].encode().ljust(32, b"\0")[:32]
    direct = Fernet(base64.urlsafe_b64encode(raw)).encrypt(TOKEN.encode()).decode()
    with pytest.raises(Broken):
        unseal(direct)
