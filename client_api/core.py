"""The mobile API's shared machinery: the Api, its blueprints, bearer sign-in, problem schema,
and checking before taking SQLite's write lock."""

import http
from functools import wraps

import flask_smorest
from flask import current_app, g, request
from flask_babel import get_locale
from flask_smorest.utils import prepare_response
from marshmallow import RAISE, Schema, fields

from app import accounts
from app.db import write_intent
from app.errors import Unauthorized
from app.extensions import db
from app.models import TokenKind
from i18n import _

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"example": "urn:livinglab:problem:invalid"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "Messages per field, translated."})


class Api(flask_smorest.Api):
    """flask-smorest's Api, documenting errors as problem+json; app/errors.py answers them."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass  # one error handler for the whole app lives in app/errors.py

    def _register_responses(self):
        # As flask-smorest does, but errors are documented with the media type we really send.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class Blueprint(flask_smorest.Blueprint):
    """Blueprint whose query strings are strict: unknown parameters and bad values answer 400."""

    def query(self, schema):
        return self.arguments(schema, location="query", unknown=RAISE, error_status_code=400)


BEARER = {"bearerAuth": []}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def signed_in(view):
    """Require a valid bearer token; sets ``g.user``, ``g.token`` and ``g.city``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        raw = _bearer_token()
        token = accounts.authenticate(db.session, raw, TokenKind.API) if raw else None
        if token is None:
            raise Unauthorized(
                _("Sign in again: your session is missing, expired or revoked."),
                slug="invalid-token",
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        accounts.record_token_use(db.session, token)
        g.token, g.user, g.city = token, token.user, token.user.city
        # Chosen now, while the person is loaded: after a view commits, reading their
        # language for the answer's headers would start a second transaction.
        get_locale()
        return view(*args, **kwargs)

    wrapper._apidoc = dict(getattr(view, "_apidoc", {}))
    manual = dict(wrapper._apidoc.get("manual_doc", {}))
    manual["security"] = [BEARER]
    wrapper._apidoc["manual_doc"] = manual
    return wrapper


def checks_before_writing(view):
    """Run the view's checks in a read transaction; ``begin_writing()`` ends it before the
    writes.

    On SQLite a request that writes takes the database's write lock at its first read (see
    app/db.py): sign-in, loading what is acted on and checking the input would all happen while
    every other writer waits. Here they happen beside other writers, and the lock is held only
    for the writes and the commit. PostgreSQL locks nothing for reading: one transaction.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        write_intent.set(False)
        return view(*args, **kwargs)

    return wrapper


def begin_writing() -> None:
    """End the checks' read transaction (keeping what it loaded) and write from here on."""
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
    write_intent.set(True)


def document_security(api: Api) -> None:
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Token from sign-in."}
    )


def page_size(requested: int | None) -> int:
    """The page size asked for, capped so no request can ask for everything at once."""
    limit = requested or current_app.config["API_PAGE_SIZE"]
    return min(limit, current_app.config["API_PAGE_SIZE_MAX"])
