"""Helpers for tests on a database committed for real: a world to act in, and calls made from
many threads at once."""

import threading
from collections.abc import Callable, Iterable

from app.db import write_intent
from app.models import City, User
from campaigns.models import Campaign
from tests.conftest import city_with_people
from tests.surveys.helpers import published_campaign


def live_campaign(session, residents: int = 1) -> tuple[City, User, list[User], Campaign]:
    """Lyon with ``residents`` residents, an operator (platform admin) and a published
    campaign ``c`` the operator made, committed."""
    city, people = city_with_people(session, residents)
    root = User(
        email="root@example.org", password_hash="-", city_id=city.id, is_platform_admin=True
    )
    session.add(root)
    session.flush()
    campaign = published_campaign(session, root, city, slug="c")
    session.commit()
    return city, root, people, campaign


def each_at_once(items: Iterable, work: Callable[[object], object]) -> tuple[list, list[Exception]]:
    """``work(item)`` for each item, each from its own thread, released together as writing
    requests (SQLite locks at BEGIN); returns what the calls returned and what they raised."""
    items = list(items)
    results, errors = [], []
    start = threading.Barrier(len(items), timeout=60)

    def run(item):
        write_intent.set(True)
        try:
            start.wait()
            results.append(work(item))
        except Exception as error:  # returned to the test, which asserts on it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, errors


def at_once(count: int, work: Callable[[], object]) -> tuple[list, list[Exception]]:
    """``work()`` from ``count`` threads released together (see ``each_at_once``)."""
    return each_at_once(range(count), lambda _item: work())
