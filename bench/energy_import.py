"""Benchmark: one household-year of quarter hours imported (CSV and Green Button) against a
raw bulk insert of the same rows, in the same run.

    .venv/bin/python bench/energy_import.py [--database-url URL] [--rounds 7] [--check]

Builds its own database (temp SQLite file, or a throwaway schema on PostgreSQL) with the
helpers of bench/campaign_list.py: a resident who agreed to energy feedback, meters made
through the services. Generates 35,040 quarter hours of a flat in Europe/Vienna (both clock
changes inside) as a German meter-portal CSV and as a Green Button feed, then times, in
alternating rounds: the floor (the rows inserted raw: COPY on PostgreSQL, sqlite3 executemany
on SQLite), ``energy.imports.import_file`` of each file and of the CSV again (nothing
changes), each into a fresh meter and committed; and the parsers and ``store_intervals``
alone. Target: each import within 2x the floor. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import itertools
import json
import math
import os
import platform
import pstats
import random
import resource
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# The script lives in bench/, so Python puts bench/ (not the repo) on the path.
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import aliased  # noqa: E402

from app import consent  # noqa: E402
from app.consent_models import Purpose  # noqa: E402
from app.db import utcnow, write_intent  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.passwords import hash_password  # noqa: E402
from bench.campaign_list import RESULTS_DIR, benchville, database, log, make_app  # noqa: E402
from energy import imports, meters  # noqa: E402
from energy.csv_reader import Mapping, read_csv  # noqa: E402
from energy.greenbutton import parse_green_button  # noqa: E402
from energy.models import Meter, MeterImport, Reading  # noqa: E402
from energy.store import store_intervals  # noqa: E402

ZONE_NAME = "Europe/Vienna"
ZONE = ZoneInfo(ZONE_NAME)
#: Not a leap year: 365 local days, 35,040 quarter hours once both clock changes cancel out.
YEAR = 2025
QUARTER = timedelta(minutes=15)
READINGS = 35_040
#: An import may cost at most this many times the floor.
TARGET = 2.0
#: The portal's export as a city's saved format maps it (what the API hands import_file).
MAPPING = {
    "timestamp": "Datum",
    "time": "Zeit bis",
    "value": "Verbrauch [kWh]",
    "stamp_marks": "end",
    "value_kind": "energy",
    "value_unit": "kWh",
    "timestamp_format": "%d.%m.%Y %H:%M",
    "decimal": ",",
    "interval_minutes": 15,
}
CONSENT_TEXT = {
    "fr": "Vos relevés de compteur servent uniquement à vous donner des conseils d'économie.",
    "en": "Your meter readings are used only to give you energy-saving feedback.",
}
#: The timed imports, in each round's order; the first is the floor.
PATHS = {
    "floor": "floor: raw insert + commit",
    "csv": "import_file, portal CSV",
    "greenbutton": "import_file, Green Button",
    "reimport": "import_file, same CSV again",
}
#: Their parts, timed alone in the same rounds.
PARTS = {
    "parse_csv": "read_csv",
    "parse_greenbutton": "parse_green_button",
    "store_new": "store_intervals, all new",
    "store_unchanged": "store_intervals, all unchanged",
}
ESPI = "https://netz.example/DataCustodian/espi/1_1/resource"

#: (start, end, Wh) of each quarter hour, UTC.
Year = list[tuple[datetime, datetime, int]]


# --- one household-year ---------------------------------------------------------------------


def household_year(seed: int = 7) -> Year:
    """A two-person flat, ~3,000 kWh a year: base load, a morning and an evening peak (later
    and longer at weekends, with lunch), more light in winter, noise, and appliance runs."""
    rng = random.Random(seed)
    start = datetime(YEAR, 1, 1, tzinfo=ZONE).astimezone(UTC)
    last = datetime(YEAR + 1, 1, 1, tzinfo=ZONE).astimezone(UTC)
    year: Year = []
    running, appliance = 0, 0.0  # quarter hours left of a washing machine or oven, its watts
    while start < last:
        local = start.astimezone(ZONE)
        hour = local.hour + local.minute / 60
        weekend = local.weekday() >= 5
        winter = 1 + 0.35 * math.cos(2 * math.pi * (local.timetuple().tm_yday - 20) / 365)
        watts = 150 + (40 if weekend and 8 < hour < 23 else 0)
        morning, width = (9.0, 1.5) if weekend else (6.75, 0.5)
        watts += 900 * math.exp(-((hour - morning) ** 2) / width)
        if weekend:
            watts += 600 * math.exp(-((hour - 12.5) ** 2) / 0.8)
        watts += 700 * winter * math.exp(-((hour - 19.5) ** 2) / 3.0)
        if not running and 7 < hour < 22 and rng.random() < 0.006:
            running, appliance = rng.randint(4, 8), rng.uniform(800, 2000)
        if running:
            watts += appliance
            running -= 1
        wh = watts / 4 * rng.lognormvariate(0, 0.2)
        year.append((start, start + QUARTER, max(1, round(wh))))
        start += QUARTER
    assert len(year) == READINGS, len(year)
    return year


def portal_csv(year: Year) -> bytes:
    """The year as a German meter portal exports it: a preamble, ``;``, kWh with a decimal
    comma, each row's local date, start and end time (24:00 ends a day; on the last Sunday of
    October the end times 02:00-02:45 come twice), UTF-8 with a byte order mark, CRLF."""
    lines = [
        "Zählpunkt;AT0010000000000000001000004711042",
        f"Zeitraum;01.01.{YEAR} - 31.12.{YEAR}",
        "",
        "Datum;Zeit von;Zeit bis;Verbrauch [kWh]",
    ]
    for start, end, wh in year:
        begin, until = start.astimezone(ZONE), end.astimezone(ZONE)
        to = "24:00" if until.date() != begin.date() else f"{until:%H:%M}"
        lines.append(f"{begin:%d.%m.%Y;%H:%M};{to};{wh // 1000},{wh % 1000:03d}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _entry(self_href: str, up: str, related: list[str], title: str, content: str) -> str:
    links = [f'  <link rel="self" href="{self_href}"/>', f'  <link rel="up" href="{up}"/>']
    links += [f'  <link rel="related" href="{href}"/>' for href in related]
    return "\n".join(
        [
            "<entry>",
            f"  <id>urn:uuid:{hashlib.md5(self_href.encode()).hexdigest()}</id>",  # noqa: S324
            *links,
            f"  <title>{title}</title>",
            "  <published>2026-01-02T06:00:00Z</published>",
            "  <updated>2026-01-02T06:00:00Z</updated>",
            f"  <content>{content}</content>",
            "</entry>",
        ]
    )


def green_button(year: Year) -> bytes:
    """The year as a Green Button (ESPI) subscription feed: the usage point, its local time
    parameters, a reading type (Wh, 900 s), one meter reading, and an interval block per local
    day (23 and 25 hours long on the days the clocks change), as utilities publish them."""
    point = f"{ESPI}/Subscription/1/UsagePoint/1"
    reading = f"{point}/MeterReading/1"
    entries = [
        _entry(
            point,
            f"{ESPI}/Subscription/1/UsagePoint",
            [f"{point}/MeterReading", f"{ESPI}/LocalTimeParameters/1"],
            "Wohnung Top 12",
            "<espi:UsagePoint><espi:ServiceCategory><espi:kind>0</espi:kind>"
            "</espi:ServiceCategory><espi:status>1</espi:status></espi:UsagePoint>",
        ),
        _entry(
            f"{ESPI}/LocalTimeParameters/1",
            f"{ESPI}/LocalTimeParameters",
            [],
            "CET/CEST",
            "<espi:LocalTimeParameters><espi:dstEndRule>B40E2000</espi:dstEndRule>"
            "<espi:dstOffset>3600</espi:dstOffset><espi:dstStartRule>360E2000</espi:dstStartRule>"
            "<espi:tzOffset>3600</espi:tzOffset></espi:LocalTimeParameters>",
        ),
        _entry(
            reading,
            f"{point}/MeterReading",
            [f"{reading}/IntervalBlock", f"{ESPI}/ReadingType/1"],
            "Verbrauch 15 min",
            "<espi:MeterReading/>",
        ),
        _entry(
            f"{ESPI}/ReadingType/1",
            f"{ESPI}/ReadingType",
            [],
            "Wirkenergie Bezug",
            "<espi:ReadingType><espi:accumulationBehaviour>4</espi:accumulationBehaviour>"
            "<espi:commodity>1</espi:commodity><espi:currency>978</espi:currency>"
            "<espi:dataQualifier>12</espi:dataQualifier><espi:flowDirection>1</espi:flowDirection>"
            "<espi:intervalLength>900</espi:intervalLength><espi:kind>12</espi:kind>"
            "<espi:phase>769</espi:phase><espi:powerOfTenMultiplier>0</espi:powerOfTenMultiplier>"
            "<espi:timeAttribute>0</espi:timeAttribute><espi:uom>72</espi:uom></espi:ReadingType>",
        ),
    ]
    days = itertools.groupby(year, key=lambda row: row[0].astimezone(ZONE).date())
    for number, (_day, rows) in enumerate(days, 1):
        rows = list(rows)
        first, last = int(rows[0][0].timestamp()), int(rows[-1][1].timestamp())
        readings = "".join(
            "\n    <espi:IntervalReading><espi:ReadingQuality><espi:quality>0</espi:quality>"
            "</espi:ReadingQuality><espi:timePeriod><espi:duration>900</espi:duration>"
            f"<espi:start>{int(start.timestamp())}</espi:start></espi:timePeriod>"
            f"<espi:value>{wh}</espi:value></espi:IntervalReading>"
            for start, _end, wh in rows
        )
        entries.append(
            _entry(
                f"{reading}/IntervalBlock/{number}", f"{reading}/IntervalBlock", [], "",
                f"<espi:IntervalBlock><espi:interval><espi:duration>{last - first}"
                f"</espi:duration><espi:start>{first}</espi:start></espi:interval>"
                f"{readings}\n  </espi:IntervalBlock>",
            )
        )  # fmt: skip
    feed = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:espi="http://naesb.org/espi">',
            "<id>urn:uuid:5b0c9b6e-6f0e-4d7a-9a53-2c1f4a1e7d10</id>",
            "<title>Green Button Subscription Feed</title>",
            "<updated>2026-01-02T06:00:00Z</updated>",
            *entries,
            "</feed>",
        ]
    )
    return feed.encode()


# --- the world and the timed operations -----------------------------------------------------


def seed() -> User:
    """Migrate; a city, a resident who agreed to its energy feedback text (services)."""
    flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    session = db.session
    now = utcnow()
    city, admin = benchville(session, now)
    resident = User(
        email="resident@bench.invalid",
        password_hash=hash_password(secrets.token_urlsafe(16)),
        city_id=city.id,
        email_verified_at=now,
    )
    session.add(resident)
    session.flush()
    text = consent.publish_text(session, admin, city, Purpose.ENERGY_FEEDBACK, CONSENT_TEXT)
    consent.give_consent(session, resident, Purpose.ENERGY_FEEDBACK, text.version)
    session.commit()
    return resident


def fresh_meter(user: User, label: str) -> Meter:
    meter = meters.create_meter(
        db.session, user, commodity="electricity", timezone=ZONE_NAME, label=label
    )
    db.session.commit()
    return meter


def sqlite_text(moment: datetime) -> str:
    """What SQLAlchemy stores for a UTC datetime on SQLite, the fastest way."""
    return moment.isoformat(" ", "microseconds")[:26]


_IMPORT_COLUMNS = "meter_id, user_id, city_id, kind, filename, content_sha256, summary, created_at"
FLOOR_IMPORT_PG = (
    "INSERT INTO meter_imports (" + _IMPORT_COLUMNS + ") "
    "VALUES (%s, %s, %s, 'csv', 'floor', %s, '{}', %s) RETURNING id"
)
FLOOR_IMPORT_SQLITE = (
    "INSERT INTO meter_imports (" + _IMPORT_COLUMNS + ") "
    "VALUES (?, ?, ?, 'csv', 'floor', ?, '{}', ?)"
)
FLOOR_COPY = (
    "COPY meter_readings (meter_id, start_at, end_at, value, import_id) FROM STDIN (FORMAT BINARY)"
)
FLOOR_INSERT_SQLITE = (
    "INSERT INTO meter_readings (meter_id, start_at, end_at, value, import_id) "
    "VALUES (?, ?, ?, ?, ?)"
)


def floor_insert(kind: str, meter_id: int, user_id: int, city_id: int, rows: list) -> None:
    """An import row and the 35,040 readings inserted raw, committed: the least an import
    has to do (the readings' foreign keys are checked as for a real import)."""
    now = utcnow()
    raw = db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        if kind == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(FLOOR_IMPORT_PG, (meter_id, user_id, city_id, "0" * 64, now))
                import_id = cursor.fetchone()[0]
                with cursor.copy(FLOOR_COPY) as copy:
                    copy.set_types(("int4", "timestamptz", "timestamptz", "float8", "int4"))
                    for start, end, value in rows:
                        copy.write_row((meter_id, start, end, value, import_id))
            connection.commit()
            return
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(
            FLOOR_IMPORT_SQLITE, (meter_id, user_id, city_id, "0" * 64, sqlite_text(now))
        )
        import_id = cursor.lastrowid
        cursor.executemany(
            FLOOR_INSERT_SQLITE,
            [(meter_id, sqlite_text(s), sqlite_text(e), v, import_id) for s, e, v in rows],
        )
        cursor.execute("COMMIT")
        cursor.close()
    finally:
        raw.close()


def import_committed(user: User, meter: Meter, data: bytes, name: str) -> MeterImport:
    row = imports.import_file(db.session, user, meter, data, name, mapping=MAPPING)
    db.session.commit()
    return row


def store_committed(user: User, meter: Meter, intervals: list) -> None:
    """store_intervals alone, with the import row it needs and the commit, as _record does."""
    session = db.session
    row = MeterImport(
        meter_id=meter.id,
        user_id=user.id,
        city_id=meter.city_id,
        kind="csv",
        filename="store.csv",
        content_sha256="1" * 64,
        summary={},
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    store_intervals(session, meter, intervals, row)
    session.commit()


# --- checks ---------------------------------------------------------------------------------


def verify(meter_id: int, year: Year, what: str, import_id: int | None = None) -> None:
    """The meter holds the year: 35,040 readings, the expected total and period (and, when
    given, every reading still from ``import_id``)."""
    session = db.session
    count, total, first, last = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(Reading.value),
            sa.func.min(Reading.start_at),
            sa.func.max(Reading.end_at),
        ).where(Reading.meter_id == meter_id)
    ).one()
    expected = sum(wh for _s, _e, wh in year)
    problems = []
    if count != READINGS:
        problems.append(f"{count} readings, expected {READINGS}")
    if total is None or abs(total - expected) > 1e-6 * expected:
        problems.append(f"total {total} Wh, expected {expected}")
    if (first, last) != (year[0][0], year[-1][1]):
        problems.append(f"period {first} - {last}, expected {year[0][0]} - {year[-1][1]}")
    if import_id is not None:
        kept = session.scalar(
            sa.select(sa.func.count()).where(
                Reading.meter_id == meter_id, Reading.import_id == import_id
            )
        )
        if kept != READINGS:
            problems.append(f"{READINGS - kept} readings rewritten")
    session.commit()
    if problems:
        raise SystemExit(f"ABORT: {what}: " + "; ".join(problems))


def check_summary(row: MeterImport, what: str, **expected: Any) -> None:
    summary = row.summary
    wrong = {key: summary.get(key) for key, value in expected.items() if summary.get(key) != value}
    if wrong:
        raise SystemExit(f"ABORT: {what}: summary has {wrong}, expected {expected}:\n{summary}")


def check_same(csv_meter: int, gb_meter: int) -> None:
    """Both files gave the very same readings."""
    a, b = aliased(Reading), aliased(Reading)
    matched = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(a)
        .join(
            b,
            sa.and_(
                b.meter_id == gb_meter,
                b.start_at == a.start_at,
                b.end_at == a.end_at,
                b.value == a.value,
            ),
        )
        .where(a.meter_id == csv_meter)
    )
    db.session.commit()
    if matched != READINGS:
        raise SystemExit(f"ABORT: CSV and Green Button agree on {matched} readings only")


# --- rounds ---------------------------------------------------------------------------------


#: A signal that arrived while the collector ran Probe's callback, where an exception would
#: be printed and dropped: raised once the operation ends.
DEFERRED: list[int] = []


def stop_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    sys.exit(128 + signum)


def on_signal(signum: int, frame: Any) -> None:
    """Ctrl-C, SIGTERM and SIGHUP unwind, so the schema and the temp files go."""
    if frame is not None and frame.f_code is Probe._gc_clock.__code__:
        DEFERRED.append(signum)
        return
    stop_for(signum)


class Probe:
    """Runs one operation timed (with the garbage collector's share), traced for memory, or
    profiled; counts its SQL statements when tracing."""

    def __init__(self, mode: str, profile_top: int = 15):
        self.mode, self.top = mode, profile_top
        self.figures: dict[str, float] = {}
        self.gc_seconds: dict[str, float] = {}
        self.gc_full: dict[str, int] = {}
        #: This process's CPU time: steadier than wall time on a shared machine, and all of the
        #: work on SQLite (on PostgreSQL the server's share is not in it).
        self.cpu: dict[str, float] = {}
        self.statements: dict[str, int] = {}
        self._count, self._gc, self._gc_started, self._full = 0, 0.0, 0.0, 0

    def _counted(self, *_args) -> None:
        self._count += 1

    def _gc_clock(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self._gc += time.perf_counter() - self._gc_started
            # A full collection walks every object of the process, the app's included.
            self._full += info["generation"] == 2

    def __call__(self, name: str, call: Callable[[], Any]) -> Any:
        gc.collect()  # every operation starts with the same heap
        self._count, self._gc, self._full = 0, 0.0, 0
        if self.mode == "memory":
            sa.event.listen(db.engine, "before_cursor_execute", self._counted)
            tracemalloc.start()
        profiler = cProfile.Profile() if self.mode == "profile" else None
        gc.callbacks.append(self._gc_clock)
        begun, cpu_begun = time.perf_counter(), time.process_time()
        try:
            result = profiler.runcall(call) if profiler else call()
        finally:
            elapsed = time.perf_counter() - begun
            self.cpu[name] = time.process_time() - cpu_begun
            gc.callbacks.remove(self._gc_clock)
        if DEFERRED:
            stop_for(DEFERRED[0])
        self.gc_seconds[name], self.gc_full[name] = self._gc, self._full
        if self.mode == "memory":
            self.figures[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            sa.event.remove(db.engine, "before_cursor_execute", self._counted)
            # The floor's raw connection bypasses the engine: an INSERT and the bulk insert.
            self.statements[name] = 2 if name == "floor" else self._count
        else:
            self.figures[name] = elapsed
        if profiler:
            print(f"\n--- profile: {name} ({elapsed:.3f} s), top {self.top} by own time")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(self.top)
        return result


def one_round(kind: str, user: User, year: Year, files: dict, probe: Probe) -> None:
    """Floor, the three imports and the parts, each into a fresh meter, checked, then
    removed again so every round starts from the same tables."""
    session = db.session
    rows = [(start, end, float(wh)) for start, end, wh in year]  # as a parser hands them over
    made = [fresh_meter(user, name) for name in ("floor", "csv", "greenbutton", "store")]
    floor, csv_meter, gb_meter, store_meter = made
    ids = (floor.id, user.id, user.city_id)
    session.commit()  # nothing open in the session while the floor writes on its own
    probe("floor", lambda: floor_insert(kind, *ids, rows))
    verify(ids[0], year, "floor")

    fresh = {"new": READINGS, "replaced": 0, "unchanged": 0, "rejected_total": 0}
    fresh |= {"gaps_total": 0, "duplicates_dropped": 0}
    for name, meter, data, file_name in (
        ("csv", csv_meter, files["csv"], "verbrauch.csv"),
        ("greenbutton", gb_meter, files["xml"], "greenbutton.xml"),
    ):
        session.refresh(meter)  # loaded, as the request's meter look-up leaves it
        row = probe(name, lambda m=meter, d=data, f=file_name: import_committed(user, m, d, f))
        check_summary(row, name, **fresh)
        verify(meter.id, year, name)
    first_import = session.scalar(
        sa.select(sa.func.min(MeterImport.id)).where(MeterImport.meter_id == csv_meter.id)
    )
    check_same(csv_meter.id, gb_meter.id)
    session.refresh(csv_meter)
    again = probe(
        "reimport", lambda: import_committed(user, csv_meter, files["csv"], "verbrauch.csv")
    )
    unchanged = {"new": 0, "replaced": 0, "removed": 0, "unchanged": READINGS}
    check_summary(again, "re-import", **unchanged, same_file_as=first_import)
    verify(csv_meter.id, year, "re-import", import_id=first_import)

    # The parts alone run as import_file runs them: with the garbage collector paused.
    mapping = Mapping.from_dict(MAPPING)
    paused = imports._collector_paused
    parsed = probe("parse_csv", paused(lambda: read_csv(files["csv"], mapping, ZONE_NAME, "Wh")))
    points = probe("parse_greenbutton", paused(lambda: parse_green_button(files["xml"])))
    if len(parsed.intervals) != READINGS or points[0].result.intervals != parsed.intervals:
        raise SystemExit("ABORT: the parsers disagree on the year")
    del points  # an import holds one parse result while it stores, not two
    for name in ("store_new", "store_unchanged"):
        session.refresh(store_meter)
        probe(name, paused(lambda: store_committed(user, store_meter, parsed.intervals)))
        verify(store_meter.id, year, name)
    for meter in made:
        meters.delete_meter(session, user, meter)
    session.commit()


def check_sqlite_text(year: Year) -> None:
    """The floor must store on SQLite the very text SQLAlchemy stores for a UTC column."""
    dialect = db.engine.dialect
    to_text = Reading.__table__.c.start_at.type.dialect_impl(dialect).bind_processor(dialect)
    for moment in (year[0][0], year[-1][1], utcnow()):
        if to_text(moment) != sqlite_text(moment):
            raise SystemExit(f"ABORT: {sqlite_text(moment)!r} is not {to_text(moment)!r}")


def measure(kind: str, user: User, year: Year, files: dict, args) -> dict[str, Any]:
    if kind == "sqlite":
        check_sqlite_text(year)
    # An upload is a POST: on SQLite its transaction takes the write lock at BEGIN.
    write_intent.set(True)
    one_round(kind, user, year, files, Probe("time"))  # warm-up: caches, first statements
    samples: dict[str, list[float]] = {}
    gc_samples: dict[str, list[float]] = {}
    full: dict[str, list[int]] = {}
    cpu: dict[str, list[float]] = {}
    for number in range(1, args.rounds + 1):
        probe = Probe("time")
        one_round(kind, user, year, files, probe)
        for name, seconds in probe.figures.items():
            samples.setdefault(name, []).append(seconds)
            gc_samples.setdefault(name, []).append(probe.gc_seconds[name])
            full.setdefault(name, []).append(probe.gc_full[name])
            cpu.setdefault(name, []).append(probe.cpu[name])
        shown = ", ".join(f"{name} {probe.figures[name]:.3f}" for name in PATHS)
        log(f"round {number}: {shown} s")
    memory = Probe("memory")
    one_round(kind, user, year, files, memory)
    if args.profile:
        one_round(kind, user, year, files, Probe("profile", args.profile))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    return {
        "samples_s": samples,
        "medians_s": medians,
        "gc_samples_s": gc_samples,
        "gc_medians_s": {name: statistics.median(values) for name, values in gc_samples.items()},
        "ratios": {name: medians[name] / medians["floor"] for name in PATHS},
        "cpu_samples_s": cpu,
        "cpu_medians_s": cpu_medians,
        "cpu_ratios": {name: cpu_medians[name] / cpu_medians["floor"] for name in PATHS},
        "peak_traced_bytes": memory.figures,
        "statements": memory.statements,
        "gc_full_collections": {name: statistics.median(counts) for name, counts in full.items()},
        "gc_tracked_objects": len(gc.get_objects()),
    }


# --- report ---------------------------------------------------------------------------------


def machine_facts(kind: str, version: str, load_at_start: float) -> dict[str, Any]:
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "loadavg_1m": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "cpu": cpu,
        "python": platform.python_version(),
        "database": kind,
        "database_version": version,
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "packages": {
            name: metadata.version(name)
            for name in ("flask", "sqlalchemy", "psycopg", "defusedxml")
        },
    }


def print_report(facts: dict, files: dict, result: dict, args) -> None:
    medians, peaks = result["medians_s"], result["peak_traced_bytes"]
    statements = result["statements"]
    floor_how = "COPY" if facts["database"] == "postgresql" else "sqlite3 executemany"
    print()
    print(f"Living Lab bench: {READINGS:,} quarter hours imported vs a raw insert, same run")
    print(
        f"machine: nproc {facts['nproc']}, {facts['cpu'] or 'unknown CPU'}, Python "
        f"{facts['python']}; database {facts['database']} {facts['database_version']}"
    )
    load = facts["loadavg_1m"]
    print(f"load average (1 min) before/after: {load['start']:.2f} / {load['end']:.2f}")
    print(
        f"files: CSV {len(files['csv']) / 2**20:.2f} MiB, Green Button "
        f"{len(files['xml']) / 2**20:.2f} MiB; floor: {floor_how}; {args.rounds} rounds after "
        "a warm-up, medians; CPU: this process's; in GC: share of the time in garbage "
        "collections, full: how many "
        f"walked all {result['gc_tracked_objects']:,} objects of the process; peak: traced by "
        "tracemalloc in a separate round"
    )
    print()
    print(
        f"  {'':<32} {'median':>8} {'min':>8} {'max':>8} {'x floor':>7} {'CPU':>8} "
        f"{'in GC':>6} {'full':>4} {'peak':>9} {'SQL':>3}"
    )
    for names in (PATHS, PARTS):
        for name, label in names.items():
            values = result["samples_s"][name]
            ratio = f"{result['ratios'][name]:.2f}" if name in PATHS else ""
            in_gc = result["gc_medians_s"][name] / medians[name]
            print(
                f"  {label:<32} {medians[name]:>6.3f} s {min(values):>6.3f} s "
                f"{max(values):>6.3f} s {ratio:>7} {result['cpu_medians_s'][name]:>6.3f} s "
                f"{in_gc:>6.0%} "
                f"{result['gc_full_collections'][name]:>4g} {peaks[name] / 2**20:>5.1f} MiB "
                f"{statements[name]:>3}"
            )
        print()
    print("  where an import's time goes (medians; rest: sniffing, SHA-256, consent, summary)")
    for name, parse, store in (
        ("csv", "parse_csv", "store_new"),
        ("greenbutton", "parse_greenbutton", "store_new"),
        ("reimport", "parse_csv", "store_unchanged"),
    ):
        total = medians[name]
        rest = total - medians[parse] - medians[store]
        print(
            f"  {PATHS[name]:<34} parse {medians[parse] / total:>4.0%}, store "
            f"{medians[store] / total:>4.0%}, rest {rest / total:>4.0%}"
        )
    print()
    for name in ("csv", "greenbutton", "reimport"):
        ratio = result["ratios"][name]
        verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
        print(f"  ratio {PATHS[name]} / floor: {ratio:.2f} (target <= {TARGET:g}) {verdict}")
    if facts["database"] == "sqlite":
        # All the work is in this process on SQLite: its CPU ratio moves less with the load.
        shown = ", ".join(
            f"{name} {result['cpu_ratios'][name]:.2f}" for name in PATHS if name != "floor"
        )
        print(f"  same ratios from this process's CPU time: {shown}")


def save(facts: dict, files: dict, result: dict, args) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"energy_import-{stamp}-{facts['database']}.json"
    payload = {
        "benchmark": "energy_import",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "target_ratio": TARGET,
        "readings": READINGS,
        "file_bytes": {"csv": len(files["csv"]), "greenbutton": len(files["xml"])},
        "mapping": MAPPING,
        "machine": facts,
        **result,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "(a schema bench_<random> is created and dropped); default: a temp SQLite file",
    )
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds after a warm-up")
    parser.add_argument(
        "--profile", type=int, nargs="?", const=15, default=0, metavar="N",
        help="one more round under cProfile, printing each operation's top N functions",
    )  # fmt: skip
    parser.add_argument(
        "--write-files", type=Path, metavar="DIR", help="also save the generated CSV and XML"
    )
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when an import costs over {TARGET:g}x"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    load_at_start = os.getloadavg()[0]
    if load_at_start > 0.5:
        log(f"warning: load average {load_at_start:.1f} before starting; figures will be noisy")
    year = household_year()
    files = {"csv": portal_csv(year), "xml": green_button(year)}
    log(
        f"{READINGS:,} quarter hours, {sum(wh for *_t, wh in year) / 1000:,.0f} kWh; "
        f"CSV {len(files['csv']):,} bytes, Green Button {len(files['xml']):,} bytes"
    )
    if args.write_files:
        args.write_files.mkdir(parents=True, exist_ok=True)
        (args.write_files / f"verbrauch-{YEAR}.csv").write_bytes(files["csv"])
        (args.write_files / f"greenbutton-{YEAR}.xml").write_bytes(files["xml"])
    workdir = Path(tempfile.mkdtemp(prefix="livinglab-bench-"))
    try:
        with database(args.database_url, workdir) as db_info:
            app = make_app(db_info)
            with app.app_context():
                try:
                    user = seed()
                    result = measure(db_info.kind, user, year, files, args)
                finally:
                    db.session.remove()
                    db.engine.dispose()  # before the schema is dropped
            facts = machine_facts(db_info.kind, db_info.version, load_at_start)
        print_report(facts, files, result, args)
        path = save(facts, files, result, args)
        print(f"\nresults written to {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.check and any(result["ratios"][name] > TARGET for name in PATHS):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; temporary data removed")
        sys.exit(130)
