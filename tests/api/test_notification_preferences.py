"""My notification settings through the API, and ``notify`` following them.

Rendering is stubbed (each kind's templates have their own tests): these tests are about which
deliveries a person's choices make, and when they are due.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from notifications import kinds, service
from notifications.models import (
    Delivery,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from notifications.render import Rendered
from tests.api.helpers import assert_problem

KIND = "update.published"
SETTINGS = "/api/v1/notifications/settings"
#: A time-bound kind of our own, to choose channels for (registered only during a test).
REMINDER = kinds.Kind("test.reminder", "Test reminders", kinds.Priority.HIGH, email=EmailMode.OFF)


@pytest.fixture(autouse=True)
def plain_rendering(monkeypatch):
    monkeypatch.setattr(service, "render", lambda *_args: Rendered("Subject", "Text\n", "<p>T</p>"))


@pytest.fixture
def reminder_kind(monkeypatch):
    monkeypatch.setitem(kinds.KINDS, REMINDER.name, REMINDER)
    return REMINDER


@pytest.fixture
def resident(lyon, make_user):
    return make_user(lyon, email="resident@example.org")


@pytest.fixture
def device(db_session):
    def add(user):
        db_session.add(
            PushDevice(user_id=user.id, platform="fcm", address="token", address_hash=f"h{user.id}")
        )
        db_session.commit()

    return add


def _tell(app, db_session, user, now=None) -> dict[str, list[Delivery]]:
    """notify() the update kind to ``user``; the deliveries it made, by channel."""
    with app.app_context():
        assert service.notify(db_session, [user], KIND, {}, now=now) == 1
        db_session.commit()
    newest = sa.select(sa.func.max(Notification.id)).where(Notification.user_id == user.id)
    rows = db_session.scalars(
        sa.select(Delivery)
        .where(Delivery.notification_id == newest.scalar_subquery())
        .order_by(Delivery.id)
    )
    by_channel: dict[str, list[Delivery]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row)
    return by_channel


def _patch(client, headers, body):
    return client.patch(SETTINGS, json=body, headers=headers)


def _kind(settings: dict, name: str) -> dict:
    return next(k for k in settings["kinds"] if k["kind"] == name)


def test_settings_list_every_choosable_kind_with_its_defaults(client, resident, bearer):
    response = client.get(SETTINGS, headers=bearer(resident, **{"Accept-Language": "en"}))
    assert response.status_code == 200
    settings = response.json
    assert set(settings) == {"timezone", "city_timezone", "quiet_hours", "email_paused", "kinds"}
    assert settings["timezone"] is None and settings["city_timezone"] == "Europe/Paris"
    assert settings["quiet_hours"] is None and settings["email_paused"] is False
    names = [k["kind"] for k in settings["kinds"]]
    assert names == [k.name for k in kinds.choosable()]
    # Codes one asked for, and the digest itself, are not for choosing.
    assert not {"account.verify_email", "account.reset_password", "digest"} & set(names)
    update = _kind(settings, KIND)
    assert update == {
        "kind": KIND,
        "label": "News from my city and the campaigns I follow",
        "inbox": True,
        "push": True,
        "email": "immediate",
        "email_modes": ["off", "immediate", "daily", "weekly"],
    }


def test_labels_follow_my_language(client, lyon, make_user, bearer, translate):
    person = make_user(lyon, locale="fr")
    settings = client.get(SETTINGS, headers=bearer(person)).json
    label = "News from my city and the campaigns I follow"
    assert _kind(settings, KIND)["label"] == translate("fr", label)


def test_only_low_priority_kinds_offer_a_digest(client, resident, bearer, reminder_kind):
    settings = client.get(SETTINGS, headers=bearer(resident)).json
    assert _kind(settings, reminder_kind.name)["email_modes"] == ["off", "immediate"]
    assert _kind(settings, reminder_kind.name)["email"] == "off"


def test_a_partial_change_keeps_everything_else(client, resident, bearer):
    headers = bearer(resident)
    first = _patch(client, headers, {"kinds": {KIND: {"push": False}}})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert _kind(first.json, KIND) | {"label": ""} == {
        "kind": KIND,
        "label": "",
        "inbox": True,
        "push": False,
        "email": "immediate",
        "email_modes": ["off", "immediate", "daily", "weekly"],
    }
    second = _patch(
        client,
        headers,
        {"timezone": "Europe/Vienna", "quiet_hours": {"start": "22:00", "end": "07:00"}},
    )
    assert second.status_code == 200
    assert second.json["timezone"] == "Europe/Vienna"
    assert second.json["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert _kind(second.json, KIND)["push"] is False  # untouched
    assert client.get(SETTINGS, headers=headers).json == second.json

    cleared = _patch(client, headers, {"timezone": None, "quiet_hours": None})
    assert cleared.json["timezone"] is None and cleared.json["quiet_hours"] is None


def test_weekly_email_waits_for_monday_eight_oclock_local_time(
    app, client, db_session, resident, bearer
):
    response = _patch(client, bearer(resident), {"kinds": {KIND: {"email": "weekly"}}})
    assert _kind(response.json, KIND)["email"] == "weekly"
    wednesday = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)

    told = _tell(app, db_session, resident, now=wednesday)

    (email,) = told["email"]
    assert email.status == "digest"
    # Monday 16 March, 08:00 in Lyon (UTC+1 in winter).
    assert email.due_at == datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
    assert told["inbox"][0].due_at == wednesday


def test_daily_email_follows_my_own_time_zone(app, client, db_session, resident, bearer):
    _patch(
        client,
        bearer(resident),
        {"timezone": "America/New_York", "kinds": {KIND: {"email": "daily"}}},
    )
    evening = datetime(2026, 7, 1, 23, 0, tzinfo=UTC)  # 19:00 in New York
    (email,) = _tell(app, db_session, resident, now=evening)["email"]
    assert email.status == "digest"
    assert email.due_at == datetime(2026, 7, 2, 12, 0, tzinfo=UTC)  # 08:00 in New York


def test_push_switched_off_makes_no_push_delivery(
    app, client, db_session, resident, bearer, device
):
    device(resident)
    assert set(_tell(app, db_session, resident)) == {"inbox", "email", "push"}
    _patch(client, bearer(resident), {"kinds": {KIND: {"push": False}}})
    assert set(_tell(app, db_session, resident)) == {"inbox", "email"}


def test_nothing_at_all_means_no_delivery(app, client, db_session, resident, bearer, device):
    device(resident)
    _patch(
        client,
        bearer(resident),
        {"kinds": {KIND: {"inbox": False, "push": False, "email": "off"}}},
    )
    assert _tell(app, db_session, resident) == {}


def test_push_waits_for_the_end_of_my_quiet_hours(
    app, client, db_session, resident, bearer, device
):
    device(resident)
    response = _patch(
        client,
        bearer(resident),
        {"timezone": "Europe/Vienna", "quiet_hours": {"start": "22:00", "end": "07:00"}},
    )
    assert response.status_code == 200
    late = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # 23:30 in Vienna

    told = _tell(app, db_session, resident, now=late)

    assert told["push"][0].due_at == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 07:00 Vienna
    assert told["inbox"][0].due_at == late and told["email"][0].due_at == late


def test_pausing_email_stops_optional_email_until_resumed(
    app, client, db_session, resident, bearer
):
    headers = bearer(resident)
    assert _patch(client, headers, {"email_paused": True}).json["email_paused"] is True
    assert "email" not in _tell(app, db_session, resident)
    assert _patch(client, headers, {"email_paused": False}).json["email_paused"] is False
    assert "email" in _tell(app, db_session, resident)


def _stored(db_session, user) -> tuple:
    """The person's settings as the database has them."""
    db_session.expire_all()
    settings = db_session.execute(
        sa.select(
            NotificationSettings.timezone,
            NotificationSettings.quiet_start,
            NotificationSettings.quiet_end,
            NotificationSettings.email_paused_at,
        ).where(NotificationSettings.user_id == user.id)
    ).all()
    preferences = db_session.execute(
        sa.select(
            NotificationPreference.kind,
            NotificationPreference.inbox,
            NotificationPreference.push,
            NotificationPreference.email,
        )
        .where(NotificationPreference.user_id == user.id)
        .order_by(NotificationPreference.kind)
    ).all()
    return settings, preferences


#: (body, the error fields it must name, English message of the service where there is one)
REFUSED = [
    ({"timezone": "Mars/Olympus_Mons"}, ["timezone"], "Not a known time zone."),
    ({"timezone": ""}, ["timezone"], "Not a known time zone."),
    (
        {"timezone": "Europe/Vienna", "kinds": {"no.such": {"push": False}}},
        ["kinds", "no.such"],
        "There is no such kind of notification to choose for.",
    ),
    # Codes one asked for come by email whatever the settings; the digest is not a kind to pick.
    (
        {"kinds": {"account.reset_password": {"email": "off"}}},
        ["kinds", "account.reset_password"],
        "There is no such kind of notification to choose for.",
    ),
    (
        {"kinds": {"digest": {"email": "off"}}},
        ["kinds", "digest"],
        "There is no such kind of notification to choose for.",
    ),
    (
        {"kinds": {KIND: {"push": False}, "test.reminder": {"email": "weekly"}}},
        ["kinds", "test.reminder", "email"],
        "This kind of notification cannot wait for a digest.",
    ),
    (
        {"quiet_hours": {"start": "22:00"}},
        ["quiet_hours"],
        "Give both a start and an end, or neither.",
    ),
    (
        {"quiet_hours": {"start": "24:00", "end": "07:00"}},
        ["quiet_hours", "start"],
        "Use a time of day such as 22:00 (hours and minutes).",
    ),
    (
        {"quiet_hours": {"start": "22:00", "end": "7am"}},
        ["quiet_hours", "end"],
        "Use a time of day such as 22:00 (hours and minutes).",
    ),
    (
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        ["quiet_hours"],
        "Quiet hours must end at another time than they start.",
    ),
    # Shapes the schema refuses: unknown fields, wrong types, values out of the list.
    ({"role": "admin"}, ["role"], None),
    ({"user_id": 1, "timezone": "Europe/Vienna"}, ["user_id"], None),
    ({"kinds": {KIND: {"sms": True}}}, ["kinds"], None),
    ({"kinds": {KIND: {"email": "hourly"}}}, ["kinds"], None),
    ({"kinds": {KIND: {"push": "sometimes"}}}, ["kinds"], None),
    ({"kinds": [KIND]}, ["kinds"], None),
    ({"quiet_hours": {"start": "22:00", "end": "07:00", "days": [1]}}, ["quiet_hours"], None),
    ({"quiet_hours": "22:00-07:00"}, ["quiet_hours"], None),
    ({"email_paused": None}, ["email_paused"], None),
    ({"email_paused": 1}, ["email_paused"], None),
    ({"kinds": {KIND: {"inbox": "yes"}}}, ["kinds"], None),
    ({"timezone": 7}, ["timezone"], None),
]


@pytest.mark.parametrize(("body", "path", "message"), REFUSED)
def test_bad_settings_are_refused_per_field_and_change_nothing(
    app, client, db_session, resident, bearer, translate, reminder_kind, body, path, message
):
    headers = bearer(resident, **{"Accept-Language": "de"})
    assert _patch(client, headers, {"kinds": {KIND: {"email": "daily"}}}).status_code == 200
    before = (_stored(db_session, resident), client.get(SETTINGS, headers=headers).json)

    response = _patch(client, headers, body)

    errors = assert_problem(response, 422, "invalid")["errors"]
    for key in path:
        errors = errors[key]
    if message:
        assert errors == [translate("de", message)]
    assert response.headers["Content-Language"] == "de"
    assert (_stored(db_session, resident), client.get(SETTINGS, headers=headers).json) == before


def test_an_empty_change_is_refused(client, resident, bearer):
    assert_problem(_patch(client, bearer(resident), {}), 422, "invalid")


def test_settings_are_ones_own(client, db_session, lyon, resident, make_user, bearer):
    neighbour = make_user(lyon)
    _patch(client, bearer(resident), {"kinds": {KIND: {"push": False}}, "email_paused": True})
    theirs = client.get(SETTINGS, headers=bearer(neighbour)).json
    assert _kind(theirs, KIND)["push"] is True and theirs["email_paused"] is False
    assert _stored(db_session, neighbour) == ([], [])


def test_settings_need_a_signed_in_person(client):
    assert_problem(client.get(SETTINGS), 401)
    assert_problem(client.patch(SETTINGS, json={"email_paused": True}), 401)
