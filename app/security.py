"""Guards every request passes and headers every response carries."""

import secrets

from flask import Flask, g, request
from werkzeug.routing import IntegerConverter

from app.db import MAX_ID
from app.errors import Problem
from i18n import _

CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: only ids a database INTEGER column can hold, else 404."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _refuse_nul():
    # PostgreSQL text cannot hold NUL; refusing it here keeps every route from a 500.
    form = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    body = request.get_json(silent=True) if request.is_json else None
    values = [request.path, *request.args.values(), *form.values()]
    if any(_contains_nul(v) for v in values) or _contains_nul(body):
        raise Problem(_("Text must not contain the NUL character."), slug="nul-character")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Over https Flask-WTF refuses a console form posted without a same-origin Referer, so
    # console pages send it to their own origin (never elsewhere); the API sends none.
    console = request.path.startswith("/console")
    headers.setdefault("Referrer-Policy", "same-origin" if console else "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Anything answered to a signed-in person is personal: no shared or disk caches.
    signed_in = g.get("user") is not None
    if signed_in or request.authorization or console:
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Authorization")
    elif "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered, so every ``<int:…>`` uses IdConverter."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul)
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
