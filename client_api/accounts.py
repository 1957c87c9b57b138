"""Sign-up, sign-in, email codes, passwords, one's own profile and devices."""

from datetime import timedelta

from flask import current_app, g, request
from flask.views import MethodView
from flask_babel import refresh

from app import accounts, cities
from app.errors import Invalid
from app.extensions import db
from app.models import TokenKind
from app.schemas import (
    CityOut,
    EmailIn,
    MeOut,
    MessageOut,
    MeUpdateIn,
    PasswordChangeIn,
    ResetPasswordIn,
    SessionOut,
    SignInIn,
    SignUpIn,
    TokenOut,
    VerifyEmailIn,
)
from app.throttle import code_limits, mail_limits, sign_in_limits
from client_api.core import Blueprint, signed_in
from client_api.idempotency import idempotent, not_replayed
from i18n import _

blp = Blueprint("accounts", __name__, description="Accounts: sign-up, sign-in, profile, devices.")


SIGN_IN_LIMITS = sign_in_limits()
CODE_LIMITS = code_limits()
#: A replayed idempotent answer sends nothing, so it does not count.
MAIL_LIMITS = mail_limits(deduct_when=not_replayed)


def _code_sent():
    # The same answer whether or not the account exists.
    return {
        "detail": _(
            "If this address can be used, we have sent a code to it. It is valid for 30 minutes."
        )
    }


def _commit_attempt_then_raise(error: Invalid):
    # A wrong code counts against the code's attempts even though the request fails.
    db.session.commit()
    raise error


@blp.route("/cities", endpoint="list_cities")
class Cities(MethodView):
    @blp.response(200, CityOut(many=True))
    def get(self):
        """The cities taking part, to choose one's home city at sign-up."""
        return cities.list_cities(db.session)


@blp.route("/auth/sign-up", endpoint="sign_up")
class SignUp(MethodView):
    decorators = MAIL_LIMITS

    @idempotent
    @blp.arguments(SignUpIn)
    @blp.response(202, MessageOut)
    def post(self, data):
        """Create an account; a confirmation code is mailed.

        The answer is the same whether or not the address already has an account.
        """
        accounts.sign_up(
            db.session,
            email=data["email"],
            password=data["password"],
            city_slug=data["city"],
            display_name=data["display_name"],
            locale=data["locale"],
        )
        return _code_sent()


@blp.route("/auth/resend-code", endpoint="resend_code")
class ResendCode(MethodView):
    decorators = MAIL_LIMITS

    @blp.arguments(EmailIn)
    @blp.response(202, MessageOut)
    def post(self, data):
        """Mail a new confirmation code."""
        accounts.resend_verification(db.session, data["email"])
        db.session.commit()
        return _code_sent()


@blp.route("/auth/verify-email", endpoint="verify_email")
class VerifyEmail(MethodView):
    decorators = CODE_LIMITS

    @blp.arguments(VerifyEmailIn)
    @blp.response(200, MessageOut)
    def post(self, data):
        """Confirm an email address with the mailed code."""
        try:
            accounts.verify_email(db.session, email=data["email"], code=data["code"])
        except Invalid as error:
            _commit_attempt_then_raise(error)
        db.session.commit()
        return {"detail": _("Your email address is confirmed. You can sign in now.")}


@blp.route("/auth/sign-in", endpoint="sign_in")
class SignIn(MethodView):
    decorators = SIGN_IN_LIMITS

    @blp.arguments(SignInIn)
    @blp.response(201, SessionOut)
    def post(self, data):
        """Sign in with email and password; returns a bearer token for this device."""
        lifetime = timedelta(days=current_app.config["API_TOKEN_DAYS"])
        label = data["device_name"] or request.user_agent.string
        user, raw = accounts.sign_in(
            db.session,
            email=data["email"],
            password=data["password"],
            kind=TokenKind.API,
            lifetime=lifetime,
            label=label,
        )
        token = accounts.find_token(db.session, raw, TokenKind.API)
        db.session.commit()
        return {"token": raw, "expires_at": token.expires_at, "me": user}


@blp.route("/auth/sign-out", endpoint="sign_out")
class SignOut(MethodView):
    @signed_in
    @blp.response(204)
    def post(self):
        """Sign this device out: its token stops working at once."""
        accounts.revoke_token(db.session, g.token)
        db.session.commit()


@blp.route("/auth/password-reset", endpoint="request_password_reset")
class PasswordReset(MethodView):
    decorators = MAIL_LIMITS

    @blp.arguments(EmailIn)
    @blp.response(202, MessageOut)
    def post(self, data):
        """Mail a code to choose a new password."""
        accounts.request_password_reset(db.session, data["email"])
        db.session.commit()
        return _code_sent()


@blp.route("/auth/password-reset/confirm", endpoint="reset_password")
class PasswordResetConfirm(MethodView):
    decorators = CODE_LIMITS

    @blp.arguments(ResetPasswordIn)
    @blp.response(200, MessageOut)
    def post(self, data):
        """Set a new password with the mailed code; every device is signed out."""
        try:
            accounts.reset_password(
                db.session,
                email=data["email"],
                code=data["code"],
                new_password=data["new_password"],
            )
        except Invalid as error:
            if "code" in (error.errors or {}):
                _commit_attempt_then_raise(error)
            raise
        db.session.commit()
        return {"detail": _("Your password is changed. Sign in with the new one.")}


@blp.route("/me", endpoint="me")
class Me(MethodView):
    @signed_in
    @blp.response(200, MeOut)
    def get(self):
        """My profile."""
        return g.user

    @signed_in
    @blp.arguments(MeUpdateIn)
    @blp.response(200, MeOut)
    def patch(self, data):
        """Change my name or language (null: follow the device's language)."""
        accounts.update_profile(db.session, g.user, **data)
        db.session.commit()
        refresh()  # answer in the language just chosen
        return g.user


@blp.route("/me/password", endpoint="change_password")
class MyPassword(MethodView):
    @signed_in
    @blp.arguments(PasswordChangeIn)
    @blp.response(204)
    def post(self, data):
        """Change my password; my other devices are signed out."""
        accounts.change_password(
            db.session,
            g.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            keep_token=g.token,
        )
        db.session.commit()


@blp.route("/me/tokens", endpoint="list_tokens")
class MyTokens(MethodView):
    @signed_in
    @blp.response(200, TokenOut(many=True))
    def get(self):
        """My signed-in devices and console sessions."""
        tokens = accounts.list_tokens(db.session, g.user)
        for token in tokens:
            token.current = token.id == g.token.id
        return tokens


@blp.route("/me/tokens/<int:token_id>", endpoint="revoke_token")
class MyToken(MethodView):
    @signed_in
    @blp.response(204)
    def delete(self, token_id):
        """Sign one of my devices out."""
        accounts.revoke_own_token(db.session, g.user, token_id)
        db.session.commit()
