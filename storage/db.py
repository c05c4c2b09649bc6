"""The one SQLite connection of the process, its migrations and its transactions.

aiosqlite runs every statement of a connection on one thread, and coroutines sharing the connection
share its transaction. So every write goes through `Database.transaction()`, which holds an asyncio
lock for the whole unit of work: a job and a handler can never interleave half-finished writes.
Reads outside a transaction see committed data plus whatever the current transaction has written.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

__all__ = ["Database", "MigrationError", "from_db_time", "to_db_time"]

log = logging.getLogger(__name__)

_MIGRATIONS_PACKAGE = "storage.migrations"


class MigrationError(Exception):
    """The database is newer than this code, or a migration failed (nothing of it was kept)."""


def to_db_time(moment: datetime) -> str:
    """Return the stored form of an aware datetime: ISO-8601 in UTC."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store aware times only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def to_db_time_or_none(moment: datetime | None) -> str | None:
    """Return the stored form of an optional time (NULL for None)."""
    return None if moment is None else to_db_time(moment)


def from_db_time(value: str | None) -> datetime | None:
    """Return the aware UTC datetime of a stored time."""
    if value is None:
        return None
    return datetime.fromisoformat(value)


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files(_MIGRATIONS_PACKAGE).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


class Database:
    """An open SQLite database with WAL, foreign keys and a busy timeout."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._conn = connection
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) the database at `path`; `:memory:` works for tests."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA synchronous = NORMAL")
        return cls(conn)

    async def close(self) -> None:
        """Close the connection; pending work of an open transaction is rolled back."""
        await self._conn.close()

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
        """Return every row of a query, in one trip to the database thread."""
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> aiosqlite.Row | None:
        """Return the first row of a query, or None."""
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetch_value(self, sql: str, params: tuple[object, ...] = ()) -> object:
        """Return the first column of the first row, or None."""
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    @property
    def connection(self) -> aiosqlite.Connection:
        """Return the raw connection, for repositories in this package."""
        return self._conn

    async def schema_version(self) -> int:
        """Return the number of the last migration applied."""
        return int(await self.fetch_value("PRAGMA user_version") or 0)

    async def migrate(self) -> list[str]:
        """Apply every migration newer than the database, each in its own transaction."""
        migrations = _migrations()
        current = await self.schema_version()
        if current > len(migrations):
            raise MigrationError(
                f"the database is at version {current}, newer than this Apuri "
                f"({len(migrations)}); upgrade Apuri instead"
            )
        applied = []
        for number, name, sql in migrations[current:]:
            async with self._write_lock:
                try:
                    await self._conn.execute("BEGIN IMMEDIATE")
                    for statement in _split_sql(sql):
                        await self._conn.execute(statement)
                    await self._conn.execute(f"PRAGMA user_version = {number:d}")
                    await self._conn.execute("COMMIT")
                except Exception as exc:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise MigrationError(f"migration {name} failed: {exc}") from exc
            log.info("applied migration %s", name)
            applied.append(name)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run a unit of work atomically: commit when the block ends, roll back on error."""
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, so each runs inside the migration's transaction."""
    statements, current = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") or not stripped:
            continue
        current.append(line)
        candidate = "\n".join(current)
        if stripped.endswith(";") and sqlite3.complete_statement(candidate):
            statements.append(candidate)
            current = []
    if current:
        statements.append("\n".join(current))
    return statements
