"""A push service that accepts everything: the peer of bench/outbox.py (served by gunicorn).

PUSH_SINK_DELAY_MS makes it answer as late as a distant provider would.
"""

import os
import time

DELAY = int(os.environ.get("PUSH_SINK_DELAY_MS", "0")) / 1000


def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if DELAY:
        time.sleep(DELAY)
    start_response("201 Created", [("Content-Length", "0")])
    return [b""]
