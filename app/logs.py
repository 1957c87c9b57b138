"""Structured JSON logs: one line per event, so CR/LF in input cannot forge a line."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure(level: str) -> None:
    logger = logging.getLogger("livinglab")
    logger.setLevel(level)
    if not any(getattr(h, "_livinglab", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"asctime": "time"}
            )
        )
        handler._livinglab = True
        logger.addHandler(handler)
