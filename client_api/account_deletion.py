"""Delete my account: confirmed with my password, done at once, and my sign-in dies with it.

POST with a body rather than DELETE /me: the password travels in the body, and a DELETE's
body has no defined meaning (OpenAPI 3.0 does not describe one, some clients drop it).
"""

from flask import g
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from marshmallow import Schema, fields

from app.errors import NotFound, Unauthorized
from app.extensions import db, limiter
from app.schemas import PASSWORD_INPUT
from app.throttle import bearer_key
from client_api.core import Blueprint, signed_in
from i18n import _
from privacy import deletion

blp = Blueprint("account_deletion", __name__, description="Deleting my account.")

#: Guessing the password with a stolen sign-in: per device and per client address, as for
#: signing in (no lasting lock-out: the owner can still delete).
DELETION_LIMITS = [
    limiter.limit("5/minute;20/hour", key_func=bearer_key),
    limiter.limit("10/minute;100/hour", key_func=get_remote_address),
]


class AccountDeletionIn(Schema):
    password = fields.String(
        required=True,
        validate=PASSWORD_INPUT,
        metadata={"description": "My current password, to confirm it is me."},
    )


@blp.route("/me/deletion", endpoint="delete_account")
class AccountDeletion(MethodView):
    decorators = DELETION_LIMITS

    @signed_in
    @blp.arguments(AccountDeletionIn)
    @blp.response(204)
    def post(self, data):
        """Delete my account, for good.

        My personal data is erased: profile, sign-ins, consents, follows, notifications,
        devices, workshop registrations, household, meters and readings, copies of my data.
        My ideas and comments stay for the others, shown as from a "deleted participant".
        My survey answers are deleted; if I agreed to research use, my submitted answers and
        daily meter totals are kept, linked to nobody. Every sign-in stops working at once
        (401 afterwards). 422: the password is wrong, and nothing changed.
        """
        try:
            deletion.delete_own_account(db.session, g.user, data["password"])
        except NotFound:
            # Deleted meanwhile by a parallel request: there is nobody left to sign in as.
            raise Unauthorized(
                _("Sign in again: your session is missing, expired or revoked."),
                slug="invalid-token",
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            ) from None
        db.session.commit()
