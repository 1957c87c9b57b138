"""The app as the benchmarks serve it, plus a floor endpoint on the very same app.

gunicorn loads ``bench.wsgi:app``. Configuration comes from the environment
(DATABASE_URL, SECRET_KEY, RATELIMIT_ENABLED, LOG_LEVEL) as in production; on
PostgreSQL, BENCH_PG_SCHEMA names the schema the benchmark created.
"""

import os

from flask import Flask

from app.factory import create_app


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

    return app


app = build_app()
