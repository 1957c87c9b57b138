"""Sign-up, verification, sign-in, tokens and passwords through the API."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts import CODE_ATTEMPTS, set_disabled
from app.db import utcnow
from app.models import AccessToken, Role, User
from tests.api.helpers import assert_problem, last_code, mails_to
from tests.conftest import PASSWORD


def sign_up(client, email="new@example.org", password=PASSWORD, city="lyon", **extra):
    body = {"email": email, "password": password, "city": city, **extra}
    return client.post("/api/v1/auth/sign-up", json=body)


def sign_in(client, email, password=PASSWORD, **headers):
    return client.post(
        "/api/v1/auth/sign-in", json={"email": email, "password": password}, headers=headers
    )


def test_sign_up_verify_sign_in_and_read_profile(client, db_session, lyon):
    response = sign_up(client, email="Ada@Example.org", display_name="Ada", locale="fr")
    assert response.status_code == 202

    # The account exists but cannot sign in before the email is confirmed.
    assert_problem(sign_in(client, "ada@example.org"), 403, "email-not-verified")

    code = last_code(db_session, "ada@example.org")
    response = client.post(
        "/api/v1/auth/verify-email", json={"email": "ada@example.org", "code": code}
    )
    assert response.status_code == 200

    response = sign_in(client, "ADA@example.org", **{"User-Agent": "Pixel 8"})
    assert response.status_code == 201
    token = response.json["token"]
    assert token.startswith("llt_") and len(token) >= 40
    assert response.json["me"]["email"] == "ada@example.org"

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert set(me.json) == {"email", "display_name", "locale", "city", "email_verified"}
    assert me.json["city"]["slug"] == "lyon"
    assert me.json["display_name"] == "Ada"
    assert me.json["email_verified"] is True
    # Only a hash of the token is stored.
    stored = db_session.scalars(sa.select(AccessToken.token_hash)).all()
    assert token not in stored and len(stored) == 1


def test_verification_mail_is_in_the_residents_language(client, db_session, lyon, translate):
    sign_up(client, email="fr@example.org", locale="fr")
    sign_up(client, email="ja@example.org", locale="ja")
    for email, locale in (("fr@example.org", "fr"), ("ja@example.org", "ja")):
        expected = translate(locale, "Your Living Lab confirmation code")
        assert expected != "Your Living Lab confirmation code"
        assert mails_to(db_session, email)[0].subject == expected


@pytest.mark.parametrize(
    "password",
    [
        "short7!",  # seven characters
        "password1",  # among the most common passwords
        "iloveyou",
        "aaaaaaaaaaaa",  # too few distinct characters
    ],
)
def test_weak_passwords_are_refused_and_nothing_is_created(client, db_session, lyon, password):
    body = assert_problem(sign_up(client, password=password), 422, "invalid")
    assert body["errors"]["password"]
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_a_64_character_password_is_accepted(client, lyon):
    passphrase = "the quick brown fox jumps over the lazy dog near the old mill 42"
    assert len(passphrase) == 64
    assert sign_up(client, password=passphrase).status_code == 202


def test_sign_up_does_not_reveal_existing_accounts(client, db_session, lyon, make_user):
    make_user(lyon, email="taken@example.org")
    fresh = sign_up(client, email="fresh@example.org")
    taken = sign_up(client, email="taken@example.org")
    assert (fresh.status_code, fresh.get_json()) == (taken.status_code, taken.get_json())
    # The owner of the existing account is told by mail instead.
    assert len(mails_to(db_session, "taken@example.org")) == 1
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 2


def test_sign_in_failures_read_the_same_for_unknown_and_known_accounts(client, lyon, make_user):
    make_user(lyon, email="known@example.org")
    unknown = sign_in(client, "unknown@example.org", "whatever-password")
    wrong = sign_in(client, "known@example.org", "whatever-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()


def test_reset_and_resend_do_not_reveal_accounts(client, lyon, make_user):
    make_user(lyon, email="known@example.org")
    for path in ("/api/v1/auth/password-reset", "/api/v1/auth/resend-code"):
        known = client.post(path, json={"email": "known@example.org"})
        unknown = client.post(path, json={"email": "unknown@example.org"})
        assert known.status_code == unknown.status_code == 202
        assert known.get_json() == unknown.get_json()


def test_unknown_city_at_sign_up_is_a_field_error(client, db_session, lyon):
    body = assert_problem(sign_up(client, city="atlantis"), 422)
    assert "city" in body["errors"]


@pytest.mark.parametrize(
    "extra",
    [
        {"role": "admin"},
        {"is_verified": True},
        {"is_platform_admin": True},
        {"city_id": 2},
        {"email_verified_at": "2026-01-01T00:00:00Z"},
    ],
)
def test_mass_assignment_is_refused(client, db_session, lyon, extra):
    body = assert_problem(sign_up(client, **extra), 422)
    assert list(body["errors"]) == list(extra)
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_profile_update_refuses_privileged_fields(client, db_session, lyon, make_user, bearer):
    user = make_user(lyon)
    response = client.patch("/api/v1/me", json={"is_platform_admin": True}, headers=bearer(user))
    assert_problem(response, 422)
    assert db_session.get(User, user.id).is_platform_admin is False
    response = client.patch("/api/v1/me", json={"locale": "uk"}, headers=bearer(user))
    assert response.status_code == 200 and response.json["locale"] == "uk"
    assert response.headers["Content-Language"] == "uk"  # answered in the new language
    assert_problem(client.patch("/api/v1/me", json={"locale": "xx"}, headers=bearer(user)), 422)


def test_wrong_codes_count_and_the_code_dies(client, db_session, lyon):
    sign_up(client, email="slow@example.org")
    code = last_code(db_session, "slow@example.org")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(CODE_ATTEMPTS):
        response = client.post(
            "/api/v1/auth/verify-email", json={"email": "slow@example.org", "code": wrong}
        )
        assert_problem(response, 422, "invalid-code")
    # Even the right code no longer works once the attempts are used up
    # (a minute later, past the per-address rate limit).
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        response = client.post(
            "/api/v1/auth/verify-email", json={"email": "slow@example.org", "code": code}
        )
    assert_problem(response, 422, "invalid-code")


def test_codes_expire(client, db_session, lyon):
    sign_up(client, email="late@example.org")
    code = last_code(db_session, "late@example.org")
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        response = client.post(
            "/api/v1/auth/verify-email", json={"email": "late@example.org", "code": code}
        )
    assert_problem(response, 422, "invalid-code")


def test_password_reset_signs_out_every_device(client, db_session, lyon, make_user, bearer):
    user = make_user(lyon, email="forgetful@example.org")
    old = bearer(user)
    assert client.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    code = last_code(db_session, user.email)
    new_password = "a brand new passphrase"
    response = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"email": user.email, "code": code, "new_password": new_password},
    )
    assert response.status_code == 200
    assert_problem(client.get("/api/v1/me", headers=old), 401, "invalid-token")
    assert sign_in(client, user.email, new_password).status_code == 201
    assert sign_in(client, user.email, PASSWORD).status_code == 401


def test_password_change_keeps_this_device_and_signs_out_others(
    client, db_session, lyon, make_user, bearer
):
    user = make_user(lyon)
    this, other = bearer(user), bearer(user)
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": "not it at all", "new_password": "another fine passphrase"},
        headers=this,
    )
    assert "current_password" in assert_problem(response, 422)["errors"]
    response = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
        headers=this,
    )
    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=this).status_code == 200
    assert_problem(client.get("/api/v1/me", headers=other), 401)


def test_tokens_are_listed_and_revocable_by_their_owner_only(
    client, db_session, lyon, make_user, bearer
):
    alice, bob = make_user(lyon), make_user(lyon)
    phone, tablet, bobs = bearer(alice), bearer(alice), bearer(bob)
    listed = client.get("/api/v1/me/tokens", headers=phone).json
    assert len(listed) == 2
    assert set(listed[0]) == {
        "id",
        "label",
        "kind",
        "created_at",
        "last_used_at",
        "expires_at",
        "current",
    }
    assert sum(t["current"] for t in listed) == 1
    tablet_id = next(t["id"] for t in listed if not t["current"])
    # Bob cannot revoke Alice's token: it reads as not found.
    assert_problem(client.delete(f"/api/v1/me/tokens/{tablet_id}", headers=bobs), 404)
    assert client.get("/api/v1/me", headers=tablet).status_code == 200
    assert client.delete(f"/api/v1/me/tokens/{tablet_id}", headers=phone).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=tablet), 401)


def test_sign_out_revokes_the_token(client, lyon, make_user, bearer):
    headers = bearer(make_user(lyon))
    assert client.post("/api/v1/auth/sign-out", headers=headers).status_code == 204
    response = client.get("/api/v1/me", headers=headers)
    assert_problem(response, 401, "invalid-token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer llt_not-a-real-token",
        "Bearer " + "x" * 5000,
    ],
)
def test_missing_or_malformed_tokens_are_401(client, authorization):
    assert_problem(client.get("/api/v1/me", headers={"Authorization": authorization}), 401)


def test_expired_token_and_disabled_account_are_401(client, db_session, lyon, make_user, bearer):
    user = make_user(lyon)
    headers = bearer(user)
    with time_machine.travel(utcnow() + timedelta(days=2)):
        assert_problem(client.get("/api/v1/me", headers=headers), 401)
    fresh = bearer(user)
    set_disabled(db_session, make_user(lyon, role=Role.ADMIN), user, True)
    db_session.commit()
    assert_problem(client.get("/api/v1/me", headers=fresh), 401)
    assert sign_in(client, user.email).status_code == 401


def test_sign_up_is_idempotent_with_a_key(client, db_session, lyon):
    headers = {"Idempotency-Key": "5f0c6a0e-8d0e-4a53-9a0e-4b8c8d1e2f3a"}
    body = {"email": "retry@example.org", "password": PASSWORD, "city": "lyon"}
    first = client.post("/api/v1/auth/sign-up", json=body, headers=headers)
    again = [client.post("/api/v1/auth/sign-up", json=body, headers=headers) for _ in range(4)]
    assert first.status_code == 202
    assert all(r.status_code == 202 and r.get_json() == first.get_json() for r in again)
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in again)
    # Replays did nothing: one account, one mail.
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert len(mails_to(db_session, "retry@example.org")) == 1
    changed = client.post(
        "/api/v1/auth/sign-up", json={**body, "email": "other@example.org"}, headers=headers
    )
    assert_problem(changed, 409, "idempotency-key-reused")
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_a_bad_idempotency_key_is_refused(client, lyon):
    response = client.post(
        "/api/v1/auth/sign-up",
        json={"email": "k@example.org", "password": PASSWORD, "city": "lyon"},
        headers={"Idempotency-Key": "has spaces in it"},
    )
    assert_problem(response, 422)
