"""A push service that accepts everything at once: the peer of bench/outbox.py (via gunicorn)."""


def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("201 Created", [("Content-Length", "0")])
    return [b""]
