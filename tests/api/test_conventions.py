"""What every API answer shares: problem+json errors, languages, limits, headers."""

import json
import logging

import pytest

from app.db import utcnow
from app.models import Role
from campaigns import service
from client_api.pagination import encode_cursor
from tests.api.helpers import assert_problem
from tests.conftest import PASSWORD


def test_malformed_json_is_a_translated_400(client, lyon):
    response = client.post(
        "/api/v1/auth/sign-in",
        data='{"email": "a@example.org",',
        content_type="application/json",
        headers={"Accept-Language": "de"},
    )
    body = assert_problem(response, 400, "bad-request")
    assert body["detail"] and body["detail"] != "Invalid JSON body."
    assert response.headers["Content-Language"] == "de"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": 42, "password": PASSWORD}, "email"),
        ({"email": "a@example.org", "password": ["x"]}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.org", "password": PASSWORD, "remember_me": True}, "remember_me"),
        ({"email": "a@example.org", "password": None}, "password"),
    ],
)
def test_wrong_types_missing_and_unknown_fields_are_422_per_field(client, payload, field):
    body = assert_problem(client.post("/api/v1/auth/sign-in", json=payload), 422, "invalid")
    assert field in body["errors"]
    assert all(isinstance(m, str) and m for m in body["errors"][field])


def test_a_body_that_is_not_an_object_is_422(client):
    for payload in ([1, 2], "text", 7, None):
        response = client.post(
            "/api/v1/auth/sign-in", data=json.dumps(payload), content_type="application/json"
        )
        assert_problem(response, 422)


def test_validation_messages_are_translated(client):
    response = client.post(
        "/api/v1/auth/sign-in",
        json={"email": "a@example.org", "password": PASSWORD, "extra": 1},
        headers={"Accept-Language": "fr-FR,fr;q=0.9"},
    )
    body = assert_problem(response, 422)
    assert body["errors"]["extra"] != ["Unknown field."]
    assert response.headers["Content-Language"] == "fr"


def test_huge_bodies_are_413(client):
    payload = json.dumps({"email": "a@example.org", "password": "x" * (2 * 1024 * 1024)})
    response = client.post("/api/v1/auth/sign-in", data=payload, content_type="application/json")
    assert_problem(response, 413, "too-large")


@pytest.mark.parametrize("header", ["xx", "xx-YY", "*", "de;q=abc", "", "ja;q=0.2, tlh;q=0.9"])
def test_unknown_or_odd_locales_fall_back(client, header):
    response = client.get("/api/v1/cities", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert response.headers["Content-Language"] in {"en", "ja", "de"}


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/v1/campaigns")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_unknown_path_is_problem_404(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")


def test_forced_exception_is_a_generic_500_without_internals(
    app, client, lyon, monkeypatch, caplog
):
    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("app.cities.list_cities", explode)
    with caplog.at_level(logging.ERROR, logger="livinglab"):
        response = client.get("/api/v1/cities")
    body = assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text
    assert set(body) == {"type", "title", "status"}
    # The trace is kept in the log for operators.
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)


def test_a_secret_in_the_path_stays_out_of_the_log(client, lyon, monkeypatch, caplog):
    """A calendar feed's URL is its secret: the log names the route, never the token."""

    def explode(*_args, **_kwargs):
        raise RuntimeError("feed store down")

    monkeypatch.setattr("workshops.calendar.feed_owner", explode)
    token = "s3cret-feed-token-0123456789abcdefghijklmno"
    with caplog.at_level(logging.ERROR, logger="livinglab"):
        response = client.get(f"/api/v1/calendar/{token}.ics")
    assert response.status_code == 500
    records = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert records and records[0].path == "/api/v1/calendar/<token>.ics"
    assert token not in "\n".join(str(r.__dict__) for r in caplog.records)


def test_security_headers_on_every_kind_of_answer(client, lyon, make_user, bearer):
    answers = [
        client.get("/api/v1/cities"),
        client.get("/api/v1/me", headers=bearer(make_user(lyon))),
        client.get("/api/v1/nothing"),
        client.post("/api/v1/auth/sign-in", data="{", content_type="application/json"),
        client.get("/console/login"),
    ]
    for response in answers:
        csp = response.headers["Content-Security-Policy"]
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # Console forms need the Referer to their own origin for CSRF checks over https.
        expected = "same-origin" if response.request.path.startswith("/console") else "no-referrer"
        assert response.headers["Referrer-Policy"] == expected
        assert "Strict-Transport-Security" not in response.headers  # plain http here
    # Personal data is never cached.
    assert answers[1].headers["Cache-Control"] == "no-store"


def test_hsts_over_https(client):
    response = client.get("/api/v1/cities", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_openapi_and_docs_are_served_without_a_cdn(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"].startswith("3.")
    assert "bearerAuth" in spec.json["components"]["securitySchemes"]
    docs = client.get("/api/v1/docs")
    html = docs.get_data(as_text=True)
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html
    with client.get("/api/v1/docs/static/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200 and len(bundle.get_data()) > 100_000


def test_logs_name_sign_ins_and_never_hold_secrets(client, lyon, make_user, caplog):
    user = make_user(lyon, email="logged@example.org")
    with caplog.at_level(logging.INFO, logger="livinglab"):
        ok = client.post("/api/v1/auth/sign-in", json={"email": user.email, "password": PASSWORD})
        client.post("/api/v1/auth/sign-in", json={"email": user.email, "password": "wrong pass"})
    token = ok.json["token"]
    messages = [r.getMessage() for r in caplog.records]
    assert "sign-in" in messages and "sign-in refused" in messages
    text = "\n".join(str(r.__dict__) for r in caplog.records)
    assert PASSWORD not in text and token not in text and "wrong pass" not in text


def test_log_lines_cannot_be_forged_with_line_breaks():
    formatter = next(h for h in logging.getLogger("livinglab").handlers if h.formatter).formatter
    record = logging.LogRecord("livinglab.test", logging.INFO, __file__, 1, "seen", None, None)
    record.email = 'a@example.org\r\n{"levelname": "INFO", "message": "forged"}'
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line
    assert json.loads(line)["email"] == record.email


def test_sign_in_is_throttled_with_retry_after(client, lyon, make_user, caplog):
    user = make_user(lyon)
    statuses = []
    with caplog.at_level(logging.WARNING, logger="livinglab"):
        for _ in range(7):
            response = client.post(
                "/api/v1/auth/sign-in", json={"email": user.email, "password": "guess guess"}
            )
            statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    assert int(response.headers["Retry-After"]) > 0
    assert_problem(response, 429, "too-many-requests")
    assert any(r.getMessage() == "rate limit hit" for r in caplog.records)
    # Another account from elsewhere is not locked out by it.
    other = make_user(lyon)
    response = client.post(
        "/api/v1/auth/sign-in",
        json={"email": other.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 201


def test_one_password_sprayed_over_many_accounts_is_throttled(client, lyon, make_user):
    statuses = []
    for i in range(12):
        response = client.post(
            "/api/v1/auth/sign-in",
            json={"email": f"victim{i}@example.org", "password": "Summer2026!"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{i}"},
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10 and 429 in statuses[10:]


def test_the_role_of_a_console_user_does_not_open_the_api_of_another_city(
    client, lyon, vienna, make_user, bearer
):
    moderator = make_user(vienna, role=Role.MODERATOR)
    assert client.get("/api/v1/campaigns", headers=bearer(moderator)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("PATCH", "/api/v1/me", {"display_name": "Ki\u0000m"}),
        ("POST", "/api/v1/auth/sign-in", {"email": "a@example.org", "password": "x\u0000y"}),
        ("GET", "/api/v1/campaigns/bad%00slug", None),
        ("GET", "/api/v1/campaigns?cursor=%00", None),
    ],
)
def test_nul_characters_are_refused_everywhere(
    client, lyon, make_user, bearer, method, path, payload
):
    user = make_user(lyon, email="nul@example.org")
    response = client.open(path, method=method, json=payload, headers=bearer(user))
    assert_problem(response, 400, "nul-character")


@pytest.mark.parametrize("token_id", ["0", "2147483648", "5915569896311978", "-1"])
def test_ids_no_database_can_hold_are_not_found(client, lyon, make_user, bearer, token_id):
    response = client.delete(f"/api/v1/me/tokens/{token_id}", headers=bearer(make_user(lyon)))
    assert_problem(response, 404)


def test_cursors_with_impossible_ids_are_refused(client, lyon, make_user, bearer):
    cursor = encode_cursor(utcnow(), 10**30)
    response = client.get(f"/api/v1/campaigns?cursor={cursor}", headers=bearer(make_user(lyon)))
    assert "cursor" in assert_problem(response, 400)["errors"]


def test_denials_and_csrf_refusals_are_logged(client, db_session, lyon, make_user, bearer, caplog):
    moderator = make_user(lyon, role=Role.MODERATOR)
    service.create_campaign(db_session, moderator, lyon, slug="draft", title={"fr": "Brouillon"})
    db_session.commit()
    resident = make_user(lyon)
    with caplog.at_level(logging.WARNING, logger="livinglab"):
        client.get("/api/v1/campaigns/draft", headers=bearer(resident))
        client.post("/console/login", data={"email": "a@example.org", "password": "x"})
    denied = [r for r in caplog.records if r.getMessage() == "access denied"]
    assert [(r.action, r.user_id) for r in denied] == [("campaign.read", resident.id)]
    assert "csrf token refused" in [r.getMessage() for r in caplog.records]
