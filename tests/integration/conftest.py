from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.form_files import load_catalog
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


@pytest.fixture(scope="session")
def forms():
    return load_catalog(None)


@pytest.fixture
def services(db, clock, forms):
    return build_services(
        SqliteStore(db),
        clock,
        invite_validity=timedelta(days=7),
        default_language="fi",
        forms=forms,
        zone=ZoneInfo("Europe/Helsinki"),
    )
