"""From the console to residents' phones and mailboxes, through the scheduler, in two languages.

A staff member schedules an update in French and German for ten minutes later; when the time
comes the scheduler's own jobs publish it and deliver it. A French-speaking follower finds it
in the app's inbox, in a real SMTP server and at a push service (pytest-httpserver, the body
decrypted with the phone's keys), in French; a German-speaking follower gets it in German.
"""

from datetime import timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import time_machine

from app import scheduler
from app.db import utcnow
from app.models import Role
from campaigns import service as campaigns
from tests.console.helpers import post_form, sign_in
from tests.notifications.pushes import Subscriber
from updates.models import Update

TITLES = {"fr": "Échafaudages dès lundi", "de": "Gerüst ab Montag"}
BODIES = {"fr": "Les travaux commencent.", "de": "Die Arbeiten beginnen."}


def test_a_scheduled_update_reaches_each_follower_in_their_language(
    app, db_session, make_city, make_user, operator, bearer, smtp_server, services, monkeypatch
):
    city = make_city("strasbourg", "Strasbourg", "Europe/Paris", "fr", ("fr", "de", "en"))
    admin = operator(city)
    now = utcnow()
    campaign = campaigns.create_campaign(
        db_session,
        admin,
        city,
        slug="block-7",
        title={"fr": "Îlot 7", "de": "Block 7"},
        phases=[
            {
                "title": {"fr": "Chantier", "de": "Baustelle", "en": "Works"},
                "starts_at": now - timedelta(days=1),
                "ends_at": now + timedelta(days=60),
            }
        ],
    )
    campaigns.publish_campaign(db_session, admin, campaign)
    staff = make_user(city, role=Role.STAFF)
    marie = make_user(city, locale="fr")
    hans = make_user(city, locale="de")
    bystander = make_user(city, locale="fr")  # follows nothing: a campaign update is not for her
    db_session.commit()

    # Each follower follows the campaign and registers a phone, through the API.
    client = app.test_client()
    phones = {}
    for person in (marie, hans):
        headers = bearer(person)
        assert client.put("/api/v1/campaigns/block-7/follow", headers=headers).status_code == 200
        phones[person.id] = Subscriber()
        endpoint = services.server.url_for(f"/push/{person.id}")
        registered = client.post(
            "/api/v1/push-devices",
            json={"platform": "webpush", "endpoint": endpoint, "keys": phones[person.id].keys},
            headers=headers,
        )
        assert registered.status_code == 201, registered.get_json()
        services.server.expect_request(f"/push/{person.id}", method="POST").respond_with_data(
            "", status=201
        )

    # Staff compose the update in the console and schedule it ten minutes ahead, city time.
    console = app.test_client()
    sign_in(console, staff)
    created = post_form(
        console,
        "/console/strasbourg/updates/new",
        {
            "audience": str(campaign.id),
            **{f"title-{lang}": title for lang, title in TITLES.items()},
            **{f"body-{lang}": body for lang, body in BODIES.items()},
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    page = urlparse(created.location).path
    at = (utcnow() + timedelta(minutes=10)).astimezone(ZoneInfo("Europe/Paris"))
    scheduled = post_form(
        console, f"{page}/schedule", {"publish_at": at.strftime("%Y-%m-%dT%H:%M")}, page=page
    )
    assert scheduled.status_code == 303
    update = db_session.scalar(sa.select(Update))
    assert update.status == "scheduled"

    # The scheduler's jobs, as its process runs them.
    monkeypatch.setattr(scheduler, "_app", app)

    def scheduler_runs():
        scheduler.run_job("updates.publish")
        scheduler.run_job("notifications.deliver")

    scheduler_runs()
    db_session.expire_all()
    assert db_session.get(Update, update.id).status == "scheduled"  # not yet
    assert smtp_server.messages == [] and services.server.log == []

    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        scheduler_runs()
    db_session.expire_all()
    assert db_session.get(Update, update.id).status == "published"

    for person, lang in ((marie, "fr"), (hans, "de")):
        # In the app's inbox...
        inbox = client.get("/api/v1/notifications", headers=bearer(person)).get_json()
        (item,) = inbox["items"]
        assert TITLES[lang] in item["subject"]
        assert item["data"]["update_id"] == update.id
        # ...by email...
        (mail,) = smtp_server.to(person.email)
        assert TITLES[lang] in mail["Subject"]
        assert mail["Content-Language"] == lang
        assert mail["List-Unsubscribe"].startswith("<https://lab.example.org/unsubscribe/")
        text = mail.get_body(("plain",)).get_content()
        assert BODIES[lang] in text
        # ...and on the phone.
        (request,) = [r for r, _ in services.server.log if r.path == f"/push/{person.id}"]
        message = phones[person.id].read(request.get_data())
        assert TITLES[lang] in message["title"]
        assert message["data"]["update_id"] == update.id

    other = {"fr": "de", "de": "fr"}
    for person, lang in ((marie, "fr"), (hans, "de")):
        (mail,) = smtp_server.to(person.email)
        assert TITLES[other[lang]] not in mail["Subject"]
    assert smtp_server.to(bystander.email) == []
    assert len(services.server.log) == 2
