"""Pages reached from notifications without signing in, and the notification templates.

The unsubscribe link of every email: its signed token is the only authority, so the views are
open to anyone holding it and exempt from CSRF (mail providers' RFC 8058 one-click POSTs carry
no CSRF token). A GET only shows what would stop: mail scanners open links on their own.
"""

from flask import Blueprint, Response, make_response, render_template, request

from app.errors import NotFound
from app.extensions import csrf, db
from i18n import LOCALES, current_locale, force_locale
from notifications import unsubscribe as subscriptions
from notifications.models import EmailMode

bp = Blueprint("notifications", __name__, template_folder="templates")


def _page(token: str, state: str, subscription=None, previous: str = "", status: int = 200):
    """The unsubscribe page in the recipient's language (the reader's when the link is bad)."""
    locale = current_locale()
    if subscription is not None:
        user = subscription.user
        locale = next((c for c in (user.locale, user.city.default_locale) if c in LOCALES), locale)
    spec = subscription.spec if subscription is not None else None
    with force_locale(locale):
        body = render_template(
            "notifications/unsubscribe.html",
            token=token,
            state=state,
            everything=subscription is not None and spec is None,
            topic=spec.label if spec is not None else "",
            previous=previous,
            locale=locale,
        )
    response: Response = make_response(body, status)
    response.headers["Content-Language"] = locale
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _resolve(token: str):
    try:
        return subscriptions.resolve(db.session, token)
    except NotFound:
        return None


@bp.get("/unsubscribe/<token>")
def show_unsubscribe(token: str):
    """What the link would stop, with a button; changes nothing."""
    subscription = _resolve(token)
    if subscription is None:
        return _page(token, "invalid", status=404)
    off = subscriptions.is_unsubscribed(db.session, subscription)
    return _page(token, "off" if off else "confirm", subscription)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Stop the link's email (the page's button, or a mail provider's one-click POST)."""
    subscription = _resolve(token)
    if subscription is None:
        return _page(token, "invalid", status=404)
    before = subscriptions.unsubscribe(db.session, subscription)
    db.session.commit()
    previous = before.value if before not in (None, EmailMode.OFF) else ""
    return _page(token, "done", subscription, previous=previous)


@bp.post("/unsubscribe/<token>/undo")
@csrf.exempt
def resubscribe(token: str):
    """Undo: the email comes back as it was before (the kind's default when unknown)."""
    subscription = _resolve(token)
    if subscription is None:
        return _page(token, "invalid", status=404)
    mode = request.form.get("email", "")
    chosen = EmailMode(mode) if mode in {m.value for m in EmailMode} else None
    subscriptions.resubscribe(db.session, subscription, chosen)
    db.session.commit()
    return _page(token, "resubscribed", subscription)
