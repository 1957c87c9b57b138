"""Headers every response carries, and a per-request CSP nonce for the few inline scripts."""

import secrets

from flask import Flask, g, request

CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Anything answered to a signed-in person is personal: no shared or disk caches.
    signed_in = g.get("user") is not None
    if signed_in or request.authorization or request.path.startswith("/console"):
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Authorization")
    elif "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
