"""The app as the benchmarks serve it, plus a floor endpoint on the very same app.

gunicorn loads ``bench.wsgi:app``. Configuration comes from the environment
(DATABASE_URL, SECRET_KEY, RATELIMIT_ENABLED, LOG_LEVEL) as in production; on
PostgreSQL, BENCH_PG_SCHEMA names the schema the benchmark created.
"""

import os

import sqlalchemy as sa
from flask import Flask

from app.db import UTCDateTime, utcnow
from app.extensions import csrf, db
from app.factory import create_app

#: The write floor: bench_rows is created by bench/survey_submit.py (FLOOR_TABLE there).
FLOOR_INSERT = sa.text(
    "INSERT INTO bench_rows (client_uuid, created_at) VALUES (:client_uuid, :created_at)"
).bindparams(sa.bindparam("created_at", type_=UTCDateTime()))


def _config() -> dict:
    """Overrides on top of the environment: the PostgreSQL schema, if any."""
    schema = os.environ.get("BENCH_PG_SCHEMA")
    if not schema:
        return {}
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,  # as app.config.FIXED, which this key replaces
            "connect_args": {"options": f"-csearch_path={schema}"},
        }
    }


def build_app() -> Flask:
    app = create_app(_config())

    # The floor: same middleware, after_request headers and error handlers, no work.
    @app.get("/bench/hello")
    def bench_hello() -> dict:
        return {"hello": "world"}

    # The write floor: one row inserted and committed in a request of the same shape
    # (POST, a UUID in the path, a JSON body it ignores), no sign-in, no checks.
    @app.post("/bench/insert/<client_uuid>")
    @csrf.exempt
    def bench_insert(client_uuid: str) -> tuple[dict, int]:
        db.session.execute(FLOOR_INSERT, {"client_uuid": client_uuid, "created_at": utcnow()})
        db.session.commit()
        return {"client_uuid": client_uuid}, 201

    return app


app = build_app()
