"""Benchmark: a week's energy feedback for 10,000 households on PostgreSQL, against reading the
same readings once in one statement, in the same run.

    .venv/bin/python bench/energy_feedback.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
        [--households 10000] [--rounds 3] [--check]

Builds a throwaway schema: Benchville (Europe/Paris) with its energy feedback text, an energy
campaign, and N residents who agreed to it, each with a household (people, floor area,
district, heating; joined the campaign ten weeks before) and one meter: four in five
electricity, one in five district heat; the city's daily temperatures. Readings, written by
the server (generate_series): the week being told of and the week before in quarter hours,
the same week a year earlier in hours, and the 28 days before joining (the baseline) in days.
Times, per round: the floor (the three weeks' readings summed per meter, one statement each)
and ``energy.feedback.jobs.give_feedback`` at 07:00 on the Monday after the week (every
report computed, stored and every resident told), with the process's peak memory; the
reports and notifications are deleted between rounds. Target: the job under 60 s.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app import consent  # noqa: E402
from app.consent_models import Consent, Purpose  # noqa: E402
from app.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from bench.campaign_list import RESULTS_DIR, benchville, database, log, make_app  # noqa: E402
from campaigns import service as campaigns  # noqa: E402
from energy.feedback.jobs import give_feedback  # noqa: E402
from energy.models import FeedbackReport, Household, Meter, TemperatureDay  # noqa: E402

ZONE = ZoneInfo("Europe/Paris")
#: The week told of (ISO week 47 of 2026), and when the scheduler runs after it.
WEEK = date(2026, 11, 16)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=ZONE).astimezone(UTC)
LAST_YEAR = date(2025, 11, 17)  # ISO week 47 of 2025
JOINED = WEEK - timedelta(weeks=10)
TARGET_SECONDS = 60.0
DISTRICTS = [f"Quartier {n}" for n in range(1, 11)]
CONSENT_TEXT = {"fr": "Retour sur ma consommation d'énergie.", "en": "Energy feedback."}


def local(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)


def seed(households: int) -> None:
    """The city, its campaign and text, the residents, households, meters and temperatures
    through Core inserts; the readings by the server."""
    flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    session = db.session
    now = utcnow()
    city, admin = benchville(session, now)
    city.districts = DISTRICTS
    text = consent.publish_text(session, admin, city, Purpose.ENERGY_FEEDBACK, CONSENT_TEXT)
    campaign = campaigns.create_campaign(
        session,
        admin,
        city,
        slug="energie",
        title={"fr": "Économisons l'énergie", "en": "Saving energy"},
        summary={"fr": "Chaque foyer compte.", "en": "Every household counts."},
        phases=[
            {
                "title": {"fr": "Défi", "en": "Challenge"},
                "starts_at": now - timedelta(days=120),
                "ends_at": now + timedelta(days=120),
            }
        ],
    )
    campaigns.publish_campaign(session, admin, campaign, now=now - timedelta(days=100))
    session.flush()
    users = [
        {
            "email": f"foyer{n}@bench.invalid",
            "password_hash": "-",
            "city_id": city.id,
            "locale": ("fr", "en")[n % 2],
            "email_verified_at": now,
            "created_at": now,
            "password_changed_at": now,
        }
        for n in range(households)
    ]
    session.execute(sa.insert(User), users)
    ids = session.scalars(
        sa.select(User.id).where(User.email.like("foyer%")).order_by(User.id)
    ).all()
    session.execute(
        sa.insert(Consent),
        [
            {
                "user_id": user_id,
                "purpose": Purpose.ENERGY_FEEDBACK.value,
                "text_id": text.id,
                "version": text.version,
                "given_at": now - timedelta(days=200),
                "method": "app",
            }
            for user_id in ids
        ],
    )
    session.execute(
        sa.insert(Household),
        [
            {
                "user_id": user_id,
                "city_id": city.id,
                "people": 1 + n % 5,
                "floor_area_m2": float(35 + (n * 37) % 110),
                "dwelling_type": "apartment",
                "heating_type": "district_heat" if n % 5 == 0 else "gas",
                "district": DISTRICTS[n % len(DISTRICTS)],
                "campaign_id": campaign.id,
                "joined_on": JOINED,
                "goal_percent": 10.0 if n % 3 == 0 else None,
                "updated_at": now,
            }
            for n, user_id in enumerate(ids)
        ],
    )
    session.execute(
        sa.insert(Meter),
        [
            {
                "user_id": user_id,
                "city_id": city.id,
                "commodity": "district_heat" if n % 5 == 0 else "electricity",
                "unit": "Wh",
                "timezone": "Europe/Paris",
                "label": "",
                "created_at": now,
                "updated_at": now,
            }
            for n, user_id in enumerate(ids)
        ],
    )
    first = JOINED - timedelta(days=60)
    session.execute(
        sa.insert(TemperatureDay),
        [
            {
                "city_id": city.id,
                "day": first + timedelta(days=d),
                "mean_c": 9.0 + 6.0 * ((d * 7) % 11) / 11 - (d // 30),
                "imported_at": now,
            }
            for d in range((WEEK + timedelta(days=7) - first).days)
        ]
        + [
            {
                "city_id": city.id,
                "day": LAST_YEAR + timedelta(days=d),
                "mean_c": 7.0 + d % 4,
                "imported_at": now,
            }
            for d in range(7)
        ],
    )
    session.commit()
    readings(session)


# A flat's pattern in Wh per quarter hour: a base load of 40-290 W by meter, a morning and an
# evening peak, noise; heat meters use more in the cold hours.
VALUE = """
    (m.id %% 251 + 40) / 4.0
    + CASE WHEN extract(hour FROM t AT TIME ZONE 'Europe/Paris') BETWEEN 17 AND 20 THEN 250
           WHEN extract(hour FROM t AT TIME ZONE 'Europe/Paris') BETWEEN 6 AND 8 THEN 120
           ELSE 0 END
    + (hashtext(m.id::text || t::text) & 63)
    + CASE WHEN m.commodity = 'district_heat' THEN 400 ELSE 0 END
"""


def readings(session) -> None:
    """Every meter's readings, generated by the server; foreign keys are not re-checked for
    the rows the meters' own ids make (session_replication_role), which takes most of a
    COPY's time and proves nothing here."""
    spans = [
        (local(WEEK - timedelta(weeks=1)), local(WEEK + timedelta(weeks=1)), "15 minutes"),
        (local(LAST_YEAR), local(LAST_YEAR + timedelta(weeks=1)), "1 hour"),
        (local(JOINED - timedelta(days=28)), local(JOINED), "1 day"),
    ]
    connection = session.connection()
    connection.exec_driver_sql("SET session_replication_role = replica")
    for start, end, step in spans:
        began = time.perf_counter()
        # The SQL text is this script's own constants; the times are bound.
        count = connection.exec_driver_sql(
            "INSERT INTO meter_readings (meter_id, start_at, end_at, value) "  # noqa: S608
            f"SELECT m.id, t, t + interval '{step}', ({VALUE}) * "
            f"(extract(epoch FROM interval '{step}') / 900) "
            "FROM meters m, generate_series(%(start)s::timestamptz, %(end)s::timestamptz "
            f"- interval '{step}', interval '{step}') t",
            {"start": start, "end": end},
        ).rowcount
        log(f"  {count:,} readings of {step} in {time.perf_counter() - began:.1f} s")
    connection.exec_driver_sql("SET session_replication_role = DEFAULT")
    session.commit()
    connection = session.connection()
    connection.exec_driver_sql("ANALYZE")
    session.commit()


FLOOR = """
SELECT meter_id, sum(value), count(*) FROM meter_readings
WHERE start_at >= %(start)s AND start_at < %(end)s GROUP BY meter_id
"""


def floor() -> int:
    """The three weeks' readings the feedback compares, summed per meter by the server."""
    rows = 0
    raw = db.engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:
            for day in (WEEK, WEEK - timedelta(weeks=1), LAST_YEAR):
                cursor.execute(FLOOR, {"start": local(day), "end": local(day + timedelta(7))})
                rows += len(cursor.fetchall())
        raw.driver_connection.rollback()
    finally:
        raw.close()
    return rows


def clear_outputs() -> None:
    """What a run of the job makes: its reports and its notifications (deliveries go with them)."""
    session = db.session
    session.execute(sa.delete(FeedbackReport))
    session.execute(sa.text("DELETE FROM notifications WHERE kind = 'energy.feedback'"))
    session.commit()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def peak_rss_reset() -> None:
    """Linux: the process's resident peak (VmHWM) starts again from the current size."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def check(households: int, counts: dict) -> None:
    """Every household got its report and its notification; the figures are there."""
    session = db.session
    reports = session.scalar(sa.select(sa.func.count()).select_from(FeedbackReport))
    told = session.scalar(
        sa.text("SELECT count(*) FROM notifications WHERE kind = 'energy.feedback'")
    )
    problems = []
    if reports != households or counts.get("reports") != households:
        problems.append(f"{reports} reports stored, {counts} counted, {households} expected")
    if told != households:
        problems.append(f"{told} residents told, {households} expected")
    sample = session.scalars(sa.select(FeedbackReport).order_by(FeedbackReport.id).limit(50)).all()
    for report in sample:
        figures = report.figures
        if figures["baseload"]["value"] is None or figures["comparison"]["value"] is None:
            problems.append(f"report {report.id}: baseload or comparison missing")
            break
        if figures["change_last_year_pct"]["value"] is None:
            problems.append(f"report {report.id}: no comparison with last year")
            break
    if not any(report.tips for report in sample):
        problems.append("no tips in 50 reports")
    session.rollback()
    if problems:
        raise SystemExit("check failed: " + "; ".join(problems))


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        database(args.database_url, Path(workdir)) as info,
    ):
        if info.kind != "postgresql":
            raise SystemExit("this benchmark runs on PostgreSQL: give --database-url")
        app = make_app(info)
        with app.app_context():
            began = time.perf_counter()
            log(f"seeding {args.households:,} households")
            seed(args.households)
            readings_count = db.session.scalar(sa.text("SELECT count(*) FROM meter_readings"))
            db.session.rollback()
            log(f"seeded {readings_count:,} readings in {time.perf_counter() - began:.0f} s")
            samples: dict[str, list[float]] = {"floor": [], "job": [], "cpu": [], "rss": []}
            for number in range(args.rounds):
                clear_outputs()
                gc.collect()
                began = time.perf_counter()
                floor()
                samples["floor"].append(time.perf_counter() - began)
                db.session.remove()
                rss_before = rss_mib()
                peak_rss_reset()
                cpu = time.process_time()
                began = time.perf_counter()
                counts = give_feedback(db.session, now=NOW)
                samples["job"].append(time.perf_counter() - began)
                samples["cpu"].append(time.process_time() - cpu)
                samples["rss"].append(peak_rss_mib() - rss_before)
                db.session.remove()
                check(args.households, counts)
                log(
                    f"round {number + 1}: job {samples['job'][-1]:.1f} s "
                    f"(CPU {samples['cpu'][-1]:.1f} s), floor {samples['floor'][-1]:.2f} s, "
                    f"peak +{samples['rss'][-1]:.0f} MiB"
                )
            clear_outputs()
            db.session.remove()
            tracemalloc.start()
            give_feedback(db.session, now=NOW)
            traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            db.session.remove()
            return {
                "database": f"PostgreSQL {info.version}",
                "households": args.households,
                "readings": readings_count,
                "samples": samples,
                "job": statistics.median(samples["job"]),
                "cpu": statistics.median(samples["cpu"]),
                "floor": statistics.median(samples["floor"]),
                "peak_rss_mib": max(samples["rss"]),
                "traced_peak_mib": traced_peak,
            }


def report(result: dict[str, Any]) -> None:
    job, floor_s = result["job"], result["floor"]
    print()
    print(
        f"{result['households']:,} households, {result['readings']:,} readings, "
        f"{result['database']}, {len(result['samples']['job'])} rounds, medians"
    )
    print(f"  floor: the three weeks summed per meter   {floor_s:8.2f} s")
    print(
        f"  give_feedback (reports + notifications) {job:8.2f} s   x floor {job / floor_s:6.1f}"
        f"   CPU here {result['cpu']:.1f} s"
    )
    print(
        f"  peak memory: resident +{result['peak_rss_mib']:.0f} MiB over the run's start, "
        f"Python allocations {result['traced_peak_mib']:.0f} MiB (tracemalloc, separate run)"
    )
    verdict = "OK" if job < TARGET_SECONDS else "ABOVE TARGET"
    print(f"  target: under {TARGET_SECONDS:.0f} s -> {verdict}")


def save(result: dict[str, Any]) -> Path:
    import json

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"energy_feedback-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-postgresql.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://…")
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 above the target")
    args = parser.parse_args(argv)
    result = run(args)
    report(result)
    print(f"results written to {save(result)}")
    return 1 if args.check and result["job"] >= TARGET_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
