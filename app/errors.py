"""Errors: what services raise, and how the API (problem+json) and the console show them."""

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from i18n import _l
from i18n.validation import translate_errors

log = logging.getLogger("livinglab.errors")

API_PREFIX = "/api/"

#: HTTP status → (stable problem slug, translated title).
TITLES = {
    400: ("bad-request", _l("The request could not be understood.")),
    401: ("unauthorized", _l("Sign-in required.")),
    403: ("forbidden", _l("You are not allowed to do this.")),
    404: ("not-found", _l("Not found.")),
    405: ("method-not-allowed", _l("This method is not allowed here.")),
    406: ("not-acceptable", _l("No acceptable representation.")),
    409: ("conflict", _l("This conflicts with the current state.")),
    410: ("gone", _l("This is no longer available.")),
    412: ("precondition-failed", _l("The resource has changed.")),
    413: ("too-large", _l("The request is too large.")),
    415: ("unsupported-media-type", _l("Unsupported media type.")),
    422: ("invalid", _l("Some of the data is not valid.")),
    428: ("precondition-required", _l("A precondition is required.")),
    429: ("too-many-requests", _l("Too many requests. Please wait and try again.")),
    500: ("internal-error", _l("Something went wrong on our side.")),
}


class Problem(Exception):
    """A failure a person can act on; services raise its subclasses, callers show them."""

    status = 400

    def __init__(
        self,
        detail: str | None = None,
        errors: dict | None = None,
        slug: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail or "")
        self.detail = detail
        self.errors = errors
        self.slug = slug or TITLES[self.status][0]
        self.headers = headers


class Invalid(Problem):
    """Input that breaks a rule: ``errors`` maps field → messages."""

    status = 422


class NotAllowed(Problem):
    status = 403


class NotFound(Problem):
    status = 404


class Conflict(Problem):
    status = 409


class Unauthorized(Problem):
    status = 401


class Gone(Problem):
    status = 410


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    detail: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
) -> Response:
    """An RFC 9457 ``application/problem+json`` response with a translated title."""
    default_slug, title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    body = {
        "type": f"urn:livinglab:problem:{slug or default_slug}",
        "title": str(title),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = translate_errors(errors)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _split_locations(messages: dict) -> tuple[str | None, dict]:
    """webargs keys errors by location (json, query, …); clients want them by field.

    A location holding a bare list (the body is not JSON at all) becomes the detail.
    """
    detail, fields = None, {}
    for value in messages.values():
        if isinstance(value, dict):
            fields.update(value)
        elif value:
            detail = translate_errors(value)[0]
    return detail, fields


def _wants_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _logged_path() -> str:
    """The route's pattern, not the path: a path may hold a secret (a calendar feed's or an
    unsubscribe link's token), and logs must not."""
    rule = request.url_rule
    return rule.rule if rule is not None else request.path


def _console_page(status: int, detail: str | None = None, headers: dict | None = None):
    _, title = TITLES.get(status, TITLES[500])
    body = render_template("console/error.html", status=status, title=title, detail=detail)
    return body, status, headers or {}


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    headers.update(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        log.warning(
            "rate limit hit", extra={"path": _logged_path(), "limit": str(error.description)}
        )
    elif isinstance(error, CSRFError):
        log.warning("csrf token refused", extra={"path": _logged_path()})
    if not _wants_api():
        return _console_page(status, headers=headers)
    detail = None
    if isinstance(errors, dict):
        detail, errors = _split_locations(errors)
    return problem_response(status, detail=detail, errors=errors, headers=headers)


def handle_problem(error: Problem):
    if not _wants_api():
        return _console_page(error.status, detail=error.detail)
    return problem_response(
        error.status,
        slug=error.slug,
        detail=error.detail,
        errors=error.errors,
        headers=error.headers,
    )


def handle_unexpected(error: Exception):
    # The log keeps the trace; the person sees a generic message, never internals.
    log.exception(
        "unhandled error", extra={"path": _logged_path(), "request_id": g.get("request_id")}
    )
    return handle_http_exception(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(Exception, handle_unexpected)
