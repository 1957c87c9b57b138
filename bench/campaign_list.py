"""Benchmark: a resident's campaign list against the floor of this machine, in the same run.

    .venv/bin/python bench/campaign_list.py [--database-url URL] [--duration 10] ...

Builds its own database (temp SQLite file, or a throwaway schema on PostgreSQL), seeds it
through the services, serves ``bench/wsgi.py`` with gunicorn, loads it with wrk and prints
req/s, p50, p99 and the ratio campaign-list / hello (target >= 0.5). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
GUNICORN = Path(sys.executable).parent / "gunicorn"
TARGET_RATIO = 0.5
N_CAMPAIGNS = 60
PAGE = 20
HELLO_PATH = "/bench/hello"
LIST_PATH = f"/api/v1/campaigns?limit={PAGE}"
#: Worker models: name -> gunicorn arguments.
WORKER_MODELS = {
    "gthread 2x4": ["--worker-class", "gthread", "--workers", "2", "--threads", "4"],
    "sync 4": ["--worker-class", "sync", "--workers", "4"],
}

# The script lives in bench/, so Python puts bench/ (not the repo) on the path.
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import accounts, cities  # noqa: E402
from app.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.models import City, TokenKind, User  # noqa: E402
from app.passwords import hash_password  # noqa: E402
from campaigns import service  # noqa: E402


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- database ------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    kind: str  # "sqlite" or "postgresql"
    version: str = ""
    schema: str | None = None  # PostgreSQL only
    engine_options: dict = field(default_factory=dict)


@contextlib.contextmanager
def database(url: str | None, workdir: Path) -> Iterator[Database]:
    """A fresh database: a temp SQLite file, or a schema bench_<random> dropped afterwards."""
    if not url:
        path = workdir / "bench.sqlite"
        yield Database(f"sqlite:///{path}", "sqlite", sqlite3.sqlite_version)
        return  # the file goes with workdir

    if not url.startswith("postgresql"):
        raise SystemExit(f"--database-url must be a postgresql URL, got {url!r}")
    schema = f"bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    log(f"created schema {schema}")
    try:
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        yield Database(url, "postgresql", str(version), schema, options)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        log(f"dropped schema {schema}")


def make_app(db_info: Database) -> Flask:
    """The app this process seeds through (gunicorn's workers build their own)."""

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_info.url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **db_info.engine_options},
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )


def benchville(session: Session, now: datetime) -> tuple[City, User]:
    """The city the benchmarks seed (French and English), with a platform admin of it."""
    city = cities.create_city(
        session,
        slug="benchville",
        name="Benchville",
        timezone="Europe/Paris",
        default_locale="fr",
        enabled_locales=["fr", "en"],
    )
    admin = User(
        email="admin@bench.invalid",
        password_hash=hash_password(secrets.token_urlsafe(16)),
        city_id=city.id,
        display_name="Bench Admin",
        is_platform_admin=True,
        email_verified_at=now,
    )
    session.add(admin)
    session.flush()
    return city, admin


def seed(app: Flask) -> str:
    """Migrate and seed through the services; returns the resident's bearer token."""

    with app.app_context():
        flask_migrate.upgrade()
        session = db.session
        now = utcnow()
        city, admin = benchville(session, now)
        resident = User(
            email="resident@bench.invalid",
            password_hash=hash_password(secrets.token_urlsafe(16)),
            city_id=city.id,
            display_name="Bench Resident",
            email_verified_at=now,
        )
        session.add(resident)
        session.flush()
        for i in range(N_CAMPAIGNS):
            # Three phases, the middle one current, so current_phase is filled in.
            phases = [
                {
                    "title": {"fr": f"Phase {p + 1}", "en": f"Phase {p + 1}"},
                    "starts_at": now + timedelta(days=30 * (p - 1) - 15),
                    "ends_at": now + timedelta(days=30 * p - 15),
                }
                for p in range(3)
            ]
            campaign = service.create_campaign(
                session,
                admin,
                city,
                slug=f"campagne-{i:03d}",
                title={"fr": f"Rénovation de l'îlot {i}", "en": f"Renovating block {i}"},
                summary={
                    "fr": f"Donnez votre avis sur l'îlot {i} : cours, jardins, parkings.",
                    "en": f"Have your say on block {i}: yards, gardens, parking.",
                },
                phases=phases,
            )
            # Distinct publication times, so the list's order is meaningful.
            service.publish_campaign(session, admin, campaign, now=now - timedelta(minutes=i))
        token = accounts.issue_token(
            session, resident, TokenKind.API, timedelta(days=1), "bench", now
        )
        session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (our own http URL)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Server:
    base: str  # http://127.0.0.1:<port>
    pid: int  # gunicorn's master


def server_cpu_seconds(master: int) -> float:
    """User + system CPU time of gunicorn's master and workers so far.

    CPU per request moves less than req/s when other work shares the machine.
    """
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master:  # fields[1] is the parent pid
                pids.append(int(stat.parent.name))
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def gunicorn(model: str, db_info: Database, workdir: Path) -> Iterator[Server]:
    """Serve bench.wsgi:app; yields the running server; always stops it."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_info.url,
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    if db_info.schema:
        env["BENCH_PG_SCHEMA"] = db_info.schema
    log_path = workdir / f"gunicorn-{model.replace(' ', '-')}.log"
    command = [
        str(GUNICORN),
        "--bind",
        f"127.0.0.1:{port}",
        *WORKER_MODELS[model],
        "--log-level",
        "warning",
        "bench.wsgi:app",
    ]
    with log_path.open("w") as log_file:
        # Own session: a Ctrl-C reaches us, and we stop the server in order.
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited ({server.returncode}) at start")
            with contextlib.suppress(OSError):
                if get(base + HELLO_PATH)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn not answering after 30 s")
            time.sleep(0.2)
        log(f"gunicorn {model} up on {base} (pid {server.pid})")
        yield Server(base, server.pid)
    except BaseException:
        stop(server)
        # The server's own account of what went wrong, before workdir is removed.
        tail = log_path.read_text(errors="replace")[-4000:]
        if tail.strip():
            log(f"gunicorn log ({model}), last lines:\n{tail}")
        raise
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the master (it stops its workers), then SIGKILL its process group if needed."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def check_list(base: str, token: str) -> None:
    """The list must answer 200 with a full page before it is worth measuring."""
    status, body = get(base + LIST_PATH, {"Authorization": f"Bearer {token}"})
    items = None
    with contextlib.suppress(ValueError, AttributeError):
        items = json.loads(body).get("items")
    if status != 200 or not isinstance(items, list) or len(items) != PAGE:
        count = len(items) if isinstance(items, list) else "no"
        raise SystemExit(
            f"ABORT: GET {LIST_PATH} answered {status} with {count} items, expected 200 "
            f"with {PAGE}:\n{body[:2000].decode(errors='replace')}"
        )


# --- load -----------------------------------------------------------------------------------


@dataclass
class WrkResult:
    path: str
    requests_per_sec: float
    latency_ms: dict[str, float]  # "avg", "max", "50", "75", "90", "99"
    requests: int
    non_2xx: int
    socket_errors: str
    server_cpu_ms_per_request: float = 0.0  # gunicorn master + workers


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise SystemExit(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNIT_MS[match.group(2)]


def parse_wrk(path: str, output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if not rps or not count:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    latency = {pct: to_ms(v) for pct, v in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.M)}
    avg = re.search(r"^\s+Latency\s+(\S+)\s+\S+\s+(\S+)", output, re.M)
    if avg:
        latency["avg"], latency["max"] = to_ms(avg.group(1)), to_ms(avg.group(2))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:\s+(.+)", output)
    return WrkResult(
        path=path,
        requests_per_sec=float(rps.group(1)),
        latency_ms=latency,
        requests=int(count.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors.group(1).strip() if errors else "",
    )


def wrk(
    server: Server, path: str, args: argparse.Namespace, seconds: float, token: str
) -> WrkResult:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency"]
    # wrk drops answers slower than its timeout (2 s) from the latency figures: allow more.
    command += ["--timeout", "10s"]
    if path == LIST_PATH:
        command += ["-H", f"Authorization: Bearer {token}"]
    cpu_before = server_cpu_seconds(server.pid)
    done = subprocess.run(
        [*command, server.base + path],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    cpu = server_cpu_seconds(server.pid) - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = parse_wrk(path, done.stdout)
    result.server_cpu_ms_per_request = round(cpu * 1000 / max(result.requests, 1), 3)
    if result.non_2xx:
        # Errors are cheap to answer: a run with them measures the wrong thing.
        raise SystemExit(f"ABORT: {result.non_2xx} non-2xx answers on {path}:\n{done.stdout}")
    if result.socket_errors:  # wrk prints the line only when some are non-zero
        log(f"warning: socket errors on {path}: {result.socket_errors}")
    return result


def measure(
    model: str, db_info: Database, app: Flask, token: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """Warm up, then floor and list interleaved ``rounds`` times; returns runs and medians."""
    with gunicorn(model, db_info, workdir) as server:
        check_list(server.base, token)
        for path in (HELLO_PATH, LIST_PATH):
            wrk(server, path, args, args.warmup, token)  # warm-up
        runs: dict[str, list[WrkResult]] = {HELLO_PATH: [], LIST_PATH: []}
        for round_no in range(1, args.rounds + 1):
            for path in (HELLO_PATH, LIST_PATH):
                result = wrk(server, path, args, args.duration, token)
                runs[path].append(result)
                log(
                    f"{model} round {round_no}: {path} {result.requests_per_sec:,.0f} req/s, "
                    f"p99 {result.latency_ms.get('99', float('nan')):.1f} ms, "
                    f"server CPU {result.server_cpu_ms_per_request:.2f} ms/request"
                )
        check_list(server.base, token)  # still healthy after the load
    medians = {
        path: {
            "requests_per_sec": statistics.median(r.requests_per_sec for r in results),
            "p50_ms": statistics.median(r.latency_ms["50"] for r in results),
            "p90_ms": statistics.median(r.latency_ms["90"] for r in results),
            "p99_ms": statistics.median(r.latency_ms["99"] for r in results),
            "server_cpu_ms_per_request": statistics.median(
                r.server_cpu_ms_per_request for r in results
            ),
        }
        for path, results in runs.items()
    }
    hello, listing = medians[HELLO_PATH], medians[LIST_PATH]
    ratio = listing["requests_per_sec"] / hello["requests_per_sec"]
    # The same ratio from CPU per request: what an idle machine would show, roughly.
    cpu_ratio = hello["server_cpu_ms_per_request"] / max(listing["server_cpu_ms_per_request"], 1e-9)
    return {
        "worker_model": model,
        "gunicorn_args": WORKER_MODELS[model],
        "medians": medians,
        "ratio": round(ratio, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "runs": {path: [asdict(r) for r in results] for path, results in runs.items()},
    }


# --- report ---------------------------------------------------------------------------------


def machine_facts(db_info: Database, load_at_start: float) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "nproc": len(os.sched_getaffinity(0)),
        # Other work on the machine skews absolute figures; the ratio absorbs part of it.
        "loadavg_1m": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "cpu": cpu,
        "python": platform.python_version(),
        "database": db_info.kind,
        "database_version": db_info.version,
        "wrk": wrk_version.split(" [")[0].strip(),
        "packages": {
            name: metadata.version(name)
            for name in ("flask", "gunicorn", "sqlalchemy", "psycopg", "marshmallow")
        },
    }


def print_report(facts: dict, results: list[dict], args: argparse.Namespace) -> None:
    print()
    print(f"Living Lab bench: GET {LIST_PATH} (bearer) vs floor GET {HELLO_PATH}, same app/server")
    print(
        f"machine: nproc {facts['nproc']}, {facts['cpu'] or 'unknown CPU'}, Python "
        f"{facts['python']}; database {facts['database']} {facts['database_version']}"
    )
    load = facts["loadavg_1m"]
    print(f"load average (1 min) before/after: {load['start']:.2f} / {load['end']:.2f}")
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency, "
        f"{args.rounds} interleaved rounds, medians shown"
    )
    for result in results:
        print()
        print(f"gunicorn {result['worker_model']}")
        print(f"  {'endpoint':<34} {'req/s':>8} {'p50':>9} {'p99':>9} {'CPU/req':>9}")
        for path, label in ((HELLO_PATH, f"{HELLO_PATH} (floor)"), (LIST_PATH, LIST_PATH)):
            m = result["medians"][path]
            print(
                f"  {label:<34} {m['requests_per_sec']:>8,.0f} {m['p50_ms']:>6.1f} ms "
                f"{m['p99_ms']:>6.1f} ms {m['server_cpu_ms_per_request']:>6.2f} ms"
            )
        verdict = "OK" if result["ratio"] >= TARGET_RATIO else "BELOW TARGET"
        print(
            f"  ratio campaign-list / hello: {result['ratio']:.2f} "
            f"(target >= {TARGET_RATIO}) {verdict}"
        )
        print(
            f"  same ratio from server CPU per request: {result['cpu_ratio']:.2f} "
            "(steadier when other work shares the machine)"
        )


def save_results(name: str, facts: dict, args: argparse.Namespace, **figures) -> Path:
    """Write a run's figures with the machine facts and the load settings to
    bench/results/<name>-<UTC time>-<database>.json (git-ignored)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}-{facts['database']}.json"
    payload = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load": {
            "tool": "wrk",
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
        },
        "machine": facts,
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def write_json(facts: dict, results: list[dict], args: argparse.Namespace) -> Path:
    return save_results(
        "campaign_list",
        facts,
        args,
        target_ratio=TARGET_RATIO,
        seed={"campaigns": N_CAMPAIGNS, "page": PAGE},
        results=results,
    )


# --- main -----------------------------------------------------------------------------------


def load_arguments(description: str, pairs: str) -> argparse.ArgumentParser:
    """The options every load benchmark takes: the database and wrk's settings."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "(a schema bench_<random> is created and dropped); default: a temp SQLite file",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--rounds", type=int, default=3, help=f"interleaved {pairs} pairs")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per path")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = load_arguments(__doc__.split("\n\n")[0], "hello/list")
    parser.add_argument(
        "--sync", action="store_true", help="also measure gunicorn sync, 4 workers (doubles time)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a ratio is below the target"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (or run `make bench`)")
    # SIGTERM and SIGHUP unwind like Ctrl-C, so every cleanup below runs.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, _frame: sys.exit(128 + signum))
    models = ["gthread 2x4", "sync 4"] if args.sync else ["gthread 2x4"]
    load_at_start = os.getloadavg()[0]
    if load_at_start > 0.5:
        log(f"warning: load average {load_at_start:.1f} before starting; figures will be low")
    workdir = Path(tempfile.mkdtemp(prefix="livinglab-bench-"))
    try:
        with database(args.database_url, workdir) as db_info:
            started = time.monotonic()
            app = make_app(db_info)
            token = seed(app)
            log(f"seeded {db_info.kind} in {time.monotonic() - started:.1f} s")
            results = [measure(model, db_info, app, token, args, workdir) for model in models]
            facts = machine_facts(db_info, load_at_start)
        print_report(facts, results, args)
        path = write_json(facts, results, args)
        print(f"\nresults written to {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.check and any(r["ratio"] < TARGET_RATIO for r in results):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; server stopped and temporary data removed")
        sys.exit(130)
