"""Answers built once and served again while the data behind them has not changed.

A view names what its answer depends on (a version read from the database on every request,
plus the language and paging); that key gives the ETag, so a client that has the answer gets
304 at once, and it keys a small per-process cache of the JSON body, so a client that does not
is served without building it again. Nothing can be stale: a change makes a new key. Every
web process keeps its own cache; losing it only costs a rebuild.
"""

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache
from flask import Response, current_app

from client_api.core import Blueprint
from i18n import current_locale

_bodies: LRUCache = LRUCache(maxsize=2048)
_lock = threading.Lock()


def cached_json(blp: Blueprint, key: tuple, build: Callable[[], Any]) -> Response:
    """The JSON answer for ``key``; 304 when the client's If-None-Match already names it."""
    key = (*key, current_locale())
    blp.set_etag(hashlib.sha256(repr(key).encode()).hexdigest())  # raises NotModified → 304
    with _lock:
        body = _bodies.get(key)
    if body is None:
        body = current_app.json.dumps(build()).encode()
        with _lock:
            _bodies[key] = body
    return current_app.response_class(body, mimetype="application/json")
