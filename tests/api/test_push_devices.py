"""Registering phones and browsers for push through the API: config, register, list, remove.

Registration runs in production configuration here (OUTBOUND_ALLOW_PRIVATE off) unless a test
says otherwise: an endpoint must be https to a public host. Host names are made to resolve
to a public documentation address, since tests have no DNS.
"""

import base64
import os

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from notifications import devices, outbound
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    PushDevice,
)
from tests.api.helpers import assert_problem

PUBLIC_IP = "93.184.215.14"
ENDPOINT = "https://push.example.org/wpush/v2/gAAAAABk-secret-part"
DEVICE_FIELDS = {"id", "platform", "label", "address_hint", "created_at", "last_success_at"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def subscription_keys() -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"p256dh": _b64(point), "auth": _b64(os.urandom(16))}


@pytest.fixture(scope="module")
def vapid():
    key = Vapid()
    key.generate_keys()
    return key


@pytest.fixture(autouse=True)
def push_configured(app, monkeypatch, vapid, tmp_path):
    """Both push services set up, production rules for addresses; names resolve publicly."""
    credentials = tmp_path / "fcm.json"
    credentials.write_text("{}")
    for name, value in {
        "VAPID_PRIVATE_KEY": vapid.private_pem().decode(),
        "VAPID_PUBLIC_KEY": None,
        "VAPID_SUBJECT": "mailto:push@example.org",
        "FCM_PROJECT_ID": "demo-project",
        "FCM_CREDENTIALS_FILE": str(credentials),
        "OUTBOUND_ALLOW_PRIVATE": False,
    }.items():
        monkeypatch.setitem(app.config, name, value)
    real = outbound.resolve

    def resolve(host, port):
        return [PUBLIC_IP] if host.endswith(".example.org") else real(host, port)

    monkeypatch.setattr(outbound, "resolve", resolve)


@pytest.fixture
def resident(lyon, make_user):
    return make_user(lyon, email="kim@example.org")


def webpush(endpoint=ENDPOINT, **extra):
    return {"platform": "webpush", "endpoint": endpoint, "keys": subscription_keys(), **extra}


def register(client, headers, body):
    return client.post("/api/v1/push-devices", json=body, headers=headers)


def test_config_tells_the_app_how_to_subscribe(client, bearer, resident, vapid, app, monkeypatch):
    response = client.get("/api/v1/push/config", headers=bearer(resident))
    assert response.status_code == 200
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert response.json == {"webpush_public_key": _b64(point), "fcm": True}

    for name in ("VAPID_PRIVATE_KEY", "FCM_PROJECT_ID"):
        monkeypatch.setitem(app.config, name, None)
    response = client.get("/api/v1/push/config", headers=bearer(resident))
    assert response.json == {"webpush_public_key": None, "fcm": False}


def test_register_a_browser_list_it_and_remove_it(client, bearer, resident, db_session):
    headers = bearer(resident)
    response = register(client, headers, webpush(label="Firefox at home"))
    assert response.status_code == 201, response.json
    device = response.json
    assert set(device) == DEVICE_FIELDS
    assert device["platform"] == "webpush" and device["label"] == "Firefox at home"
    assert device["address_hint"] == "push.example.org"

    listed = client.get("/api/v1/push-devices", headers=headers)
    assert [d["id"] for d in listed.json] == [device["id"]]
    text = listed.get_data(as_text=True)
    assert "secret-part" not in text and "p256dh" not in text  # nothing to push with

    assert client.delete(f"/api/v1/push-devices/{device['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/push-devices", headers=headers).json == []
    assert db_session.scalar(sa.select(sa.func.count()).select_from(PushDevice)) == 0


def test_register_an_fcm_token(client, bearer, resident):
    token = "dGhpcyBpcyBub3QgYSByZWFs:APA91bH" + "Q" * 120
    response = register(client, bearer(resident), {"platform": "fcm", "token": token})
    assert response.status_code == 201
    assert response.json["address_hint"] == "…" + token[-4:]
    assert token not in response.get_data(as_text=True)


def test_registering_again_refreshes_the_same_device(client, bearer, resident, db_session):
    headers = bearer(resident)
    first = register(client, headers, webpush(label="Old name"))
    keys = subscription_keys()
    again = register(client, headers, {**webpush(label="New name"), "keys": keys})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["label"] == "New name"
    stored = db_session.get(PushDevice, first.json["id"])
    assert (stored.p256dh, stored.auth) == (keys["p256dh"], keys["auth"])


def test_a_retried_registration_replays_the_first_answer(client, bearer, resident):
    headers = bearer(resident, **{"Idempotency-Key": "7d4bc6a0-1b5e-4a5e-9d1e-2f9f0f8b9d11"})
    body = webpush()
    first = register(client, headers, body)
    second = register(client, headers, body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true" and second.json == first.json


def test_a_shared_phone_moves_to_the_account_signed_in_now(
    client, bearer, resident, lyon, make_user, db_session
):
    other = make_user(lyon)
    body = {"platform": "fcm", "token": "shared-phone-token"}
    mine = register(client, bearer(resident), body).json
    # Something is waiting to be pushed to the resident on that phone.
    note = Notification(
        user_id=resident.id,
        city_id=lyon.id,
        kind="update.published",
        locale="fr",
        subject="s",
        body_text="t",
        body_html="h",
        data={},
    )
    db_session.add(note)
    db_session.flush()
    db_session.add(
        Delivery(
            notification_id=note.id,
            channel=Channel.PUSH,
            device_id=mine["id"],
            status=DeliveryStatus.PENDING,
            due_at=note.created_at,
        )
    )
    db_session.commit()

    theirs = register(client, bearer(other), body)

    assert theirs.status_code == 200 and theirs.json["id"] == mine["id"]
    assert client.get("/api/v1/push-devices", headers=bearer(resident)).json == []
    assert [d["id"] for d in client.get("/api/v1/push-devices", headers=bearer(other)).json] == [
        mine["id"]
    ]
    pending = db_session.scalars(sa.select(Delivery)).one()
    assert pending.status == DeliveryStatus.CANCELLED


def test_someone_elses_device_cannot_be_removed(client, bearer, resident, lyon, make_user):
    device = register(client, bearer(resident), {"platform": "fcm", "token": "abc"}).json
    other = bearer(make_user(lyon))
    assert_problem(client.delete(f"/api/v1/push-devices/{device['id']}", headers=other), 404)
    assert_problem(client.delete("/api/v1/push-devices/999999", headers=other), 404)
    assert len(client.get("/api/v1/push-devices", headers=bearer(resident)).json) == 1


def test_each_person_keeps_at_most_twenty_devices(client, bearer, resident, db_session):
    headers = bearer(resident)
    ids = [
        register(client, headers, {"platform": "fcm", "token": f"token-{i}"}).json["id"]
        for i in range(devices.MAX_DEVICES + 1)
    ]
    listed = [d["id"] for d in client.get("/api/v1/push-devices", headers=headers).json]
    assert len(listed) == devices.MAX_DEVICES
    assert ids[0] not in listed and ids[-1] in listed  # the oldest went


def test_registering_over_and_over_is_throttled(client, bearer, resident):
    """Each registration makes us resolve a host name: a device cannot ask without end."""
    headers = bearer(resident)
    answers = [
        register(client, headers, {"platform": "fcm", "token": f"token-{i}"}).status_code
        for i in range(30)
    ]
    assert set(answers) <= {200, 201}
    throttled = register(client, headers, {"platform": "fcm", "token": "one-more"})
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0
    # Listing and removing stay open.
    assert client.get("/api/v1/push-devices", headers=headers).status_code == 200


REFUSED_ENDPOINTS = {
    "loopback": "https://127.0.0.1/push/abc",
    "IPv6 loopback": "https://[::1]/push/abc",
    "cloud metadata": "https://169.254.169.254/latest/meta-data/",
    "private 10/8": "https://10.1.2.3/push/abc",
    "private 192.168/16": "https://192.168.0.10/push/abc",
    "decimal loopback": "https://2130706433/push/abc",
    "IPv4-mapped metadata": "https://[::ffff:169.254.169.254]/x",
    "plain http": "http://push.example.org/push/abc",
    "credentials": "https://user:pw@push.example.org/push/abc",
    "unknown host": "https://push.invalid/abc",
}


@pytest.mark.parametrize("endpoint", REFUSED_ENDPOINTS.values(), ids=REFUSED_ENDPOINTS.keys())
def test_endpoints_to_private_or_local_addresses_are_refused(
    client, bearer, resident, db_session, endpoint
):
    response = register(client, bearer(resident), webpush(endpoint))
    body = assert_problem(response, 422, "invalid")
    assert set(body["errors"]) == {"endpoint"}
    assert all(isinstance(m, str) and m for m in body["errors"]["endpoint"])
    assert db_session.scalar(sa.select(sa.func.count()).select_from(PushDevice)) == 0


def test_tests_may_register_local_endpoints_only_when_allowed(client, bearer, resident, app):
    headers = bearer(resident)
    assert_problem(register(client, headers, webpush("http://127.0.0.1:8080/push")), 422)
    app.config["OUTBOUND_ALLOW_PRIVATE"] = True  # restored by push_configured's monkeypatch
    assert register(client, headers, webpush("http://127.0.0.1:8080/push")).status_code == 201


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"auth": _b64(os.urandom(16)), "p256dh": _b64(os.urandom(33))}, "p256dh"),
        ({"auth": _b64(os.urandom(16)), "p256dh": _b64(b"\x04" + bytes(64))}, "p256dh"),
        ({"auth": _b64(os.urandom(16)), "p256dh": "not base64!"}, "p256dh"),
        ({"auth": _b64(os.urandom(8)), "p256dh": None}, "auth"),
    ],
    ids=["short key", "not on the curve", "not base64url", "short secret"],
)
def test_subscription_keys_are_checked(client, bearer, resident, keys, field):
    if keys["p256dh"] is None:
        keys["p256dh"] = subscription_keys()["p256dh"]
    response = register(client, bearer(resident), {**webpush(), "keys": keys})
    body = assert_problem(response, 422, "invalid")
    assert set(body["errors"]) == {"keys"} and set(body["errors"]["keys"]) == {field}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "fcm", "token": "has spaces in it"}, "token"),
        ({"platform": "fcm", "token": "x" * 5000}, "token"),
        ({"platform": "fcm"}, "token"),
        ({"platform": "fcm", "token": "abc", "endpoint": ENDPOINT}, "endpoint"),
        ({"platform": "webpush", "keys": subscription_keys()}, "endpoint"),
        ({"platform": "webpush", "endpoint": ENDPOINT}, "keys"),
        ({"platform": "apns", "token": "abc"}, "platform"),
        ({"platform": "fcm", "token": "abc", "user_id": 1}, "user_id"),
        ({"platform": "fcm", "token": "abc", "label": "x" * 101}, "label"),
        ({"platform": "fcm", "token": "abc", "label": "line\nbreak"}, "label"),
    ],
)
def test_registrations_are_validated_per_field(client, bearer, resident, body, field):
    response = register(client, bearer(resident), body)
    assert field in assert_problem(response, 422, "invalid")["errors"]


def test_a_push_service_that_is_not_set_up_cannot_be_registered(
    client, bearer, resident, app, monkeypatch
):
    monkeypatch.setitem(app.config, "FCM_CREDENTIALS_FILE", None)
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    headers = bearer(resident)
    for body in ({"platform": "fcm", "token": "abc"}, webpush()):
        errors = assert_problem(register(client, headers, body), 422)["errors"]
        assert set(errors) == {"platform"}


def test_push_routes_need_a_signed_in_person(client):
    for method, path in (
        ("get", "/api/v1/push/config"),
        ("get", "/api/v1/push-devices"),
        ("post", "/api/v1/push-devices"),
        ("delete", "/api/v1/push-devices/1"),
    ):
        assert_problem(getattr(client, method)(path, json={}), 401)
