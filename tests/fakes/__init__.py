"""Test doubles for Apuri: a fake Telegram Bot API server and helpers that play its users."""

from tests.fakes.flood import FloodLimits
from tests.fakes.records import RecordedRequest, SentMessage, UploadedFile
from tests.fakes.server import DEFAULT_TOKEN, DROP, Failure, FakeBotAPI
from tests.fakes.telegram_html import EntityParseError, parse_html
from tests.fakes.users import FakeGroup, FakeUser
from tests.fakes.wire import ApiError

__all__ = [
    "DEFAULT_TOKEN",
    "DROP",
    "ApiError",
    "EntityParseError",
    "Failure",
    "FakeBotAPI",
    "FakeGroup",
    "FakeUser",
    "FloodLimits",
    "RecordedRequest",
    "SentMessage",
    "UploadedFile",
    "parse_html",
]
