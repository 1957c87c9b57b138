"""Channels deliver one claimed delivery each; they say how it went by returning or raising.

A channel module offers ``open(app) -> Sender``: a context manager whose ``send(delivery)``
delivers one delivery (its notification, user and device are loaded) and returns normally when
the provider accepted it. Anything else is one of the errors below; an unexpected exception
counts as temporary.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from notifications.models import Delivery


class DeliveryError(Exception):
    """A delivery that did not go through; ``str(error)`` is kept for staff (no secrets)."""


class Temporary(DeliveryError):
    """Try again later: after ``retry_after`` seconds when the provider said so."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(DeliveryError):
    """The provider refused it for good (bad request, bad address): a dead letter at once."""


class Gone(DeliveryError):
    """The device or address no longer exists: the device is removed, the delivery dropped."""


class Skipped(DeliveryError):
    """Not to be sent after all (the person unsubscribed meanwhile)."""


class Sender(Protocol):
    def send(self, delivery: Delivery) -> None: ...


Opener = Callable[[object], AbstractContextManager[Sender]]
