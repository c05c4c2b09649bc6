from datetime import timedelta

import pytest

from bot.services.container import build_services
from storage.db import Database
from storage.store import SqliteStore
from tests.clock import FakeClock


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "apuri.sqlite3")
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def services(db, clock):
    return build_services(
        SqliteStore(db), clock, invite_validity=timedelta(days=7), default_language="fi"
    )
