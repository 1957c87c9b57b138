"""Idempotent creates: a retried request with the same ``Idempotency-Key`` gets the first answer."""

import hashlib
from functools import wraps

import sqlalchemy as sa
from flask import Response, g, make_response, request
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import IdempotencyRecord
from i18n import _

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    "description": "A client-chosen unique key (a UUID); a retry with it replays the first answer.",
}


def _scope() -> str:
    user = g.get("user")
    return f"user:{user.id}" if user is not None else "anonymous"


def _find(scope: str, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint or record.endpoint != request.endpoint:
        raise Conflict(
            _("This Idempotency-Key was already used for a different request."),
            slug="idempotency-key-reused",
        )
    response = make_response(record.response_body, record.status_code)
    response.mimetype = "application/json"
    response.headers[REPLAYED] = "true"
    return response


def not_replayed(response: Response) -> bool:
    """For rate limits: a replayed answer costs nothing, so a retrying phone is never throttled."""
    return response.headers.get(REPLAYED) != "true"


def idempotent(view):
    """Commit the view's work together with its answer, and replay that answer on retries."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = make_response(view(*args, **kwargs))
            db.session.commit()
            return response
        if not (0 < len(key) <= 255) or not key.isascii() or not key.isprintable() or " " in key:
            raise Invalid(errors={HEADER: [_("Use a UUID or another short printable key.")]})
        scope = _scope()
        fingerprint = hashlib.sha256(request.get_data()).hexdigest()
        existing = _find(scope, key)
        if existing is not None:
            return _replay(existing, fingerprint)
        response = make_response(view(*args, **kwargs))
        record = IdempotencyRecord(
            scope=scope,
            key=key,
            endpoint=request.endpoint,
            fingerprint=fingerprint,
            status_code=response.status_code,
            response_body=response.get_data(as_text=True),
        )
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:
            # A concurrent twin committed first: drop our work and answer as it did.
            db.session.rollback()
            return _replay(_find(scope, key), fingerprint)
        db.session.commit()
        return response

    wrapper._apidoc = dict(getattr(view, "_apidoc", {}))
    manual = dict(wrapper._apidoc.get("manual_doc", {}))
    manual["parameters"] = [*manual.get("parameters", []), HEADER_DOC]
    wrapper._apidoc["manual_doc"] = manual
    return wrapper
