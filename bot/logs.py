"""Logging without personal data.

Apuri's own log lines carry ids, never names, phone numbers, addresses or message text. Libraries
are not so careful: at DEBUG python-telegram-bot logs whole updates (names and text) and httpx logs
request URLs, which contain the bot token. So `APURI_LOG_LEVEL` governs Apuri's own loggers only,
and the libraries never log below `_LIBRARY_FLOOR`.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

_OWN = ("bot", "handlers", "storage")
_LIBRARY_FLOOR = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "apscheduler": logging.WARNING,  # logs every job it adds, e.g. each conversation timeout
}


def configure_logging(level: str) -> None:
    """Log to stderr at `level` for Apuri, never below the privacy floor for libraries."""
    numeric = logging.getLevelNamesMapping()[level]
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger().setLevel(min(numeric, logging.INFO))
    for name in _OWN:
        logging.getLogger(name).setLevel(numeric)
    for name, floor in _LIBRARY_FLOOR.items():
        logging.getLogger(name).setLevel(max(numeric, floor))
