"""My consents: my city's current text for a purpose, giving my consent, withdrawing it.

Giving is a PUT naming the version I read (201 the first time, 200 when I had already agreed
to it; 409 ``consent-outdated`` for any other version). Withdrawing is a DELETE that answers
204 also when there was nothing to withdraw. Withdrawing the energy feedback consent deletes
my meter readings: while any are held it first answers 409 ``confirm-deletion`` saying how
many, and only ``?confirm=delete-readings`` goes ahead.
"""

from flask import g
from flask.views import MethodView

from app import consent
from app.consent_models import ConsentText, Purpose
from app.errors import Conflict, NotFound
from app.extensions import db
from client_api.core import Blueprint, signed_in
from energy import meters
from energy.schemas import ConsentIn, ConsentOut, WithdrawArgs
from i18n import current_locale, ngettext
from i18n.content import pick

blp = Blueprint("consents", __name__, description="What I agree to, per purpose, and withdrawing.")

#: ``<purpose>`` in paths: only the known purposes route (the OpenAPI document lists them).
PURPOSE = "any(" + ", ".join(p.value for p in Purpose) + "):purpose"


def _current_text(purpose: str) -> ConsentText:
    text = consent.current_text(db.session, g.user.city_id, purpose)
    if text is None:
        raise NotFound()
    return text


def consent_out(purpose: str, text: ConsentText) -> dict:
    """The current text in my language, my consent to it, and what withdrawing would delete."""
    body, language = pick(text.text, current_locale(), g.city.default_locale)
    mine = consent.active_consent(db.session, g.user, purpose)
    held = None
    if purpose == Purpose.ENERGY_FEEDBACK:
        held = meters.readings_count(db.session, g.user)
    return {
        "purpose": purpose,
        "text": {
            "version": text.version,
            "text": body,
            "language": language,
            "published_at": text.published_at,
        },
        "consent": None
        if mine is None
        else {"version": mine.version, "given_at": mine.given_at, "method": mine.method},
        "consented": mine is not None,
        "ask_again": mine is None and consent.must_consent_again(db.session, g.user, purpose),
        "readings_held": held,
    }


@blp.route(f"/consents/<{PURPOSE}>", endpoint="consent")
class MyConsent(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, ConsentOut)
    def get(self, purpose):
        """My city's current text for the purpose in my language, and my consent to it.

        404 when my city has published no text for it.
        """
        return consent_out(purpose, _current_text(purpose))

    @signed_in
    @blp.arguments(ConsentIn)
    @blp.response(201, ConsentOut)
    @blp.alt_response(200, schema=ConsentOut, description="I had agreed to this version.")
    def put(self, data, purpose):
        """Agree to the version of the text I read, which must be the current one.

        409 ``consent-outdated``: a newer version is current; read it first.
        """
        text = _current_text(purpose)
        _given, created = consent.give_consent(
            db.session, g.user, purpose, data["version"], method="app"
        )
        answer = consent_out(purpose, text)
        db.session.commit()
        return answer, 201 if created else 200

    @signed_in
    @blp.query(WithdrawArgs)
    @blp.response(204)
    def delete(self, args, purpose):
        """Withdraw my consent. Twice is once.

        energy_feedback: this deletes my meter readings and imports (my meters stay). While
        readings are held, it answers 409 ``confirm-deletion`` with how many, and changes
        nothing, unless sent with ``?confirm=delete-readings``.
        """
        if purpose != Purpose.ENERGY_FEEDBACK:
            consent.withdraw_consent(db.session, g.user, purpose)
            db.session.commit()
            return
        held = meters.readings_count(db.session, g.user)
        if held and args["confirm"] != "delete-readings":
            raise Conflict(
                ngettext(
                    "Withdrawing your consent deletes the %(num)d meter reading held for you. "
                    "Send the request again with confirm=delete-readings to go ahead.",
                    "Withdrawing your consent deletes the %(num)d meter readings held for "
                    "you. Send the request again with confirm=delete-readings to go ahead.",
                    held,
                ),
                slug="confirm-deletion",
            )
        meters.withdraw_energy_consent(db.session, g.user)
        db.session.commit()
