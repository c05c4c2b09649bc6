"""Migrations: applied once, in order, recorded in PRAGMA user_version, never losing data."""

import pytest

from storage.db import Database, MigrationError, _migrations


async def test_a_new_database_is_migrated_to_the_latest_version(tmp_path):
    db = await Database.open(tmp_path / "new" / "apuri.sqlite3")
    applied = await db.migrate()
    assert applied == [name for _, name, _ in _migrations()]
    assert await db.schema_version() == len(_migrations())
    async with db.connection.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"
    async with db.connection.execute("PRAGMA foreign_keys") as cursor:
        assert (await cursor.fetchone())[0] == 1
    await db.close()


async def test_migrating_again_applies_nothing_and_keeps_data(tmp_path):
    path = tmp_path / "apuri.sqlite3"
    db = await Database.open(path)
    await db.migrate()
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO bot_facts (key, value) VALUES ('k', 'v')")
    await db.close()

    db = await Database.open(path)
    assert await db.migrate() == []
    async with db.connection.execute("SELECT value FROM bot_facts WHERE key = 'k'") as cursor:
        assert (await cursor.fetchone())[0] == "v"
    await db.close()


async def test_a_database_newer_than_the_code_is_refused(tmp_path):
    db = await Database.open(tmp_path / "apuri.sqlite3")
    await db.connection.execute("PRAGMA user_version = 999")
    with pytest.raises(MigrationError, match="newer"):
        await db.migrate()
    await db.close()


async def test_a_failed_transaction_leaves_nothing_behind(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_facts (key, value) VALUES ('half', 'written')")
            raise RuntimeError("boom")
    async with db.connection.execute("SELECT count(*) FROM bot_facts") as cursor:
        assert (await cursor.fetchone())[0] == 0
