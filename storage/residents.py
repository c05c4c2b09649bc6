"""Residents in SQLite.

`import_many` writes a whole import file in a handful of statements, and must end exactly where
applying its rows one by one (`by_match_key`, then `add` or an `update` of the file's columns)
would: same values, same ids. It merges the rows of each phone-and-name key in Python (the first
row's values, overlaid with the last row's values of the file's columns), stages one row per key
and one per row without a phone in a temporary table, updates the residents whose key exists,
and inserts the others in file order with the ids SQLite would have given them one by one (the
largest id plus one, then plus two, ...: `residents.id` has no AUTOINCREMENT).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter

import aiosqlite

from bot.domain.residents import FIELDS, Resident, ResidentInput, match_key
from storage.db import Database, from_db_time, to_db_time

__all__ = ["SqliteResidents"]

_COLUMNS = "id, " + ", ".join(FIELDS) + ", created_at, updated_at, no_calls_since"
_values_of = attrgetter(*FIELDS)
# Per connection, and created inside the caller's transaction: a rollback removes it too.
_STAGE = "temp.resident_import"


def _folded(name: str) -> str:
    """Return a name folded for search: any case, any letters (ä, å, ö too), single spaces."""
    return " ".join(name.split()).casefold()


def _resident(row: aiosqlite.Row) -> Resident:
    values = {field: row[field] for field in FIELDS}
    return Resident(
        id=row["id"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        no_calls_since=from_db_time(row["no_calls_since"]),
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

    async def import_many(
        self, rows: Sequence[ResidentInput], only: frozenset[str], at: datetime
    ) -> list[tuple[int, bool]]:
        """Add or update every row as if one by one; return each row's (resident id, created).

        A row whose phone-and-name key is stored updates that resident's `only` fields; a row
        with a new key adds a resident, which later rows of the same key update; a row without a
        phone always adds one. Runs inside the caller's transaction.
        """
        if not rows:
            return []
        # One staged row per key (at the key's first row) and one per row without a phone.
        stage_of: list[int] = []  # the staged row of each input row
        first_of_key: dict[str, int] = {}
        staged: list[list[object]] = []
        only_indexes = [i for i, field in enumerate(FIELDS) if field in only]
        for row in rows:
            values = list(_values_of(row))
            key = match_key(row.name, row.phone)
            seq = first_of_key.get(key) if key is not None else None
            if seq is None:
                seq = len(staged)
                if key is not None:
                    first_of_key[key] = seq
                staged.append([seq, *values, key, _folded(row.name)])
            else:
                merged = staged[seq]
                for i in only_indexes:
                    merged[1 + i] = values[i]
            stage_of.append(seq)

        conn = self._db.connection
        stamp = to_db_time(at)
        columns = ", ".join(FIELDS)
        await conn.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        await conn.execute(
            f"CREATE TABLE {_STAGE} (seq INTEGER PRIMARY KEY, {columns}, match_key, name_folded,"
            " resident_id INTEGER, created INTEGER NOT NULL DEFAULT 0)"
        )
        await conn.executemany(
            f"INSERT INTO {_STAGE} (seq, {columns}, match_key, name_folded)"
            f" VALUES ({', '.join('?' for _ in range(len(FIELDS) + 3))})",
            staged,
        )
        await conn.execute(
            f"UPDATE {_STAGE} SET resident_id = r.id FROM residents AS r"
            f" WHERE r.match_key = {_STAGE}.match_key"
        )
        # The rows of a key share its folded name, so `name_folded` is the key's whichever row or
        # stored name it is folded from; like `update`, write it and the key anyway.
        assignments = [f"{field} = s.{field}" for field in FIELDS if field in only]
        assignments += ["match_key = s.match_key", "name_folded = s.name_folded", "updated_at = ?"]
        await conn.execute(
            f"UPDATE residents SET {', '.join(assignments)} FROM {_STAGE} AS s"
            " WHERE s.resident_id = residents.id",
            (stamp,),
        )
        await conn.execute(
            f"UPDATE {_STAGE} SET created = 1, resident_id = n.id FROM ("
            " SELECT seq, (SELECT coalesce(max(id), 0) FROM residents)"
            "  + row_number() OVER (ORDER BY seq) AS id"
            f" FROM {_STAGE} WHERE resident_id IS NULL) AS n"
            f" WHERE {_STAGE}.seq = n.seq"
        )
        await conn.execute(
            f"INSERT INTO residents (id, {columns}, match_key, name_folded, created_at,"
            f" updated_at) SELECT resident_id, {columns}, match_key, name_folded, ?, ?"
            f" FROM {_STAGE} WHERE created = 1 ORDER BY seq",
            (stamp, stamp),
        )
        outcome = await conn.execute_fetchall(
            f"SELECT resident_id, created FROM {_STAGE} ORDER BY seq"
        )
        await conn.execute(f"DROP TABLE {_STAGE}")
        ids = [(int(resident_id), bool(created)) for resident_id, created in outcome]
        result: list[tuple[int, bool]] = []
        seen: set[int] = set()
        for seq in stage_of:
            resident_id, created = ids[seq]
            result.append((resident_id, created and seq not in seen))
            seen.add(seq)
        return result

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
