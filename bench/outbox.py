"""Benchmark: the notification outbox for 10,000 people, against floors measured in the same run.

    .venv/bin/python bench/outbox.py [--database-url URL] [--people 10000]

Prints how long ``notify()`` takes to record a notification for every person, and how many
deliveries per second the outbox worker makes to the in-app channel and to a local push
service (Web Push, encrypted and VAPID-signed as in production, to bench/push_sink.py served
by gunicorn). Each figure comes with its floor on this machine and the ratio. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
# The script lives in bench/, so Python puts bench/ (not the repo) on the path.
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from py_vapid import Vapid  # noqa: E402

from app import cities  # noqa: E402
from app.db import utcnow, write_intent  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.models import User  # noqa: E402
from bench.campaign_list import Database, database, free_port, log  # noqa: E402
from notifications.delivery import deliver_due  # noqa: E402
from notifications.models import Delivery, DeliveryStatus, Notification, PushDevice  # noqa: E402
from notifications.service import notify  # noqa: E402

KIND = "update.published"
CONTEXT = {
    "title": {"fr": "Échafaudages dès lundi", "en": "Scaffolding from Monday"},
    "summary": {"fr": "Les travaux commencent.", "en": "Work starts."},
    "campaign_title": {"fr": "Îlot 7", "en": "Block 7"},
}
#: Raw posts timed for the push floor (a sample: the rate is what counts).
FLOOR_POSTS = 2000


@contextlib.contextmanager
def push_sink(latency_ms: int) -> str:
    """bench/push_sink.py under gunicorn on a free port; yields its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "8",
            "--log-level",
            "warning",
            "bench.push_sink:app",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PUSH_SINK_DELAY_MS": str(latency_ms)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(requests.ConnectionError):
                requests.post(f"{base}/ping", data=b"x", timeout=1)
                break
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def build_app(db_info: Database):
    vapid = Vapid()
    vapid.generate_keys()
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_info.url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **db_info.engine_options},
            "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING",
            "VAPID_PRIVATE_KEY": vapid.private_pem().decode(),
            "VAPID_SUBJECT": "mailto:bench@example.org",
            # The push service of this benchmark is on loopback.
            "OUTBOUND_ALLOW_PRIVATE": True,
        }
    )


def subscription_keys() -> dict[str, str]:
    """A browser's subscription keys: a P-256 public point and a 16-byte auth secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return {"p256dh": encode(point), "auth": encode(os.urandom(16))}


def seed(session, people: int, sink: str) -> list[int]:
    """A city and ``people`` residents with a Web Push phone each; returns their ids."""
    city = cities.create_city(
        session,
        slug="benchville",
        name="Benchville",
        timezone="Europe/Paris",
        default_locale="fr",
        enabled_locales=["fr", "en"],
    )
    session.execute(
        sa.insert(User),
        [
            {
                "email": f"p{i}@bench.invalid",
                "password_hash": "-",
                "city_id": city.id,
                "locale": "fr" if i % 3 else "en",
                "display_name": "",
                "created_at": utcnow(),
                "password_changed_at": utcnow(),
                "is_platform_admin": False,
            }
            for i in range(people)
        ],
    )
    ids = list(session.scalars(sa.select(User.id).order_by(User.id)))
    keys = subscription_keys()  # one for all: encryption costs the same per message
    session.execute(
        sa.insert(PushDevice),
        [
            {
                "user_id": uid,
                "platform": "webpush",
                "address": f"{sink}/push/{uid}",
                "address_hash": f"{uid:064d}",
                "p256dh": keys["p256dh"],
                "auth": keys["auth"],
                "label": "",
                "created_at": utcnow(),
            }
            for uid in ids
        ],
    )
    session.commit()
    return ids


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def notify_floor(session, city_id: int, ids: list[int]) -> float:
    """Seconds to insert the same rows ``notify()`` writes, prepared in advance, then undone."""
    now = utcnow()
    text = "x" * 120
    notifications = [
        {
            "user_id": uid,
            "city_id": city_id,
            "kind": KIND,
            "locale": "fr",
            "subject": text[:40],
            "body_text": text,
            "body_html": text,
            "data": {"update_id": 1},
            "created_at": now,
        }
        for uid in ids
    ]

    def insert():
        made = session.scalars(
            sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
            notifications,
        ).all()
        session.execute(
            Delivery.__table__.insert(),
            [
                {
                    "notification_id": nid,
                    "channel": channel,
                    "status": "pending",
                    "due_at": now,
                    "attempts": 0,
                    "created_at": now,
                }
                for nid in made
                for channel in ("inbox", "push")
            ],
        )
        session.flush()

    seconds, _ = timed(insert)
    session.rollback()
    return seconds


def update_floor(session, ids: list[int], batch: int = 200) -> float:
    """Seconds to mark rows sent by id, a batch and a commit at a time: the worker's least."""

    def run():
        for start in range(0, len(ids), batch):
            session.execute(
                sa.update(Delivery)
                .where(Delivery.id.in_(ids[start : start + batch]))
                .values(status=DeliveryStatus.SENT, sent_at=utcnow())
            )
            session.commit()

    seconds, _ = timed(run)
    return seconds


def post_floor(sink: str, body_size: int, latency_ms: int) -> float:
    """Posts per second, one after the other, of a bare keep-alive requests session to the
    same push service (fewer posts when it answers late: the rate is what counts)."""
    body = os.urandom(body_size)
    count = FLOOR_POSTS if not latency_ms else max(50, 5000 // latency_ms)
    with requests.Session() as http:
        seconds, _ = timed(
            lambda: [http.post(f"{sink}/push/floor", data=body, timeout=10) for _ in range(count)]
        )
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temp SQLite file)")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="how late the push service answers (default 0)"
    )
    args = parser.parse_args()
    write_intent.set(True)  # as in the scheduler's jobs
    with (
        tempfile.TemporaryDirectory() as workdir,
        database(args.database_url, Path(workdir)) as db_info,
        push_sink(args.latency_ms) as sink,
    ):
        app = build_app(db_info)
        with app.app_context():
            flask_migrate.upgrade()
            session = db.session
            log(f"seeding {args.people} people on {db_info.kind}")
            ids = seed(session, args.people, sink)

            # 1. Recording: notify() for everyone, against inserting the same rows ready-made.
            city_id = session.scalar(sa.select(User.city_id).limit(1))
            # Floors: the best of three, so a hiccup of the machine does not flatter the ratio.
            floor_record = min(notify_floor(session, city_id, ids) for _ in range(3))
            seconds_record, told = timed(notify, session, ids, KIND, CONTEXT, data={"update_id": 1})
            session.commit()
            assert told == args.people, told

            # 2. In-app: the push deliveries wait (due later) while the inbox ones go out.
            session.execute(
                sa.update(Delivery)
                .where(Delivery.channel == "push")
                .values(due_at=utcnow().replace(year=2100))
            )
            session.commit()
            seconds_inbox, inboxed = timed(deliver_due, session)
            assert inboxed == args.people, inboxed
            inbox_ids = list(
                session.scalars(sa.select(Delivery.id).where(Delivery.channel == "inbox"))
            )
            floor_inbox = min(update_floor(session, inbox_ids) for _ in range(3))

            # 3. Push: every phone, through the real channel, to the local push service.
            session.execute(
                sa.update(Delivery).where(Delivery.channel == "push").values(due_at=utcnow())
            )
            session.commit()
            seconds_push, pushed = timed(deliver_due, session)
            assert pushed == args.people, pushed
            floor_push_rate = post_floor(sink, 300, args.latency_ms)
            db.engine.dispose()

    rows = [
        (
            "notify() records",
            f"{args.people:,} notifications",
            seconds_record,
            f"{floor_record:.2f} s to insert the rows ready-made",
            floor_record / seconds_record,
        ),
        (
            "in-app channel",
            f"{args.people / seconds_inbox:,.0f} deliveries/s",
            seconds_inbox,
            f"{args.people / floor_inbox:,.0f} rows/s marked sent by id",
            floor_inbox / seconds_inbox,
        ),
        (
            "push (Web Push)",
            f"{args.people / seconds_push:,.0f} deliveries/s",
            seconds_push,
            f"{floor_push_rate:,.0f} bare posts/s",
            args.people / seconds_push / floor_push_rate,
        ),
    ]
    latency = f", push service answering after {args.latency_ms} ms" if args.latency_ms else ""
    print(f"\noutbox, {args.people:,} people, {db_info.kind} {db_info.version}{latency}")
    print(f"  {'step':<18} {'figure':<26} {'time':>8}   {'floor':<40} {'ratio':>6}")
    for name, figure, seconds, floor, ratio in rows:
        print(f"  {name:<18} {figure:<26} {seconds:>7.2f}s   {floor:<40} {ratio:>6.2f}")


if __name__ == "__main__":
    main()
