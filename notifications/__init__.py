"""Telling people things: in-app inbox, email and push, in each person's language."""

from flask import Flask


def init_app(app: Flask) -> None:
    from notifications import web

    app.register_blueprint(web.bp)
