"""Benchmark: survey submissions against a one-row-insert floor, and results for 100,000 responses.

    .venv/bin/python bench/survey_submit.py [--database-url URL] [--duration 10] ...

Builds its own database (temp SQLite file, or a throwaway schema on PostgreSQL) with the
helpers of bench/campaign_list.py, serves ``bench/wsgi.py`` with gunicorn and loads
``POST /api/v1/surveys/<id>/responses/<uuid>/submit`` with wrk (bench/submit.lua: a new UUID
per request) against ``POST /bench/insert/<uuid>`` (one row inserted and committed) on the
same server, in the same run (target ratio >= 0.5). Then seeds 100,000 submitted responses
with Core (COPY on PostgreSQL) and times ``surveys.results`` (target: under 1 s).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The script lives in bench/, so Python puts bench/ (not the repo) on the path.
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402

from app import accounts  # noqa: E402
from app.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import TokenKind, User  # noqa: E402
from app.passwords import hash_password  # noqa: E402
from bench.campaign_list import (  # noqa: E402
    TARGET_RATIO,
    WORKER_MODELS,
    Database,
    Server,
    WrkResult,
    benchville,
    database,
    gunicorn,
    load_arguments,
    log,
    machine_facts,
    make_app,
    parse_wrk,
    save_results,
    server_cpu_seconds,
)
from campaigns import service as campaigns  # noqa: E402
from surveys import results as survey_results  # noqa: E402
from surveys import results_texts  # noqa: E402
from surveys import service as surveys  # noqa: E402
from surveys.models import ResponseAnswer, Survey, SurveyResponse  # noqa: E402
from surveys.results_filters import Filters  # noqa: E402

LUA = ROOT / "bench" / "submit.lua"
FLOOR_PATH = "/bench/insert/%s"
SUBMIT_PATH = "/api/v1/surveys/{survey_id}/responses/%s/submit"
#: The write floor's table; bench/wsgi.py inserts into it.
FLOOR_TABLE = "bench_rows"
RESPONSES = 100_000
#: Results must come within this, for RESPONSES submitted responses.
RESULTS_TARGET_S = 1.0

#: Heating in Benchville: a choice with "other", a number shown to gas users, a scale, a text.
DEFINITION = {
    "title": {"fr": "Votre chauffage", "en": "Your heating"},
    "pages": [
        {
            "key": "home",
            "questions": [
                {
                    "key": "heating",
                    "type": "single_choice",
                    "title": {"fr": "Comment chauffez-vous ?", "en": "How do you heat?"},
                    "required": True,
                    "choices": [
                        {"value": "gas", "label": {"fr": "Gaz", "en": "Gas"}},
                        {
                            "value": "heat_pump",
                            "label": {"fr": "Pompe à chaleur", "en": "Heat pump"},
                        },
                        {
                            "value": "district",
                            "label": {"fr": "Réseau de chaleur", "en": "District"},
                        },
                    ],
                    "other": True,
                },
                {
                    "key": "boiler_age",
                    "type": "number",
                    "title": {"fr": "Âge de la chaudière ?", "en": "Age of the boiler?"},
                    "required": True,
                    "show_if": {"question": "heating", "op": "equals", "value": "gas"},
                    "number": {"integer": True, "min": 0, "max": 80},
                },
                {
                    "key": "comfort",
                    "type": "scale",
                    "title": {"fr": "Confort en hiver", "en": "Comfort in winter"},
                    "required": False,
                    "scale": {"min": 1, "max": 5},
                },
                {
                    "key": "comment",
                    "type": "long_text",
                    "title": {"fr": "Un commentaire ?", "en": "A comment?"},
                    "required": False,
                },
            ],
        }
    ],
}
#: What every benchmarked submission sends (with its own UUID).
ANSWERS = {"heating": "gas", "boiler_age": 12, "comfort": 4, "comment": "Trop froid en janvier."}


# --- seed -----------------------------------------------------------------------------------


def seed(app: Flask) -> dict[str, Any]:
    """Migrate, seed through the services and create the floor's table; returns the ids."""
    with app.app_context():
        flask_migrate.upgrade()
        session = db.session
        now = utcnow()
        city, admin = benchville(session, now)
        password = hash_password("bench-" + uuid.uuid4().hex)
        resident = User(
            email="resident@bench.invalid",
            password_hash=password,
            city_id=city.id,
            email_verified_at=now,
        )
        session.add(resident)
        session.flush()
        campaign = campaigns.create_campaign(
            session,
            admin,
            city,
            slug="chauffage",
            title={"fr": "Chauffage", "en": "Heating"},
            phases=[
                {
                    "title": {"fr": "Enquête", "en": "Survey"},
                    "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=30),
                }
            ],
        )
        campaigns.publish_campaign(session, admin, campaign)
        made = {}
        # One survey takes the load (several responses per person), the other the 100,000.
        for name in ("load", "results"):
            survey = surveys.create_survey(
                session, admin, campaign, title=DEFINITION["title"], allow_multiple=True
            )
            surveys.save_definition(session, admin, survey, DEFINITION)
            surveys.publish(session, admin, survey)
            made[name] = survey
        token = accounts.issue_token(
            session, resident, TokenKind.API, timedelta(days=1), "bench", now
        )
        session.commit()
        sa.Table(
            FLOOR_TABLE,
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("client_uuid", sa.String(36), nullable=False, unique=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ).create(db.engine)
        seeded = {
            "token": token,
            "admin_id": admin.id,
            "survey_id": made["load"].id,
            "version_id": made["load"].current_version_id,
            "results_survey_id": made["results"].id,
            "results_version_id": made["results"].current_version_id,
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


# --- load -----------------------------------------------------------------------------------


def post(url: str, body: bytes, token: str | None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 (our own URL)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_post(base: str, template: str, body: bytes, token: str | None) -> None:
    """A request must store its row (201) before it is worth measuring."""
    status, answer = post(base + template % uuid.uuid4(), body, token)
    if status != 201:
        raise SystemExit(
            f"ABORT: POST {template} answered {status}, expected 201:\n"
            f"{answer[:2000].decode(errors='replace')}"
        )


def wrk_post(
    server: Server, template: str, body_file: Path, token: str, args, seconds: float
) -> WrkResult:
    """wrk with bench/submit.lua: each request a POST to ``template`` with a new UUID."""
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(LUA), server.base, "--", template, str(body_file)]
    if token:
        command.append(token)
    cpu_before = server_cpu_seconds(server.pid)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu = server_cpu_seconds(server.pid) - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = parse_wrk(template, done.stdout)
    result.server_cpu_ms_per_request = round(cpu * 1000 / max(result.requests, 1), 3)
    if result.non_2xx:
        # Refusals are cheap to answer: a run with them measures the wrong thing.
        raise SystemExit(f"ABORT: {result.non_2xx} non-2xx answers on {template}:\n{done.stdout}")
    if result.socket_errors:
        log(f"warning: socket errors on {template}: {result.socket_errors}")
    return result


def measure_load(
    model: str, db_info: Database, seeded: dict, args, workdir: Path
) -> dict[str, Any]:
    """Warm up, then floor and submission interleaved ``rounds`` times; runs and medians."""
    submit_path = SUBMIT_PATH.format(survey_id=seeded["survey_id"])
    body = {"version_id": seeded["version_id"], "answers": ANSWERS, "locale": "fr"}
    body_file = workdir / "submit.json"
    body_file.write_text(json.dumps(body))
    paths = {FLOOR_PATH: "", submit_path: seeded["token"]}
    with gunicorn(model, db_info, workdir) as server:
        for path, token in paths.items():
            check_post(server.base, path, body_file.read_bytes(), token)
            wrk_post(server, path, body_file, token, args, args.warmup)
        runs: dict[str, list[WrkResult]] = {path: [] for path in paths}
        for round_no in range(1, args.rounds + 1):
            for path, token in paths.items():
                result = wrk_post(server, path, body_file, token, args, args.duration)
                runs[path].append(result)
                log(
                    f"{model} round {round_no}: {path} {result.requests_per_sec:,.0f} req/s, "
                    f"p99 {result.latency_ms.get('99', float('nan')):.1f} ms, "
                    f"server CPU {result.server_cpu_ms_per_request:.2f} ms/request"
                )
        check_post(server.base, submit_path, body_file.read_bytes(), seeded["token"])
    medians = {
        path: {
            "requests_per_sec": statistics.median(r.requests_per_sec for r in results),
            "p50_ms": statistics.median(r.latency_ms["50"] for r in results),
            "p99_ms": statistics.median(r.latency_ms["99"] for r in results),
            "server_cpu_ms_per_request": statistics.median(
                r.server_cpu_ms_per_request for r in results
            ),
        }
        for path, results in runs.items()
    }
    floor, submit = medians[FLOOR_PATH], medians[submit_path]
    return {
        "worker_model": model,
        "gunicorn_args": WORKER_MODELS[model],
        "submit_path": submit_path,
        "medians": {"floor": floor, "submit": submit},
        "ratio": round(submit["requests_per_sec"] / floor["requests_per_sec"], 3),
        "cpu_ratio": round(
            floor["server_cpu_ms_per_request"] / max(submit["server_cpu_ms_per_request"], 1e-9), 3
        ),
        "runs": {path: [asdict(r) for r in results] for path, results in runs.items()},
    }


# --- 100,000 responses and their results ---------------------------------------------------


def fake_responses(survey_id: int, version_id: int, count: int, first_id: int):
    """Rows of ``count`` submitted responses and their answer rows, as submission writes them."""
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=30)
    comments = ["Trop froid en janvier.", "Bien isolé.", "Factures trop chères.", "RAS"]
    responses, answers = [], []
    for n in range(count):
        response_id = first_id + n
        heating = rng.choices(["gas", "heat_pump", "district", "other"], weights=[45, 25, 20, 10])[
            0
        ]
        given: dict[str, Any] = {"heating": heating}
        rows = [("heating", None, heating, None, "Poêle à bois" if heating == "other" else None)]
        if heating == "other":
            given["heating.other"] = "Poêle à bois"
        if heating == "gas":
            given["boiler_age"] = rng.randint(0, 40)
            rows.append(("boiler_age", None, None, float(given["boiler_age"]), None))
        if rng.random() < 0.9:
            given["comfort"] = rng.randint(1, 5)
            rows.append(("comfort", None, None, float(given["comfort"]), None))
        if rng.random() < 0.15:
            given["comment"] = rng.choice(comments)
            rows.append(("comment", None, None, None, given["comment"]))
        submitted = start + timedelta(seconds=rng.randint(0, 30 * 86400))
        responses.append(
            {
                "id": response_id,
                "survey_id": survey_id,
                "version_id": version_id,
                "user_id": None,
                "single_owner_id": None,
                "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "status": "submitted",
                "locale": "fr" if rng.random() < 0.8 else "en",
                "answers": given,
                "fingerprint": None,
                "started_at": submitted - timedelta(minutes=5),
                "updated_at": submitted,
                "submitted_at": submitted,
                "withdrawn_at": None,
            }
        )
        answers.extend(
            {
                "survey_id": survey_id,
                "response_id": response_id,
                "question": question,
                "item": item,
                "choice": choice,
                "number": number,
                "text": text,
            }
            for question, item, choice, number, text in rows
        )
    return responses, answers


def _copy(connection, table: sa.Table, rows: list[dict]) -> None:
    """PostgreSQL COPY of ``rows`` into ``table`` (JSON and times as text)."""
    columns = list(rows[0])
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        names = ", ".join(columns)
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row.values()])


def seed_responses(app: Flask, db_info: Database, seeded: dict, count: int) -> float:
    """Insert ``count`` submitted responses with Core (COPY on PostgreSQL); returns seconds."""
    started = time.monotonic()
    with app.app_context():
        first = (db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0) + 1
        db.session.remove()
        responses, answers = fake_responses(
            seeded["results_survey_id"], seeded["results_version_id"], count, first
        )
        with db.engine.begin() as connection:
            if db_info.kind == "postgresql":
                _copy(connection, SurveyResponse.__table__, responses)
                _copy(connection, ResponseAnswer.__table__, answers)
                # Explicit ids went past the sequence: later submissions must not collide.
                connection.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('survey_responses', 'id'), "
                        "(SELECT max(id) FROM survey_responses))"
                    )
                )
                connection.execute(sa.text("ANALYZE survey_responses"))
                connection.execute(sa.text("ANALYZE response_answers"))
            else:
                connection.execute(SurveyResponse.__table__.insert(), responses)
                connection.execute(ResponseAnswer.__table__.insert(), answers)
                connection.execute(sa.text("ANALYZE"))
        db.engine.dispose()
    log(f"seeded {count:,} responses, {len(answers):,} answer rows")
    return time.monotonic() - started


def time_results(app: Flask, seeded: dict, repeats: int) -> dict[str, Any]:
    """Median wall time of each results call (after one warm-up), and its SQL statements."""
    statements = {"count": 0}

    def counted(*_args) -> None:
        statements["count"] += 1

    timings: dict[str, Any] = {}
    with app.app_context():
        session = db.session
        admin = session.get(User, seeded["admin_id"])
        survey = session.get(Survey, seeded["results_survey_id"])
        calls = {
            "results, all respondents": lambda: survey_results.results(
                session, admin, survey, Filters(), "fr"
            ),
            "results, cross-tab heating=gas": lambda: survey_results.results(
                session, admin, survey, Filters(question="heating", choice="gas"), "fr"
            ),
            "results, English respondents": lambda: survey_results.results(
                session, admin, survey, Filters(locale="en"), "fr"
            ),
            "written answers, page 1": lambda: results_texts.text_answers(
                session, admin, survey, "comment", Filters()
            ),
        }
        sa.event.listen(db.engine, "before_cursor_execute", counted)
        try:
            for name, call in calls.items():
                figures = call()  # warm-up (and a sanity check below)
                session.expire_all()
                samples = []
                statements["count"] = 0
                for _ in range(repeats):
                    begun = time.perf_counter()
                    call()
                    samples.append(time.perf_counter() - begun)
                    session.expire_all()
                timings[name] = {
                    "median_s": round(statistics.median(samples), 4),
                    "max_s": round(max(samples), 4),
                    "statements_per_call": statements["count"] / repeats,
                }
                if name == "results, all respondents":
                    timings[name]["total"] = figures.total
                log(f"{name}: {timings[name]['median_s'] * 1000:.0f} ms (median of {repeats})")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counted)
            session.remove()
            db.engine.dispose()
    return timings


# --- report ---------------------------------------------------------------------------------


def print_report(facts: dict, load: list[dict], results: dict, args) -> None:
    print()
    print("Living Lab bench: survey submission vs floor POST /bench/insert, same app/server")
    print(
        f"machine: nproc {facts['nproc']}, {facts['cpu'] or 'unknown CPU'}, Python "
        f"{facts['python']}; database {facts['database']} {facts['database_version']}"
    )
    print(
        f"load average (1 min) before/after: {facts['loadavg_1m']['start']:.2f} / "
        f"{facts['loadavg_1m']['end']:.2f}"
    )
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency "
        f"-s bench/submit.lua, {args.rounds} interleaved rounds, medians shown"
    )
    for result in load:
        print()
        print(f"gunicorn {result['worker_model']}")
        print(f"  {'endpoint':<46} {'req/s':>8} {'p50':>9} {'p99':>9} {'CPU/req':>9}")
        labels = {
            "floor": "POST /bench/insert/<uuid> (floor)",
            "submit": result["submit_path"].replace("%s", "<uuid>"),
        }
        for key, label in labels.items():
            m = result["medians"][key]
            print(
                f"  {label:<46} {m['requests_per_sec']:>8,.0f} {m['p50_ms']:>6.1f} ms "
                f"{m['p99_ms']:>6.1f} ms {m['server_cpu_ms_per_request']:>6.2f} ms"
            )
        verdict = "OK" if result["ratio"] >= TARGET_RATIO else "BELOW TARGET"
        print(
            f"  ratio submit / insert: {result['ratio']:.2f} (target >= {TARGET_RATIO}) {verdict}"
        )
        print(f"  same ratio from server CPU per request: {result['cpu_ratio']:.2f}")
    print()
    how = "COPY" if facts["database"] == "postgresql" else "executemany"
    print(
        f"results of {args.responses:,} submitted responses "
        f"(seeded in {results['seed_s']:.1f} s with Core {how})"
    )
    for name, timing in results["timings"].items():
        verdict = "OK" if timing["median_s"] < RESULTS_TARGET_S else "ABOVE TARGET"
        print(
            f"  {name:<34} {timing['median_s'] * 1000:>7.0f} ms median, "
            f"{timing['max_s'] * 1000:>6.0f} ms max, "
            f"{timing['statements_per_call']:>4.0f} SQL statements  {verdict}"
        )


def write_json(facts: dict, load: list[dict], results: dict, args) -> Path:
    return save_results(
        "survey_submit",
        facts,
        args,
        target_ratio=TARGET_RATIO,
        results_target_s=RESULTS_TARGET_S,
        submission=load,
        results=results,
    )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = load_arguments(__doc__.split("\n\n")[0], "floor/submit")
    parser.add_argument("--responses", type=int, default=RESPONSES, help="for the results")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per results view")
    parser.add_argument("--skip-load", action="store_true", help="only the results timing")
    parser.add_argument(
        "--sync", action="store_true", help="also measure gunicorn sync, 4 workers (doubles time)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None and not args.skip_load:
        raise SystemExit("wrk is missing: apt-get install -y wrk (or run `make bench`)")
    # SIGTERM and SIGHUP unwind like Ctrl-C, so every cleanup below runs.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, _frame: sys.exit(128 + signum))
    load_at_start = os.getloadavg()[0]
    if load_at_start > 0.5:
        log(f"warning: load average {load_at_start:.1f} before starting; figures will be low")
    workdir = Path(tempfile.mkdtemp(prefix="livinglab-bench-"))
    try:
        with database(args.database_url, workdir) as db_info:
            app = make_app(db_info)
            seeded = seed(app)
            models = [] if args.skip_load else ["gthread 2x4"] + (["sync 4"] if args.sync else [])
            load = [measure_load(model, db_info, seeded, args, workdir) for model in models]
            seed_s = seed_responses(app, db_info, seeded, args.responses)
            results = {
                "responses": args.responses,
                "seed_s": round(seed_s, 2),
                "timings": time_results(app, seeded, args.repeats),
            }
            facts = machine_facts(db_info, load_at_start)
        print_report(facts, load, results, args)
        path = write_json(facts, load, results, args)
        print(f"\nresults written to {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    missed = any(r["ratio"] < TARGET_RATIO for r in load) or any(
        t["median_s"] >= RESULTS_TARGET_S for t in results["timings"].values()
    )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; server stopped and temporary data removed")
        sys.exit(130)
