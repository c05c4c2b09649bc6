"""Fixtures for the fake Bot API's own tests: a started server and a real PTB Bot on it."""

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from tests.fakes import FakeBotAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A running fake Bot API without flood limits."""
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    """An initialised PTB Bot talking to ``api``."""
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as tg_bot:
        yield tg_bot
