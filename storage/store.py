"""The SQLite unit of work: every repository over one `Database`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from storage.briefs import SqliteBriefs
from storage.broadcasts import SqliteBroadcasts
from storage.campaigns import SqliteCampaigns
from storage.db import Database, to_db_time
from storage.invites import SqliteInvites
from storage.meetings import SqliteMeetings
from storage.outcomes import SqliteOutcomes
from storage.pairs import SqlitePairs
from storage.people import SqliteOrganisations, SqlitePeople
from storage.residents import SqliteResidents
from storage.tasks import SqliteTasks

__all__ = ["SqliteAudit", "SqliteFacts", "SqliteStore"]


class SqliteAudit:
    """The audit trail: person ids and actions only."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        at: datetime,
        actor_id: int | None,
        action: str,
        subject_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Append one entry."""
        await self._db.connection.execute(
            "INSERT INTO audit_log (at, actor_id, action, subject_id, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            (to_db_time(at), actor_id, action, subject_id, detail),
        )

    async def record_many(
        self, entries: Sequence[tuple[datetime, int | None, str, int | None, str | None]]
    ) -> None:
        """Append entries of (at, actor_id, action, subject_id, detail), in order."""
        stamps = {at: to_db_time(at) for at in {entry[0] for entry in entries}}
        await self._db.connection.executemany(
            "INSERT INTO audit_log (at, actor_id, action, subject_id, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (stamps[at], actor_id, action, subject_id, detail)
                for at, actor_id, action, subject_id, detail in entries
            ],
        )


class SqliteFacts:
    """Small key-value facts the bot keeps about itself."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """Return the value stored under `key`."""
        value = await self._db.fetch_value("SELECT value FROM bot_facts WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def put(self, key: str, value: str) -> None:
        """Store `value` under `key`."""
        await self._db.connection.execute(
            "INSERT INTO bot_facts (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


class SqliteStore:
    """All repositories over one database, with its transaction as the unit of work."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.people = SqlitePeople(db)
        self.organisations = SqliteOrganisations(db)
        self.invites = SqliteInvites(db)
        self.audit = SqliteAudit(db)
        self.facts = SqliteFacts(db)
        self.residents = SqliteResidents(db)
        self.pairs = SqlitePairs(db, self.people, self.organisations)
        self.tasks = SqliteTasks(db)
        self.outcomes = SqliteOutcomes(db)
        self.briefs = SqliteBriefs(db)
        self.meetings = SqliteMeetings(db)
        self.broadcasts = SqliteBroadcasts(db)
        self.campaigns = SqliteCampaigns(db)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the block as one transaction."""
        async with self.db.transaction():
            yield
