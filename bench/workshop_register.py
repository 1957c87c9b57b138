"""Benchmark: the rush when a popular workshop opens registration, against the write floor.

    .venv/bin/python bench/workshop_register.py [--database-url URL] [--residents 5000] ...

Builds its own database (temp SQLite file, or a throwaway schema on PostgreSQL) with the
helpers of bench/campaign_list.py, seeds through the services one published workshop of 200
seats and N residents with bearer tokens, serves ``bench/wsgi.py`` with gunicorn and loads
``PUT /api/v1/workshops/<id>/registration`` with wrk (bench/register.lua: each request another
resident) against ``POST /bench/insert/<uuid>`` (one row inserted and committed) on the same
server, in the same run (target ratio >= 0.5). Then checks the seats under that load: exactly
200 confirmed, everyone else waitlisted, queue numbers distinct and in arrival order.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
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
from bench.idea_list import insert, median_figures  # noqa: E402
from bench.survey_submit import FLOOR_PATH, FLOOR_TABLE, check_post, wrk_post  # noqa: E402
from campaigns import service as campaigns  # noqa: E402
from notifications.models import Notification  # noqa: E402
from workshops import service as workshops  # noqa: E402
from workshops.models import Registration, RegistrationStatus, Workshop  # noqa: E402
from workshops.notices import REGISTRATION_KIND  # noqa: E402

LUA = ROOT / "bench" / "register.lua"
REGISTER_PATH = "/api/v1/workshops/{workshop_id}/registration"
BODY = {"answers": {}}
CAPACITY = 200
RESIDENTS = 5_000
MODEL = "gthread 2x4"


# --- seed -----------------------------------------------------------------------------------


def seed(app: Flask, db_info: Database, residents: int) -> dict[str, Any]:
    """Migrate; city, campaign and the published workshop through the services, residents
    with Core and their tokens through ``accounts.issue_token``; returns ids and tokens."""
    started = time.monotonic()
    with app.app_context():
        flask_migrate.upgrade()
        session = db.session
        now = utcnow()
        city, admin = benchville(session, now)
        campaign = campaigns.create_campaign(
            session,
            admin,
            city,
            slug="cour-ilot-7",
            title={"fr": "Cour de l'îlot 7", "en": "Courtyard of block 7"},
        )
        campaigns.publish_campaign(session, admin, campaign)
        starts = now.replace(microsecond=0) + timedelta(days=14)
        workshop = workshops.create_workshop(
            session,
            admin,
            campaign,
            title={"fr": "Dessinons la cour", "en": "Designing the courtyard"},
            description={"fr": "Première séance : relevés et envies.", "en": "First session."},
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=CAPACITY,
            address="12 rue de la République, Benchville",
        )
        workshops.publish_workshop(session, admin, workshop, now)
        session.commit()
        seeded = {"city_id": city.id, "workshop_id": workshop.id}
        first = (session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        session.remove()  # its snapshot would not see the rows inserted next
        password = hash_password("bench-" + uuid.uuid4().hex)
        insert(
            db_info,
            User.__table__,
            [
                {
                    "id": first + n,
                    "email": f"resident{n}@bench.invalid",
                    "password_hash": password,
                    "display_name": f"Habitant {n}",
                    "city_id": city.id,
                    "locale": None,
                    "email_verified_at": now,
                    "is_platform_admin": False,
                    "disabled_at": None,
                    "created_at": now,
                    "password_changed_at": now,
                }
                for n in range(residents)
            ],
        )
        session = db.session
        people = session.scalars(sa.select(User).where(User.id >= first).order_by(User.id))
        seeded["tokens"] = {
            person.id: accounts.issue_token(
                session, person, TokenKind.API, timedelta(days=1), "bench", now
            )
            for person in people
        }
        session.commit()
        session.remove()
        sa.Table(
            FLOOR_TABLE,
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("client_uuid", sa.String(36), nullable=False, unique=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ).create(db.engine)
        db.engine.dispose()
    seeded["seed_s"] = round(time.monotonic() - started, 1)
    log(
        f"seeded a workshop of {CAPACITY} seats and {residents:,} residents in {seeded['seed_s']} s"
    )
    return seeded


def registered(app: Flask, workshop_id: int) -> set[int]:
    """The residents holding a registration at the workshop."""
    with app.app_context():
        users = set(
            db.session.scalars(
                sa.select(Registration.user_id).where(Registration.workshop_id == workshop_id)
            )
        )
        db.session.remove()
        db.engine.dispose()
    return users


# --- load -----------------------------------------------------------------------------------


def put(url: str, token: str) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        url, data=json.dumps(BODY).encode(), headers=headers, method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_register(base: str, path: str, token: str, expected: int) -> None:
    """A registration must answer 201 (then 200 when sent again) before it is worth measuring."""
    status, answer = put(base + path, token)
    if status != expected:
        raise SystemExit(
            f"ABORT: PUT {path} answered {status}, expected {expected}:\n"
            f"{answer[:2000].decode(errors='replace')}"
        )


@dataclass
class RushResult(WrkResult):
    statuses: dict[int, int] = field(default_factory=dict)  # answers by HTTP status
    fresh_tokens: int = 0  # residents not registered yet when the run started


class Rush:
    """wrk runs with bench/register.lua, each run dealing out the tokens of residents not
    registered yet (all tokens again once everyone is)."""

    def __init__(self, app: Flask, server: Server, seeded: dict, workdir: Path, args) -> None:
        self.app, self.server, self.seeded, self.args = app, server, seeded, args
        self.path = REGISTER_PATH.format(workshop_id=seeded["workshop_id"])
        self.tokens_file, self.body_file = workdir / "tokens.txt", workdir / "register.json"
        self.body_file.write_text(json.dumps(BODY))

    def deal(self) -> int:
        """Write the tokens file for the next run; returns how many residents are new in it."""
        done = registered(self.app, self.seeded["workshop_id"])
        tokens = self.seeded["tokens"]
        fresh = [token for user_id, token in tokens.items() if user_id not in done]
        self.tokens_file.write_text("\n".join(fresh or tokens.values()) + "\n")
        return len(fresh)

    def run(self, seconds: float) -> RushResult:
        args = self.args
        fresh = self.deal()
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s"]
        command += ["--latency", "--timeout", "10s", "-s", str(LUA), self.server.base + self.path]
        command += ["--", self.path, str(self.body_file), str(self.tokens_file), str(args.threads)]
        cpu_before = server_cpu_seconds(self.server.pid)
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        cpu = server_cpu_seconds(self.server.pid) - cpu_before
        if done.returncode != 0:
            raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        result = parse_wrk(self.path, done.stdout)
        result.server_cpu_ms_per_request = round(cpu * 1000 / max(result.requests, 1), 3)
        # wrk counts 201 and 200 alike as 2xx: the script's own count tells them apart.
        counted = re.findall(r"^status (\d+): (\d+)$", done.stdout, re.M)
        result = RushResult(
            **asdict(result), statuses={int(k): int(v) for k, v in counted}, fresh_tokens=fresh
        )
        if result.non_2xx:
            raise SystemExit(
                f"ABORT: {result.non_2xx} non-2xx answers on {self.path}:\n{done.stdout}"
            )
        if result.socket_errors:
            log(f"warning: socket errors on {self.path}: {result.socket_errors}")
        return result


def measure(app: Flask, db_info: Database, seeded: dict, workdir: Path, args) -> dict[str, Any]:
    """Warm up, then floor and registration interleaved ``rounds`` times; runs and medians."""
    floor_body = workdir / "floor.json"
    floor_body.write_text(json.dumps(BODY))
    with gunicorn(MODEL, db_info, workdir) as server:
        rush = Rush(app, server, seeded, workdir, args)
        check_post(server.base, FLOOR_PATH, floor_body.read_bytes(), None)
        first_token = next(iter(seeded["tokens"].values()))
        check_register(server.base, rush.path, first_token, 201)
        check_register(server.base, rush.path, first_token, 200)
        runs_of = {
            "insert": lambda s: wrk_post(server, FLOOR_PATH, floor_body, "", args, s),
            "register": rush.run,
        }
        warmed = {name: run(args.warmup) for name, run in runs_of.items()}
        runs: dict[str, list[WrkResult]] = {name: [] for name in runs_of}
        for round_no in range(1, args.rounds + 1):
            for name, run in runs_of.items():
                result = run(args.duration)
                runs[name].append(result)
                extra = ""
                if name == "register":
                    created, total = result.statuses.get(201, 0), result.requests
                    extra = f", {created:,} of {total:,} first registrations"
                log(
                    f"round {round_no}: {name} {result.requests_per_sec:,.0f} req/s, "
                    f"p99 {result.latency_ms.get('99', float('nan')):.1f} ms, "
                    f"server CPU {result.server_cpu_ms_per_request:.2f} ms/request{extra}"
                )
    medians = {name: median_figures(results) for name, results in runs.items()}
    floor, ours = medians["insert"], medians["register"]
    answered = [warmed["register"], *runs["register"]]
    return {
        "worker_model": MODEL,
        "gunicorn_args": WORKER_MODELS[MODEL],
        "paths": {"insert": FLOOR_PATH, "register": rush.path},
        "medians": medians,
        "ratio": round(ours["requests_per_sec"] / floor["requests_per_sec"], 3),
        "cpu_ratio": round(
            floor["server_cpu_ms_per_request"] / max(ours["server_cpu_ms_per_request"], 1e-9), 3
        ),
        # The check's registration, then what wrk counted (not those in flight at its end).
        "created_answered": 1 + sum(r.statuses.get(201, 0) for r in answered),
        "first_share": [
            round(r.statuses.get(201, 0) / max(r.requests, 1), 3) for r in runs["register"]
        ],
        "runs": {name: [asdict(r) for r in results] for name, results in runs.items()},
    }


# --- the race check -------------------------------------------------------------------------


def seats(app: Flask, workshop_id: int) -> dict[str, Any]:
    """What the rush left: registrations by status, the workshop's counter, queue numbers."""
    of_workshop = Registration.workshop_id == workshop_id
    number = Registration.queue_number
    with app.app_context():
        session = db.session
        by_status = dict(
            session.execute(
                sa.select(Registration.status, sa.func.count())
                .where(of_workshop)
                .group_by(Registration.status)
            ).all()
        )
        distinct_numbers = session.scalar(
            sa.select(sa.func.count(sa.distinct(number))).where(of_workshop)
        )
        last_seated = session.scalar(
            sa.select(sa.func.max(number)).where(
                of_workshop, Registration.status == RegistrationStatus.CONFIRMED
            )
        )
        first_waiting = session.scalar(
            sa.select(sa.func.min(number)).where(
                of_workshop, Registration.status == RegistrationStatus.WAITLISTED
            )
        )
        workshop = session.get(Workshop, workshop_id)
        told = session.scalar(
            sa.select(sa.func.count()).where(Notification.kind == REGISTRATION_KIND)
        )
        found = {
            "registrations": sum(by_status.values()),
            "by_status": {str(k): v for k, v in by_status.items()},
            "confirmed_count": workshop.confirmed_count,
            "queue_seq": workshop.queue_seq,
            "queue_numbers": distinct_numbers,  # NULLs not counted
            "last_seated_number": last_seated,
            "first_waitlisted_number": first_waiting,
            "registration_notifications": told,
        }
        session.remove()
        db.engine.dispose()
    return found


def verify(found: dict) -> list[str]:
    """The invariants a rush must keep; returns what is broken."""
    total = found["registrations"]
    confirmed = found["by_status"].get(RegistrationStatus.CONFIRMED, 0)
    waitlisted = found["by_status"].get(RegistrationStatus.WAITLISTED, 0)
    problems = []
    if confirmed != CAPACITY or found["confirmed_count"] != CAPACITY:
        problems.append(
            f"{confirmed} confirmed (counter {found['confirmed_count']}), expected {CAPACITY}"
        )
    if waitlisted != total - CAPACITY:
        problems.append(f"{waitlisted} waitlisted, expected {total} - {CAPACITY}")
    if found["queue_numbers"] != total:
        problems.append(
            f"{found['queue_numbers']} distinct queue numbers for {total} registrations"
        )
    if found["queue_seq"] < total:
        problems.append(f"queue_seq {found['queue_seq']} below {total} registrations")
    last, first = found["last_seated_number"], found["first_waitlisted_number"]
    if last is not None and first is not None and last > first:
        problems.append(f"seat given to number {last} while number {first} waits")
    if found["registration_notifications"] != total:
        problems.append(f"{found['registration_notifications']} people told, expected {total}")
    return problems


# --- report ---------------------------------------------------------------------------------


def print_report(facts: dict, result: dict, found: dict, problems: list[str], seeded, args):
    print()
    print("Living Lab bench: registering for a workshop vs floor POST /bench/insert, same server")
    print(
        f"machine: nproc {facts['nproc']}, {facts['cpu'] or 'unknown CPU'}, Python "
        f"{facts['python']}; database {facts['database']} {facts['database_version']}"
    )
    print(
        f"load average (1 min) before/after: {facts['loadavg_1m']['start']:.2f} / "
        f"{facts['loadavg_1m']['end']:.2f}"
    )
    print(
        f"workshop: {CAPACITY} seats; {args.residents:,} residents with a token (seeded in "
        f"{seeded['seed_s']:.1f} s), each request another one (bench/register.lua)"
    )
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency, "
        f"{args.rounds} interleaved rounds, medians shown; gunicorn {result['worker_model']}"
    )
    print()
    print(f"  {'endpoint':<44} {'req/s':>8} {'p50':>9} {'p99':>9} {'CPU/req':>9}")
    labels = {
        "insert": "POST /bench/insert/<uuid> (floor)",
        "register": "PUT /api/v1/workshops/<id>/registration",
    }
    for name, label in labels.items():
        m = result["medians"][name]
        print(
            f"  {label:<44} {m['requests_per_sec']:>8,.0f} {m['p50_ms']:>6.1f} ms "
            f"{m['p99_ms']:>6.1f} ms {m['server_cpu_ms_per_request']:>6.2f} ms"
        )
    verdict = "OK" if result["ratio"] >= TARGET_RATIO else "BELOW TARGET"
    print(f"  ratio register / insert: {result['ratio']:.2f} (target >= {TARGET_RATIO}) {verdict}")
    print(f"  same ratio from server CPU per request: {result['cpu_ratio']:.2f}")
    shares = ", ".join(f"{share:.0%}" for share in result["first_share"])
    print(f"  first registrations (201) among the measured requests, per round: {shares}")
    print()
    by_status = ", ".join(f"{status} {count:,}" for status, count in found["by_status"].items())
    print(
        f"after the rush: {found['registrations']:,} registrations ({by_status}); "
        f"{result['created_answered']:,} answered 201, the rest in flight when wrk stopped"
    )
    print(
        f"  seats counter {found['confirmed_count']}, {found['queue_numbers']:,} distinct queue "
        f"numbers (queue_seq {found['queue_seq']:,}), last seated number "
        f"{found['last_seated_number']}, first waitlisted {found['first_waitlisted_number']}, "
        f"{found['registration_notifications']:,} people told"
    )
    if problems:
        for problem in problems:
            print(f"  RACE CHECK FAILED: {problem}")
    else:
        print(
            f"  race check OK: {CAPACITY} confirmed exactly, waitlisted = registrations - "
            f"{CAPACITY}, queue numbers distinct, seats in arrival order, everyone told once"
        )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = load_arguments(__doc__.split("\n\n")[0], "floor/registration")
    parser.add_argument(
        "--residents", type=int, default=RESIDENTS, help="residents with a token taking turns"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the ratio is below the target"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (or run `make bench`)")
    if args.residents <= CAPACITY:
        raise SystemExit(f"--residents must be above the {CAPACITY} seats, or nobody waits")
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
            seeded = seed(app, db_info, args.residents)
            result = measure(app, db_info, seeded, workdir, args)
            found = seats(app, seeded["workshop_id"])
            facts = machine_facts(db_info, load_at_start)
        problems = verify(found)
        print_report(facts, result, found, problems, seeded, args)
        path = save_results(
            "workshop_register",
            facts,
            args,
            target_ratio=TARGET_RATIO,
            seed={"capacity": CAPACITY, "residents": args.residents, "seed_s": seeded["seed_s"]},
            results=result,
            after=found,
            problems=problems,
        )
        print(f"\nresults written to {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        return 1
    return 1 if args.check and result["ratio"] < TARGET_RATIO else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; server stopped and temporary data removed")
        sys.exit(130)
