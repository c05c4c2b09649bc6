"""Residents in SQLite."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.residents import FIELDS, Resident, ResidentInput
from storage.db import Database, from_db_time, to_db_time

__all__ = ["SqliteResidents"]

_COLUMNS = "id, " + ", ".join(FIELDS) + ", created_at, updated_at"


def _folded(name: str) -> str:
    """Return a name folded for search: any case, any letters (ä, å, ö too), single spaces."""
    return " ".join(name.split()).casefold()


def _resident(row: aiosqlite.Row) -> Resident:
    values = {field: row[field] for field in FIELDS}
    return Resident(
        id=row["id"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        **values,
    )


class SqliteResidents:
    """Residents in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, resident_id: int) -> Resident | None:
        """Return one resident."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM residents WHERE id = ?",
            (resident_id,),
        )
        return _resident(row) if row else None

    async def add(self, resident: ResidentInput, match_key: str | None, at: datetime) -> Resident:
        """Store a new resident."""
        values = resident.model_dump()
        placeholders = ", ".join("?" for _ in FIELDS)
        async with self._db.connection.execute(
            f"INSERT INTO residents ({', '.join(FIELDS)}, match_key, name_folded, created_at,"
            f" updated_at) VALUES ({placeholders}, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (
                *(values[f] for f in FIELDS),
                match_key,
                _folded(resident.name),
                to_db_time(at),
                to_db_time(at),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return _resident(row)

    async def update(
        self, resident_id: int, resident: ResidentInput, match_key: str | None, at: datetime
    ) -> None:
        """Replace a resident's values."""
        values = resident.model_dump()
        assignments = ", ".join(f"{field} = ?" for field in FIELDS)
        await self._db.connection.execute(
            f"UPDATE residents SET {assignments}, match_key = ?, name_folded = ?, updated_at = ?"
            " WHERE id = ?",
            (
                *(values[f] for f in FIELDS),
                match_key,
                _folded(resident.name),
                to_db_time(at),
                resident_id,
            ),
        )

    async def by_match_key(self, match_key: str) -> Resident | None:
        """Return the resident with this phone-and-name key."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM residents WHERE match_key = ?",
            (match_key,),
        )
        return _resident(row) if row else None

    async def search(self, text: str, phone: str | None, limit: int) -> list[Resident]:
        """Return residents whose name contains `text`, or whose phone is `phone`."""
        folded = _folded(text)
        pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM residents"
            " WHERE name_folded LIKE ? ESCAPE '\\' OR (? IS NOT NULL AND phone = ?)"
            " ORDER BY name COLLATE NOCASE, id LIMIT ?",
            (pattern, phone, phone, limit),
        )
        return [_resident(row) for row in rows]

    async def count(self) -> int:
        """Return how many residents are stored."""
        return int(await self._db.fetch_value("SELECT count(*) FROM residents") or 0)
