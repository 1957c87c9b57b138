"""Push through Web Push and FCM HTTP v1, against a real HTTP server playing the push services.

pytest-httpserver answers as the services do: accepted, gone (404/410), throttled (429 with
Retry-After), failing (500), too slow, too large, redirecting. Messages are checked as a phone
would see them: the Web Push body is decrypted with the subscription's own keys.
"""

import logging
import threading
import time
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, DictLoader
from py_vapid import Vapid02
from pytest_httpserver import HTTPServer
from werkzeug import Response

from app.db import utcnow
from notifications import delivery, devices, kinds
from notifications.channels import push
from notifications.models import (
    Delivery,
    DeliveryStatus,
    EmailMode,
    Notification,
    PushDevice,
    PushPlatform,
)
from notifications.service import notify
from tests.notifications.pushes import PROJECT, Subscriber, _jwt_claims

HIGH, LOW = "test.push_high", "test.push_low"
SEND_PATH = f"/v1/projects/{PROJECT}/messages:send"
FCM_TOKEN = "fcm-device-token:APA91b" + "x" * 60


@pytest.fixture(autouse=True)
def push_kinds(app, monkeypatch):
    """Two push-only kinds of our own (high and low priority) with one-line templates."""
    templates = {}
    for name, priority in ((HIGH, kinds.Priority.HIGH), (LOW, kinds.Priority.LOW)):
        # Registered for this test only: other tests see the real registry.
        kind = kinds.Kind(name, name, priority, inbox=False, email=EmailMode.OFF, listed=False)
        monkeypatch.setitem(kinds.KINDS, name, kind)
        templates[f"notifications/{name}.subject.txt"] = "{{ title }}"
        templates[f"notifications/{name}.txt"] = "{{ text }}"
        templates[f"notifications/{name}.html"] = "<p>{{ text }}</p>"
    loader = ChoiceLoader([DictLoader(templates), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)


@pytest.fixture
def person(lyon, make_user):
    return make_user(lyon)


# Each helper works as a boundary would, in an app context, and commits (a savepoint here).


def webpush_device(app, session, user, subscriber, url) -> int:
    with app.app_context():
        device, _created = devices.register_device(
            session, user, platform="webpush", endpoint=url, keys=subscriber.keys
        )
        session.commit()
        return device.id


def fcm_device(app, session, user, token=FCM_TOKEN) -> int:
    with app.app_context():
        device, _created = devices.register_device(session, user, platform="fcm", token=token)
        session.commit()
        return device.id


def raw_device(session, user, address, platform=PushPlatform.WEBPUSH) -> int:
    """A device as a row, bypassing registration (one registered before a rule existed)."""
    keys = Subscriber().keys if platform == PushPlatform.WEBPUSH else {}
    device = PushDevice(
        user_id=user.id,
        platform=platform,
        address=address,
        address_hash=devices.address_hash(address),
        p256dh=keys.get("p256dh"),
        auth=keys.get("auth"),
        label="",
    )
    session.add(device)
    session.commit()
    return device.id


def tell(app, session, user, kind=LOW, text="The square reopens on Monday.", **data):
    with app.app_context():
        notify(session, [user], kind, {"title": "Square reopens", "text": text}, data=data)
        session.commit()
    return session.scalars(sa.select(Notification).order_by(Notification.id.desc())).first()


def deliver(app, session, now=None) -> int:
    with app.app_context():
        return delivery.deliver_due(session, now=now)


def push_rows(session) -> list[Delivery]:
    session.expire_all()
    return list(session.scalars(sa.select(Delivery).order_by(Delivery.id)))


def only_push(session) -> Delivery:
    (row,) = push_rows(session)
    return row


def livinglab_logs(caplog) -> str:
    return "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("livinglab")
    )


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "urgency"), [(HIGH, "high"), (LOW, "low")])
def test_web_push_is_encrypted_signed_and_accepted(
    app, db_session, services, person, kind, urgency, caplog
):
    subscriber = Subscriber()
    url = services.server.url_for("/push/sub-secret-1")
    device_id = webpush_device(app, db_session, person, subscriber, url)
    services.server.expect_oneshot_request("/push/sub-secret-1", method="POST").respond_with_data(
        "", status=201
    )
    note = tell(app, db_session, person, kind, text="Room 4 is ready. " * 40, workshop_id=7)

    with caplog.at_level(logging.INFO, logger="livinglab"):
        assert deliver(app, db_session) == 1

    ((request, _response),) = services.server.log
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["TTL"] == str(push.TTL)
    assert request.headers["Urgency"] == urgency
    authorization = request.headers["Authorization"]
    assert authorization.startswith("vapid t=")
    assert Vapid02.verify(authorization)  # signed with the key clients subscribed with
    assert f"k={services.public_key}" in authorization
    claims = _jwt_claims(authorization.split("t=", 1)[1].split(",", 1)[0])
    assert claims["aud"] == f"http://localhost:{services.server.port}"
    assert claims["sub"] == "mailto:push@example.org"
    assert claims["exp"] > time.time()

    message = subscriber.read(request.get_data())
    assert message["title"] == "Square reopens"
    assert message["body"].startswith("Room 4 is ready.") and message["body"].endswith("…")
    assert len(message["body"]) <= push.BODY_LENGTH
    assert message["data"] == {"workshop_id": 7, "notification_id": note.id, "kind": kind}

    row = only_push(db_session)
    assert (row.status, row.attempts, row.device_id) == (DeliveryStatus.SENT, 1, device_id)
    assert db_session.get(PushDevice, device_id).last_success_at is not None
    assert "sub-secret-1" not in livinglab_logs(caplog)


def test_push_messages_go_out_side_by_side(app, db_session, services, lyon, make_user):
    """Providers take tens of milliseconds each: the worker keeps several messages in flight.

    The fake service holds each request until four have arrived at once; sent one after the
    other, the first would wait in vain and fail.
    """
    together = threading.Barrier(4, timeout=10)

    def hold(request):
        together.wait()
        return Response("", status=201)

    server = HTTPServer(threaded=True)
    server.start()
    try:
        people = [make_user(lyon) for _ in range(4)]
        for person in people:
            url = server.url_for(f"/push/{person.id}")
            webpush_device(app, db_session, person, Subscriber(), url)
            server.expect_request(f"/push/{person.id}", method="POST").respond_with_handler(hold)
            tell(app, db_session, person)
        assert deliver(app, db_session) == 4
    finally:
        server.clear()
        server.stop()
    assert [row.status for row in push_rows(db_session)] == [DeliveryStatus.SENT] * 4


def test_fcm_message_goes_out_with_a_service_account_token(
    app, db_session, services, person, caplog
):
    server = services.server
    server.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "ya29.fake-access", "expires_in": 3600, "token_type": "Bearer"}
    )
    server.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"name": f"projects/{PROJECT}/messages/0:1"}
    )
    fcm_device(app, db_session, person)
    first = tell(app, db_session, person, HIGH, update_id=3)
    tell(app, db_session, person, LOW)

    with caplog.at_level(logging.INFO, logger="livinglab"):
        assert deliver(app, db_session) == 2

    paths = [request.path for request, _response in server.log]
    assert paths == ["/token", SEND_PATH, SEND_PATH]  # one token for both, cached
    token_request = server.log[0][0]
    form = parse_qs(token_request.get_data(as_text=True))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assertion = _jwt_claims(form["assertion"][0])
    assert assertion["iss"] == f"push@{PROJECT}.iam.gserviceaccount.com"
    assert assertion["scope"] == push.FCM_SCOPE

    # Messages go out side by side: which came first is not fixed.
    sends = {r.get_json()["message"]["data"]["kind"]: r for r, _response in server.log[1:]}
    send = sends[HIGH]
    assert send.headers["Authorization"] == "Bearer ya29.fake-access"
    message = send.get_json()["message"]
    assert message["token"] == FCM_TOKEN
    assert message["notification"] == {
        "title": "Square reopens",
        "body": "The square reopens on Monday.",
    }
    assert message["data"] == {
        "update_id": "3",
        "notification_id": str(first.id),
        "kind": HIGH,
    }
    assert message["android"]["priority"] == "high"
    assert sends[LOW].get_json()["message"]["android"]["priority"] == "normal"
    assert [r.status for r in push_rows(db_session)] == [DeliveryStatus.SENT] * 2
    logs = livinglab_logs(caplog)
    assert FCM_TOKEN not in logs and "ya29.fake-access" not in logs


# --- gone, throttled, failing ---------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_web_push_subscription_is_removed(app, db_session, services, person, status):
    url = services.server.url_for("/push/gone")
    device_id = webpush_device(app, db_session, person, Subscriber(), url)
    services.server.expect_request("/push/gone").respond_with_data("", status=status)
    tell(app, db_session, person)

    assert deliver(app, db_session) == 0

    assert db_session.get(PushDevice, device_id) is None
    row = only_push(db_session)
    assert row.status == DeliveryStatus.CANCELLED and row.device_id is None


def test_an_unregistered_fcm_token_is_removed(app, db_session, services, person):
    server = services.server
    server.expect_request("/token").respond_with_json(
        {"access_token": "ya29.t", "expires_in": 3600, "token_type": "Bearer"}
    )
    server.expect_request(SEND_PATH).respond_with_json(
        {
            "error": {
                "code": 404,
                "status": "NOT_FOUND",
                "message": "Requested entity was not found.",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                        "errorCode": "UNREGISTERED",
                    }
                ],
            }
        },
        status=404,
    )
    device_id = fcm_device(app, db_session, person)
    tell(app, db_session, person)

    deliver(app, db_session)

    assert db_session.get(PushDevice, device_id) is None
    assert only_push(db_session).status == DeliveryStatus.CANCELLED


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_throttled_push_waits_as_long_as_the_service_asks(app, db_session, services, person, form):
    url = services.server.url_for("/push/busy")
    webpush_device(app, db_session, person, Subscriber(), url)
    wait = 120 if form == "seconds" else 600
    value = (
        str(wait)
        if form == "seconds"
        else format_datetime(utcnow() + timedelta(seconds=wait), usegmt=True)
    )
    services.server.expect_request("/push/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": value}
    )
    tell(app, db_session, person)
    before = utcnow()

    deliver(app, db_session)

    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.due_at >= before + timedelta(seconds=wait - 2)


def test_a_failing_service_is_retried_until_it_accepts(app, db_session, services, person):
    url = services.server.url_for("/push/flaky-secret")
    webpush_device(app, db_session, person, Subscriber(), url)
    services.server.expect_oneshot_request("/push/flaky-secret").respond_with_data(
        "oops", status=500
    )
    tell(app, db_session, person)

    deliver(app, db_session)
    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.due_at > utcnow()
    assert "500" in row.last_error and "flaky-secret" not in row.last_error
    assert deliver(app, db_session) == 0  # not due yet

    services.server.expect_oneshot_request("/push/flaky-secret").respond_with_data("", status=201)
    deliver(app, db_session, now=row.due_at + timedelta(seconds=1))
    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


def test_a_service_that_keeps_failing_makes_a_dead_letter(app, db_session, services, person):
    url = services.server.url_for("/push/down")
    webpush_device(app, db_session, person, Subscriber(), url)
    services.server.expect_request("/push/down").respond_with_data("oops", status=503)
    tell(app, db_session, person)
    for _ in range(delivery.MAX_ATTEMPTS):
        deliver(app, db_session, now=only_push(db_session).due_at + timedelta(seconds=1))
    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, delivery.MAX_ATTEMPTS)
    assert len(services.server.log) == delivery.MAX_ATTEMPTS


def test_a_service_too_slow_to_answer_is_retried(app, db_session, services, person):
    released = threading.Event()

    def stall(_request):
        released.wait(5)
        return Response("", status=201)

    url = services.server.url_for("/push/slow")
    webpush_device(app, db_session, person, Subscriber(), url)
    services.server.expect_request("/push/slow").respond_with_handler(stall)
    tell(app, db_session, person)
    started = time.monotonic()
    try:
        deliver(app, db_session)
        took = time.monotonic() - started
    finally:
        released.set()  # the fake server answers one request at a time
    assert took < 3  # PUSH_TIMEOUT is 1 s here
    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert "in time" in row.last_error


def test_huge_or_unreadable_answers_are_retried(app, db_session, services, person):
    server = services.server
    webpush_device(app, db_session, person, Subscriber(), server.url_for("/push/huge"))
    server.expect_request("/push/huge").respond_with_data("x" * 5_000_000, status=201)
    server.expect_request("/token").respond_with_json(
        {"access_token": "ya29.t", "expires_in": 3600, "token_type": "Bearer"}
    )
    server.expect_request(SEND_PATH).respond_with_data("<html>proxy error</html>", status=200)
    fcm_device(app, db_session, person)
    tell(app, db_session, person)

    deliver(app, db_session)

    rows = push_rows(db_session)
    assert [(r.status, r.attempts) for r in rows] == [(DeliveryStatus.PENDING, 1)] * 2
    assert "too large" in rows[0].last_error and "unreadable" in rows[1].last_error


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_refusals_are_dead_letters_and_the_device_is_kept(
    app, db_session, services, person, status
):
    url = services.server.url_for("/push/refused")
    device_id = webpush_device(app, db_session, person, Subscriber(), url)
    services.server.expect_request("/push/refused").respond_with_data("no", status=status)
    tell(app, db_session, person)

    deliver(app, db_session)

    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 1)
    assert db_session.get(PushDevice, device_id) is not None


def test_fcm_invalid_argument_is_a_dead_letter(app, db_session, services, person):
    server = services.server
    server.expect_request("/token").respond_with_json(
        {"access_token": "ya29.t", "expires_in": 3600, "token_type": "Bearer"}
    )
    server.expect_request(SEND_PATH).respond_with_json(
        {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad"}}, status=400
    )
    device_id = fcm_device(app, db_session, person)
    tell(app, db_session, person)
    deliver(app, db_session)
    row = only_push(db_session)
    assert row.status == DeliveryStatus.DEAD and "INVALID_ARGUMENT" in row.last_error
    assert db_session.get(PushDevice, device_id) is not None


def test_fcm_not_found_without_unregistered_keeps_the_device(app, db_session, services, person):
    """A wrong FCM_PROJECT_ID answers 404 too: that must not remove every device."""
    server = services.server
    server.expect_request("/token").respond_with_json(
        {"access_token": "ya29.t", "expires_in": 3600, "token_type": "Bearer"}
    )
    server.expect_request(SEND_PATH).respond_with_json(
        {"error": {"code": 404, "status": "NOT_FOUND"}}, status=404
    )
    device_id = fcm_device(app, db_session, person)
    tell(app, db_session, person)
    deliver(app, db_session)
    assert only_push(db_session).status == DeliveryStatus.DEAD
    assert db_session.get(PushDevice, device_id) is not None


def test_a_refused_fcm_access_token_is_fetched_again(app, db_session, services, person):
    server = services.server
    server.expect_request("/token").respond_with_json(
        {"access_token": "ya29.t", "expires_in": 3600, "token_type": "Bearer"}
    )
    server.expect_oneshot_request(SEND_PATH).respond_with_json(
        {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, status=401
    )
    server.expect_oneshot_request(SEND_PATH).respond_with_json({"name": "m/1"})
    fcm_device(app, db_session, person)
    tell(app, db_session, person)

    deliver(app, db_session)
    row = only_push(db_session)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    deliver(app, db_session, now=row.due_at + timedelta(seconds=1))

    assert only_push(db_session).status == DeliveryStatus.SENT
    paths = [request.path for request, _response in server.log]
    assert paths == ["/token", SEND_PATH, "/token", SEND_PATH]


# --- where push may not go ------------------------------------------------------------------


@pytest.mark.parametrize(
    "location", ["http://169.254.169.254/latest/meta-data/", "/push/moved-here"]
)
def test_a_redirect_is_not_followed(app, db_session, services, person, location):
    server = services.server
    webpush_device(app, db_session, person, Subscriber(), server.url_for("/push/moving"))
    server.expect_request("/push/moving").respond_with_data(
        "", status=307, headers={"Location": location}
    )
    server.expect_request("/push/moved-here").respond_with_data("", status=201)
    tell(app, db_session, person)

    deliver(app, db_session)

    assert [request.path for request, _response in server.log] == ["/push/moving"]
    row = only_push(db_session)
    assert row.status == DeliveryStatus.DEAD and "redirect" in row.last_error


PRIVATE_ENDPOINTS = [
    "https://127.0.0.1:{port}/push/x",
    "http://localhost:{port}/push/x",
    "https://[::1]:{port}/push/x",
    "https://169.254.169.254/push/x",
    "https://10.0.0.7/push/x",
    "https://192.168.1.20/push/x",
    "https://2130706433:{port}/push/x",
]


@pytest.mark.parametrize("endpoint", PRIVATE_ENDPOINTS)
def test_production_never_pushes_to_private_addresses(
    app, db_session, services, person, monkeypatch, endpoint
):
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)
    services.server.expect_request("/push/x").respond_with_data("", status=201)
    raw_device(db_session, person, endpoint.format(port=services.server.port))
    tell(app, db_session, person)

    deliver(app, db_session)

    assert services.server.log == []
    row = only_push(db_session)
    assert row.status == DeliveryStatus.DEAD and "address refused" in row.last_error


def test_production_never_calls_a_private_fcm_or_token_endpoint(
    app, db_session, services, person, monkeypatch
):
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)
    services.server.expect_request("/token").respond_with_json({"access_token": "t"})
    raw_device(db_session, person, FCM_TOKEN, PushPlatform.FCM)
    tell(app, db_session, person)

    deliver(app, db_session)

    assert services.server.log == []
    assert only_push(db_session).status == DeliveryStatus.DEAD


# --- devices that changed meanwhile ---------------------------------------------------------


def test_a_device_removed_meanwhile_is_skipped(app, db_session, services, person):
    device_id = webpush_device(
        app, db_session, person, Subscriber(), services.server.url_for("/push/removed")
    )
    tell(app, db_session, person)
    with app.app_context():
        devices.remove_device(db_session, person, device_id)
        db_session.commit()

    deliver(app, db_session)

    assert services.server.log == []
    assert only_push(db_session).status == DeliveryStatus.CANCELLED


def test_a_phone_that_changed_hands_gets_nothing_of_the_previous_account(
    app, db_session, services, person, lyon, make_user
):
    url = services.server.url_for("/push/shared-phone")
    subscriber = Subscriber()
    webpush_device(app, db_session, person, subscriber, url)
    tell(app, db_session, person, text="For the first account only")
    webpush_device(app, db_session, make_user(lyon), subscriber, url)

    deliver(app, db_session)

    assert services.server.log == []
    assert only_push(db_session).status == DeliveryStatus.CANCELLED
