"""Invites (stored by code digest) and the log of wrong codes."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.invites import Invite
from bot.domain.people import Role
from storage.db import Database, from_db_time, to_db_time

__all__ = ["SqliteInvites"]

_COLUMNS = "id, role, name, organisation_id, created_by, created_at, expires_at, used_at, used_by"


def _invite(row: aiosqlite.Row) -> Invite:
    return Invite(
        id=row["id"],
        role=Role(row["role"]),
        name=row["name"],
        organisation_id=row["organisation_id"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        used_at=from_db_time(row["used_at"]),
        used_by=row["used_by"],
    )


class SqliteInvites:
    """Invites in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        *,
        code_hash: str,
        role: Role,
        name: str | None,
        organisation_id: int | None,
        created_by: int | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> Invite:
        """Store a new invite under its code's digest."""
        async with self._db.connection.execute(
            f"INSERT INTO invites (code_hash, role, name, organisation_id, created_by,"
            f" created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (
                code_hash,
                role.value,
                name,
                organisation_id,
                created_by,
                to_db_time(created_at),
                to_db_time(expires_at),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return _invite(row)

    async def by_code_hash(self, code_hash: str) -> Invite | None:
        """Return the invite whose code has this digest."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM invites WHERE code_hash = ?",
            (code_hash,),
        )
        return _invite(row) if row else None

    async def mark_used(self, invite_id: int, person_id: int, at: datetime) -> bool:
        """Mark the invite used by the person, unless it already is; return whether it was."""
        cursor = await self._db.connection.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
            (to_db_time(at), person_id, invite_id),
        )
        return cursor.rowcount == 1

    async def record_failure(self, telegram_user_id: int, at: datetime) -> None:
        """Remember a wrong code from this Telegram user."""
        await self._db.connection.execute(
            "INSERT INTO invite_failures (telegram_user_id, failed_at) VALUES (?, ?)",
            (telegram_user_id, to_db_time(at)),
        )

    async def failures_since(self, telegram_user_id: int, since: datetime) -> list[datetime]:
        """Return the times of this user's wrong codes since `since`."""
        rows = await self._db.fetch_all(
            "SELECT failed_at FROM invite_failures WHERE telegram_user_id = ? AND failed_at >= ?",
            (telegram_user_id, to_db_time(since)),
        )
        return [datetime.fromisoformat(row[0]) for row in rows]

    async def forget_failures_before(self, before: datetime) -> None:
        """Drop wrong-code records too old to matter."""
        await self._db.connection.execute(
            "DELETE FROM invite_failures WHERE failed_at < ?", (to_db_time(before),)
        )
