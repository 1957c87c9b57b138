"""Rate limits on sign-in, on anything that sends mail, and on costly writes; shared by the API
and the console."""

import hashlib
import hmac

from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter


def _submitted(name: str) -> str:
    """A field of the request body, JSON (API) or form (console)."""
    body = request.get_json(silent=True) if request.is_json else request.form
    value = body.get(name) if hasattr(body, "get") else None
    return value if isinstance(value, str) else ""


def _keyed(name: str, value: str) -> str:
    # A keyed digest, so rate-limit storage never holds an address or a password.
    secret = current_app.config["SECRET_KEY"].encode()
    return name + ":" + hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


def email_key() -> str:
    return _keyed("email", _submitted("email").strip().lower())


def password_key() -> str:
    return _keyed("password", _submitted("password"))


def sign_in_limits(methods: list[str] | None = None) -> list:
    """Per client address, per account, and per password (one password sprayed over many)."""
    return [
        limiter.limit("10/minute;100/hour", key_func=get_remote_address, methods=methods),
        limiter.limit("5/minute;20/hour", key_func=email_key, methods=methods),
        limiter.limit("10/minute;50/hour", key_func=password_key, methods=methods),
    ]


def code_limits() -> list:
    """Guessing a mailed code: per client address and per account."""
    return sign_in_limits()[:2]


def mail_limits(deduct_when=None) -> list:
    """Requests that send a mail: per client address and per recipient."""
    return [
        limiter.limit("5/minute;30/hour", key_func=get_remote_address, deduct_when=deduct_when),
        limiter.limit("3/minute;10/hour", key_func=email_key, deduct_when=deduct_when),
    ]


def bearer_key() -> str:
    # Per signed-in device: limits are checked before the view knows who is signed in.
    return _keyed("bearer", request.headers.get("Authorization", ""))


def device_limits(deduct_when=None) -> list:
    """Registering push devices, each of which makes us resolve and check a host name."""
    return [
        limiter.limit(
            "30/minute;200/hour", key_func=bearer_key, methods=["POST"], deduct_when=deduct_when
        ),
        limiter.limit(
            "60/minute", key_func=get_remote_address, methods=["POST"], deduct_when=deduct_when
        ),
    ]


#: Residents' writes on idea boards: name → per signed-in device, per client address.
PARTICIPATION = {
    "idea": ("5/minute;30/hour", "20/minute"),
    "comment": ("10/minute;100/hour", "40/minute"),
    "flag": ("10/minute;50/hour", "40/minute"),
    "support": ("60/minute;600/hour", "240/minute"),
    "workshop_registration": ("10/minute;60/hour", "40/minute"),
}


def _not_a_resend(response) -> bool:
    # A resend of something already stored answers 200; a phone retrying is not posting more.
    return response.status_code != 200


def participation_limits(name: str, methods: list[str] | None = None) -> list:
    """Posting ideas and comments, flagging and supporting: 429 with Retry-After beyond."""
    per_device, per_address = PARTICIPATION[name]
    return [
        limiter.limit(per_device, key_func=bearer_key, methods=methods, deduct_when=_not_a_resend),
        limiter.limit(
            per_address, key_func=get_remote_address, methods=methods, deduct_when=_not_a_resend
        ),
    ]
