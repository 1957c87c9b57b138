"""Benchmark: a board's idea list and supporting ideas, against the floors, in the same run.

    .venv/bin/python bench/idea_list.py [--database-url URL] [--duration 10] ...

Builds its own database (temp SQLite file, or a throwaway schema on PostgreSQL) with the
helpers of bench/campaign_list.py, seeds one board in the supporting phase with 10,000 ideas
and 200,000 supports (Core: COPY on PostgreSQL, executemany on SQLite), serves
``bench/wsgi.py`` with gunicorn and loads it with wrk: ``GET /api/v1/boards/<id>/ideas``
sorted by most supported, trending and random against ``GET /bench/hello``, and
``PUT /api/v1/ideas/<id>/support`` (bench/rotate.lua: each request another resident and idea)
against ``POST /bench/insert/<uuid>``. Target ratio >= 0.5. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
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
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timedelta
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
    HELLO_PATH,
    TARGET_RATIO,
    WORKER_MODELS,
    Database,
    Server,
    WrkResult,
    benchville,
    database,
    get,
    gunicorn,
    load_arguments,
    log,
    machine_facts,
    make_app,
    parse_wrk,
    save_results,
    server_cpu_seconds,
    wrk,
)
from bench.survey_submit import FLOOR_PATH, FLOOR_TABLE, _copy, check_post, wrk_post  # noqa: E402
from campaigns import service as campaigns  # noqa: E402
from ideas import boards  # noqa: E402
from ideas.models import Board, Idea, Phase, Support  # noqa: E402
from ideas.supports import trend_weight  # noqa: E402
from ideas.text import fold  # noqa: E402

LUA = ROOT / "bench" / "rotate.lua"
IDEAS, SUPPORTS = 10_000, 200_000
#: Residents whose supports are seeded (SUPPORTS / SUPPORTERS each), and residents with a
#: token who support under load (none of them has a seeded support, so each PUT is new).
SUPPORTERS, RESIDENTS = 20_000, 1_000
PAGE = 20
SORTS = ("most_supported", "trending", "random")
LIST_PATH = f"/api/v1/boards/{{board}}/ideas?sort={{sort}}&limit={PAGE}"
SUPPORT_PATH = "/api/v1/ideas/%d/support"
#: The prime rotate.lua spreads pairs with, and the distance between two runs' offsets.
STRIDE, RUN_OFFSET = 1_000_003, 1_000_000
DAYS = 30
WORDS = [
    "jardin", "partagé", "arbres", "bancs", "ombre", "fontaine", "vélos", "parking", "piste",
    "cyclable", "éclairage", "compost", "potager", "jeux", "enfants", "terrain", "sport",
    "marché", "toilettes", "poubelles", "tri", "fleurs", "fresque", "trottoir", "passage",
    "piéton", "bruit", "calme", "abri", "bus", "ateliers", "réparation", "cour",
]  # fmt: skip


# --- seed -----------------------------------------------------------------------------------


def seed(app: Flask) -> dict[str, Any]:
    """Migrate; city, campaign and board through the services; returns their ids."""
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
        board = boards.create_board(
            session,
            admin,
            campaign,
            title={"fr": "Que faire de la cour ?", "en": "What should the courtyard become?"},
            support_budget=None,
        )
        boards.publish_board(session, admin, board, now)
        boards.set_phase(session, admin, board, Phase.SUPPORTING, now)
        # A board running for a month: seeded supports weigh from 2^-10 up to 1 in its trend.
        board.created_at = now - timedelta(days=DAYS)
        session.commit()
        seeded = {"city_id": city.id, "board_id": board.id, "campaign_id": campaign.id}
        db.session.remove()
        db.engine.dispose()
    return seeded


def make_people(app: Flask, db_info: Database, seeded: dict, workdir: Path, args) -> Path:
    """Supporters (Core) and residents with bearer tokens; returns the file of tokens."""
    started = time.monotonic()
    with app.app_context():
        first = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        password = hash_password("bench-" + uuid.uuid4().hex)
        now = utcnow()
        rows = [
            {
                "id": first + n,
                "email": f"person{n}@bench.invalid",
                "password_hash": password,
                "display_name": f"Habitant {n}",
                "city_id": seeded["city_id"],
                "locale": None,
                "email_verified_at": now,
                "is_platform_admin": False,
                "disabled_at": None,
                "created_at": now,
                "password_changed_at": now,
            }
            for n in range(SUPPORTERS + args.residents)
        ]
        db.session.remove()  # its snapshot would not see the rows inserted next
        insert(db_info, User.__table__, rows)
        seeded["supporters"] = (first, first + SUPPORTERS - 1)
        session = db.session
        tokens = []
        for n in range(args.residents):
            resident = session.get(User, first + SUPPORTERS + n)
            day = timedelta(days=1)
            tokens.append(accounts.issue_token(session, resident, TokenKind.API, day, "bench", now))
        session.commit()
        db.session.remove()
        db.engine.dispose()
    path = workdir / "tokens.txt"
    path.write_text("\n".join(tokens) + "\n")
    (workdir / "token.txt").write_text(tokens[0] + "\n")
    log(f"{len(rows):,} people and {len(tokens):,} tokens in {time.monotonic() - started:.1f} s")
    return path


def insert(db_info: Database, table: sa.Table, rows: list[dict]) -> None:
    """Rows with explicit ids: COPY on PostgreSQL (then the id sequence moves on), else
    one executemany."""
    with db.engine.begin() as connection:
        if db_info.kind == "postgresql":
            _copy(connection, table, rows)
            connection.execute(
                sa.text(
                    # Our own table names, not input.
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table.name}))"
                )
            )
        else:
            connection.execute(table.insert(), rows)


def fake_board(seeded: dict, board: Board, first_idea: int, now: datetime):
    """10,000 ideas and 200,000 supports of a month, some ideas far more supported than others:
    each supporter picks distinct ideas, idea k with a weight of 1 / (k + 20)."""
    rng = random.Random(5)
    low, high = seeded["supporters"]
    ideas = []
    for n in range(IDEAS):
        published = now - timedelta(seconds=rng.randint(3600, DAYS * 86400))
        title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
        body = " ".join(rng.choice(WORDS) for _ in range(60))
        ideas.append(
            {
                "id": first_idea + n,
                "board_id": seeded["board_id"],
                "city_id": seeded["city_id"],
                "author_id": rng.randint(low, high),
                "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "title": title,
                "body": body,
                "language": "fr",
                "category": None,
                "state": "published",
                "moderation_reason": None,
                "supports_count": 0,
                "comments_count": 0,
                "flags_count": 0,
                "trend": 0.0,
                "search_text": fold(f"{title}\n{body}"),
                "created_at": published,
                "updated_at": published,
                "published_at": published,
            }
        )
    cumulative = list(itertools.accumulate(1 / (k + 20) for k in range(IDEAS)))
    per_person = SUPPORTS // SUPPORTERS
    supports = []
    for user_id in range(low, high + 1):
        chosen: set[int] = set()
        while len(chosen) < per_person:
            chosen.update(
                rng.choices(range(IDEAS), cum_weights=cumulative, k=per_person - len(chosen))
            )
        for k in chosen:
            idea = ideas[k]
            moment = idea["published_at"] + (now - idea["published_at"]) * rng.random()
            weight = trend_weight(board, moment)
            idea["supports_count"] += 1
            idea["trend"] += weight
            # Supporting moves an idea's updated_at, as the support endpoint does.
            idea["updated_at"] = max(idea["updated_at"], moment)
            supports.append(
                {
                    "idea_id": idea["id"],
                    "board_id": seeded["board_id"],
                    "user_id": user_id,
                    "weight": weight,
                    "created_at": moment,
                }
            )
    return ideas, supports


def seed_board(app: Flask, db_info: Database, seeded: dict) -> float:
    """The board's ideas and supports with Core, then ANALYZE; returns seconds."""
    started = time.monotonic()
    with app.app_context():
        session = db.session
        first = (session.scalar(sa.select(sa.func.max(Idea.id))) or 0) + 1
        board = session.get(Board, seeded["board_id"])
        session.remove()  # the board keeps what was loaded: created_at for the weights
        ideas, supports = fake_board(seeded, board, first, utcnow())
        insert(db_info, Idea.__table__, ideas)
        with db.engine.begin() as connection:
            if db_info.kind == "postgresql":
                _copy(connection, Support.__table__, supports)
                connection.execute(sa.text("ANALYZE"))
            else:
                connection.execute(Support.__table__.insert(), supports)
                connection.execute(sa.text("ANALYZE"))
        sa.Table(
            FLOOR_TABLE,
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("client_uuid", sa.String(36), nullable=False, unique=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ).create(db.engine)
        db.engine.dispose()
    seeded["ideas"] = (first, IDEAS)
    log(f"seeded {len(ideas):,} ideas and {len(supports):,} supports")
    return time.monotonic() - started


def counted_supports(app: Flask, board_id: int) -> tuple[int, int]:
    """Support rows of the board, and the sum of its ideas' counters: equal, or votes were
    lost or counted twice."""
    with app.app_context():
        rows = db.session.scalar(
            sa.select(sa.func.count(Support.id)).where(Support.board_id == board_id)
        )
        counters = db.session.scalar(
            sa.select(sa.func.sum(Idea.supports_count)).where(Idea.board_id == board_id)
        )
        db.session.remove()
        db.engine.dispose()
    return rows, counters


# --- load -----------------------------------------------------------------------------------


def check_list(base: str, path: str, token: str) -> None:
    """A list must answer 200 with a full page before it is worth measuring."""
    status, body = get(base + path, {"Authorization": f"Bearer {token}"})
    items = None
    with contextlib.suppress(ValueError, AttributeError):
        items = json.loads(body).get("items")
    if status != 200 or not isinstance(items, list) or len(items) != PAGE:
        raise SystemExit(
            f"ABORT: GET {path} answered {status}, expected 200 with {PAGE} ideas:\n"
            f"{body[:2000].decode(errors='replace')}"
        )


def check_support(base: str, idea_id: int, token: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        base + SUPPORT_PATH % idea_id, method="PUT", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    if status not in (200, 201):
        raise SystemExit(
            f"ABORT: PUT {SUPPORT_PATH} answered {status}:\n{body[:2000].decode(errors='replace')}"
        )


class Rotation:
    """wrk runs with bench/rotate.lua, each run's pairs of resident and idea new."""

    def __init__(self, server: Server, tokens: Path, ideas: tuple[int, int], args) -> None:
        self.server, self.tokens, self.ideas, self.args = server, tokens, ideas, args
        #: Runs so far per label: each run of a label takes new pairs.
        self.runs: Counter[str] = Counter()

    def run(self, label: str, method: str, path: str, seconds: float, tokens: Path | None = None):
        args, first, count = self.args, *self.ideas
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s"]
        command += ["--latency", "--timeout", "10s", "-s", str(LUA), self.server.base, "--"]
        command += [method, path, str(tokens or self.tokens), str(first), str(count)]
        command.append(str(self.runs[label] * RUN_OFFSET))
        self.runs[label] += 1
        cpu_before = server_cpu_seconds(self.server.pid)
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        cpu = server_cpu_seconds(self.server.pid) - cpu_before
        if done.returncode != 0:
            raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        result = parse_wrk(label, done.stdout)
        result.server_cpu_ms_per_request = round(cpu * 1000 / max(result.requests, 1), 3)
        if result.non_2xx:
            raise SystemExit(f"ABORT: {result.non_2xx} non-2xx answers on {label}:\n{done.stdout}")
        return result


def measure(db_info: Database, seeded: dict, tokens: Path, workdir: Path, args) -> dict:
    """Warm up, then every endpoint and its floor in turn, ``rounds`` times; runs and medians."""
    board, (first_idea, _count) = seeded["board_id"], seeded["ideas"]
    token = tokens.read_text().split()[0]
    body_file = workdir / "empty.json"
    body_file.write_text("{}")
    lists = {sort: LIST_PATH.format(board=board, sort=sort) for sort in SORTS}
    model = "gthread 2x4"
    with gunicorn(model, db_info, workdir) as server:
        rotation = Rotation(server, tokens, seeded["ideas"], args)
        one = workdir / "token.txt"
        runs_of = {
            "hello": lambda s: wrk(server, HELLO_PATH, args, s, token),
            **{
                sort: lambda s, path=path: rotation.run(path, "GET", path, s)
                for sort, path in lists.items()
            },
            "most_supported_cached": lambda s: rotation.run(
                lists["most_supported"] + " (one resident)", "GET", lists["most_supported"], s, one
            ),
            "insert": lambda s: wrk_post(server, FLOOR_PATH, body_file, "", args, s),
            "support": lambda s: rotation.run(SUPPORT_PATH, "PUT", SUPPORT_PATH, s),
        }
        for path in lists.values():
            check_list(server.base, path, token)
        check_post(server.base, FLOOR_PATH, b"{}", None)
        # A pair no run reaches (runs take pair numbers from 0 to a few millions).
        resident, idea = pair_of(args.residents * IDEAS - 1, args.residents)
        check_support(server.base, first_idea + idea, tokens.read_text().split()[resident])
        warmed = {name: run(args.warmup) for name, run in runs_of.items()}
        runs: dict[str, list[WrkResult]] = {name: [] for name in runs_of}
        for round_no in range(1, args.rounds + 1):
            for name, run in runs_of.items():
                result = run(args.duration)
                runs[name].append(result)
                log(
                    f"round {round_no}: {name} {result.requests_per_sec:,.0f} req/s, "
                    f"p99 {result.latency_ms.get('99', float('nan')):.1f} ms, "
                    f"server CPU {result.server_cpu_ms_per_request:.2f} ms/request"
                )
        for path in lists.values():
            check_list(server.base, path, token)  # still healthy after the load
    medians = {name: median_figures(results) for name, results in runs.items()}
    ratios = {
        name: ratio_to(medians, name, "insert" if name == "support" else "hello")
        for name in runs_of
        if name not in ("hello", "insert")
    }
    return {
        "worker_model": model,
        "gunicorn_args": WORKER_MODELS[model],
        "paths": {**lists, "support": SUPPORT_PATH, "hello": HELLO_PATH, "insert": FLOOR_PATH},
        "medians": medians,
        "ratios": ratios,
        # Answered supports, warm-up and the check before the load included.
        "supports_answered": 1
        + warmed["support"].requests
        + sum(r.requests for r in runs["support"]),
        "runs": {name: [asdict(r) for r in results] for name, results in runs.items()},
    }


def pair_of(number: int, residents: int) -> tuple[int, int]:
    """The resident and idea (indexes) of pair ``number``, as bench/rotate.lua spreads them."""
    pair = number * STRIDE % (residents * IDEAS)
    return pair // IDEAS, pair % IDEAS


def ratio_to(medians: dict, name: str, floor: str) -> dict[str, Any]:
    """req/s of an endpoint over its floor's, and the same from server CPU per request."""
    ours, least = medians[name], medians[floor]
    return {
        "floor": floor,
        "ratio": round(ours["requests_per_sec"] / least["requests_per_sec"], 3),
        "cpu_ratio": round(
            least["server_cpu_ms_per_request"] / max(ours["server_cpu_ms_per_request"], 1e-9), 3
        ),
    }


def median_figures(results: list[WrkResult]) -> dict[str, float]:
    return {
        "requests_per_sec": statistics.median(r.requests_per_sec for r in results),
        "p50_ms": statistics.median(r.latency_ms["50"] for r in results),
        "p99_ms": statistics.median(r.latency_ms["99"] for r in results),
        "server_cpu_ms_per_request": statistics.median(
            r.server_cpu_ms_per_request for r in results
        ),
    }


# --- report ---------------------------------------------------------------------------------

LABELS = {
    "hello": "GET /bench/hello (floor)",
    "most_supported": "ideas?sort=most_supported",
    "trending": "ideas?sort=trending",
    "random": "ideas?sort=random",
    "most_supported_cached": "ideas?sort=most_supported, one resident",
    "insert": "POST /bench/insert/<uuid> (floor)",
    "support": "PUT /ideas/<id>/support",
}


def print_report(facts: dict, result: dict, figures: dict, args) -> None:
    print()
    print("Living Lab bench: a board's ideas and supporting them, vs floors on the same server")
    print(
        f"machine: nproc {facts['nproc']}, {facts['cpu'] or 'unknown CPU'}, Python "
        f"{facts['python']}; database {facts['database']} {facts['database_version']}"
    )
    print(
        f"load average (1 min) before/after: {facts['loadavg_1m']['start']:.2f} / "
        f"{facts['loadavg_1m']['end']:.2f}"
    )
    print(
        f"board: {IDEAS:,} ideas, {SUPPORTS:,} supports (seeded in {figures['seed_s']:.1f} s); "
        f"{args.residents:,} residents take turns (bench/rotate.lua)"
    )
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency, "
        f"{args.rounds} interleaved rounds, medians shown; gunicorn {result['worker_model']}"
    )
    print()
    print(f"  {'endpoint':<42} {'req/s':>8} {'p50':>9} {'p99':>9} {'CPU/req':>9} {'ratio':>6}")
    for name, label in LABELS.items():
        m = result["medians"][name]
        ratio = result["ratios"].get(name)
        shown = f"{ratio['ratio']:>6.2f}" if ratio else f"{'':>6}"
        print(
            f"  {label:<42} {m['requests_per_sec']:>8,.0f} {m['p50_ms']:>6.1f} ms "
            f"{m['p99_ms']:>6.1f} ms {m['server_cpu_ms_per_request']:>6.2f} ms {shown}"
        )
    print()
    for name, ratio in result["ratios"].items():
        verdict = "OK" if ratio["ratio"] >= TARGET_RATIO else "BELOW TARGET"
        print(
            f"  ratio {name} / {ratio['floor']}: {ratio['ratio']:.2f} "
            f"(CPU {ratio['cpu_ratio']:.2f}; target >= {TARGET_RATIO}) {verdict}"
        )
    rows, counters = figures["supports_after"]
    print(
        f"  supports after the load: {rows:,} rows, counters sum {counters:,} "
        f"({rows - SUPPORTS:,} new; {result['supports_answered']:,} answered, the rest in flight "
        "when wrk stopped)"
    )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = load_arguments(__doc__.split("\n\n")[0], "endpoint/floor")
    parser.add_argument(
        "--residents", type=int, default=RESIDENTS, help="residents with a token taking turns"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a ratio is below the target"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (or run `make bench`)")
    if (args.residents * IDEAS) % STRIDE == 0:
        raise SystemExit(f"--residents times {IDEAS} must not be a multiple of {STRIDE}")
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
            started = time.monotonic()
            seeded = seed(app)
            tokens = make_people(app, db_info, seeded, workdir, args)
            seed_board(app, db_info, seeded)
            figures = {"seed_s": round(time.monotonic() - started, 1)}
            result = measure(db_info, seeded, tokens, workdir, args)
            figures["supports_after"] = counted_supports(app, seeded["board_id"])
            facts = machine_facts(db_info, load_at_start)
        print_report(facts, result, figures, args)
        path = save_results(
            "idea_list",
            facts,
            args,
            target_ratio=TARGET_RATIO,
            seed={"ideas": IDEAS, "supports": SUPPORTS, "residents": args.residents},
            figures=figures,
            results=result,
        )
        print(f"\nresults written to {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows, counters = figures["supports_after"]
    if rows != counters:
        log(f"ERROR: {rows:,} support rows but counters sum to {counters:,}")
        return 1
    missed = any(r["ratio"] < TARGET_RATIO for r in result["ratios"].values())
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; server stopped and temporary data removed")
        sys.exit(130)
