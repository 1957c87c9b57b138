"""Connecting my meter to its data provider (Enedis), which then feeds it every day.

The phone asks for a link (POST), opens it in a browser, where I authorise the provider to
share my readings; the provider sends the browser back to the callback, which shows a small
page and needs no sign-in: the link's single-use state says whose meter it is. Readings
arrive within the hour, then daily, as imports of kind ``provider`` in my meter's imports.
Disconnecting (DELETE) stops the fetching and erases the provider's tokens; the readings
fetched stay with my meter.
"""

from flask import g, make_response, render_template_string, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address

from app.db import utcnow, write_intent
from app.errors import NotFound
from app.extensions import db, limiter
from app.models import User
from app.throttle import bearer_key
from client_api.core import Blueprint, signed_in
from energy import meters
from energy.models import ProviderConnection
from energy.providers import connections, reasons
from energy.providers.base import ProviderError
from energy.providers.schemas import AuthorisationOut, ProviderConnectionIn, ProviderConnectionOut
from i18n import LOCALES, _, current_locale, force_locale

blp = Blueprint(
    "energy_providers",
    __name__,
    description="Connecting my meter to its data provider, which feeds it daily.",
)

HTML_DOC = {"type": "string", "description": "A small page for the browser, in my language."}
CALLBACK_PARAMETERS = [
    {"in": "query", "name": name, "required": False, "schema": {"type": "string"}}
    for name in ("code", "state", "usage_point_id", "error", "error_description")
]
#: A 400 is the page, or a problem for a request no page is made for (a NUL character).
REFUSED_DOC = {
    "description": "The link expired, was used, or the provider did not connect my meter.",
    "content": {
        "text/html": {"schema": HTML_DOC},
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
    },
}
#: Longest code or usage point read from a callback; anything longer is not the provider's.
MAX_PARAMETER = 2048
PAGE = """<!doctype html>
<html lang="{{ locale }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{{ heading }} · {{ _("Living Lab") }}</title>
  <link rel="stylesheet" href="{{ url_for('console.static', filename='console.css') }}">
</head>
<body>
  <header class="topbar"><span class="brand">{{ _("Living Lab") }}</span></header>
  <main id="main"><section class="narrow">
    <h1 role="status">{{ heading }}</h1>
    <p>{{ text }}</p>
  </section></main>
</body>
</html>
"""


def mask(usage_point: str | None) -> str | None:
    """All but the last 4 characters hidden."""
    if not usage_point:
        return None
    return "*" * max(len(usage_point) - 4, 0) + usage_point[-4:]


def connection_out(connection: ProviderConnection) -> dict:
    code = connection.last_error
    return {
        "provider": connection.provider,
        "status": connection.status,
        "usage_point": mask(connection.usage_point),
        "authorised_until": connection.authorised_until,
        "fetched_until": connection.fetched_until,
        "last_attempt_at": connection.last_attempt_at,
        "failures": connection.failures,
        "last_error": {"code": code, "message": reasons.error_message(code)} if code else None,
        "created_at": connection.created_at,
    }


def _meter(meter_id: int):
    return meters.get_meter(db.session, g.user, meter_id)


@blp.route("/meters/<int:meter_id>/provider-connection", endpoint="provider_connection")
class MeterProviderConnection(MethodView):
    decorators = [limiter.limit("10/minute;60/hour", key_func=bearer_key, methods=["POST"])]

    @signed_in
    @blp.etag
    @blp.response(200, ProviderConnectionOut)
    def get(self, meter_id):
        """My meter's connection to its provider: its state, how far readings are fetched,
        and the last problem (a stable code and a translated message). 404 without one."""
        connection = connections.connection_of(db.session, _meter(meter_id))
        if connection is None:
            raise NotFound()
        return connection_out(connection)

    @signed_in
    @blp.arguments(ProviderConnectionIn)
    @blp.response(201, AuthorisationOut)
    def post(self, data, meter_id):
        """A link to the provider's page where I authorise it to share my meter's readings.

        Asking again while I have not finished gives a new link (the earlier one stops
        working); each works once, for 30 minutes. 422 on ``provider`` when the provider is
        not available or does not measure what my meter measures (Enedis: electricity in
        Wh); 409 ``already-connected`` when the meter is connected;
        409 ``consent-required`` before I agree to the energy feedback text.
        """
        authorisation = connections.start_authorisation(
            db.session, g.user, _meter(meter_id), data["provider"]
        )
        answer = {
            "authorize_url": authorisation.url,
            "expires_at": authorisation.expires_at,
            "connection": connection_out(authorisation.connection),
        }
        db.session.commit()
        return answer, 201

    @signed_in
    @blp.response(204)
    def delete(self, meter_id):
        """Disconnect my meter: no more readings are fetched and the provider's tokens are
        erased. The readings fetched so far stay (they go with the meter, or when I withdraw
        my energy consent). Twice is once."""
        connections.disconnect(db.session, g.user, _meter(meter_id))
        db.session.commit()


@blp.route("/energy/providers/<provider>/callback", endpoint="provider_callback")
class ProviderCallback(MethodView):
    decorators = [limiter.limit("30/minute", key_func=get_remote_address)]

    @blp.doc(parameters=CALLBACK_PARAMETERS, responses={"400": REFUSED_DOC})
    @blp.response(200, HTML_DOC, content_type="text/html")
    def get(self, provider):
        """Where the provider sends my browser back after I authorised it (or refused).

        No sign-in: the single-use ``state`` says whose meter it is. The page says whether
        my meter is connected; it never shows a token.
        """
        # The claim writes: on SQLite, take the write lock at once rather than upgrading.
        write_intent.set(True)
        args = {name: request.args.get(name) for name in ("code", "state", "usage_point_id")}
        error = request.args.get("error")
        if any(value and len(value) > MAX_PARAMETER for value in (*args.values(), error)):
            return _page(None, "bad_state")
        try:
            claim = connections.claim_state(db.session, provider, args["state"], error, utcnow())
        except connections.BadState:
            db.session.rollback()
            return _page(None, "bad_state")
        user_id = claim.user_id
        db.session.commit()
        if claim.denied:
            return _page(user_id, "denied")
        # No transaction is open while the provider answers.
        db.session.close()
        tokens, failure = None, None
        try:
            tokens = connections.exchange_code(provider, args["code"])
        except ProviderError as failed:
            failure = failed.code
        connection = connections.activate(
            db.session, claim, tokens, args["usage_point_id"], failure, utcnow()
        )
        db.session.commit()
        if connection is None:
            return _page(user_id, "bad_state")
        return _page(user_id, "connected" if failure is None and tokens else "failed")


def _page(user_id: int | None, outcome: str):
    """The callback's page in the resident's language (the browser's when unknown)."""
    locale = current_locale()
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is not None:
        locale = next((c for c in (user.locale, user.city.default_locale) if c in LOCALES), locale)
    with force_locale(locale):
        heading, text = {
            "connected": (
                _("Your meter is connected."),
                _(
                    "You can return to the Living Lab app. Your readings appear there within "
                    "the hour."
                ),
            ),
            "denied": (
                _("Your meter was not connected."),
                _(
                    "You did not allow the provider to share your readings. You can start "
                    "again from the Living Lab app."
                ),
            ),
            "failed": (
                _("Your meter was not connected."),
                _(
                    "The provider could not confirm your authorisation. Please start again "
                    "from the Living Lab app."
                ),
            ),
            "bad_state": (
                _("This link has expired or was already used."),
                _("Please start connecting your meter again from the Living Lab app."),
            ),
        }[outcome]
        body = render_template_string(PAGE, locale=locale, heading=heading, text=text)
    db.session.commit()
    # Refusing on the provider's page is an answer too; a link or an exchange that failed is not.
    response = make_response(body, 400 if outcome in ("bad_state", "failed") else 200)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Language"] = locale
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
