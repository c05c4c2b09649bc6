"""Volunteer pairs and the areas people cover, in SQLite."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.pairs import Pair
from bot.domain.people import Person, Role
from storage.db import Database, from_db_time, to_db_time
from storage.people import SqliteOrganisations, SqlitePeople

__all__ = ["SqlitePairs"]

_SELECT_PAIR = "SELECT id, organisation_id, created_at, dissolved_at FROM pairs "


class SqlitePairs:
    """Pairs in SQLite; a person is in at most one current pair (a unique index says so)."""

    def __init__(
        self, db: Database, people: SqlitePeople, organisations: SqliteOrganisations
    ) -> None:
        self._db = db
        self._people = people
        self._organisations = organisations

    async def add(
        self,
        member_ids: tuple[int, ...],
        organisation_id: int | None,
        created_by: int | None,
        at: datetime,
    ) -> Pair:
        """Form a pair of these people."""
        conn = self._db.connection
        cursor = await conn.execute(
            "INSERT INTO pairs (organisation_id, created_by, created_at) VALUES (?, ?, ?)",
            (organisation_id, created_by, to_db_time(at)),
        )
        pair_id = cursor.lastrowid
        assert pair_id is not None
        await conn.executemany(
            "INSERT INTO pair_members (pair_id, person_id) VALUES (?, ?)",
            [(pair_id, member) for member in member_ids],
        )
        pair = await self.get(pair_id)
        assert pair is not None
        return pair

    async def get(self, pair_id: int) -> Pair | None:
        """Return a pair, current or dissolved, with its members and their areas."""
        row = await self._db.fetch_one(_SELECT_PAIR + "WHERE id = ?", (pair_id,))
        return await self._pair(row) if row else None

    async def current(self) -> list[Pair]:
        """Return every current pair, oldest first."""
        rows = await self._db.fetch_all(_SELECT_PAIR + "WHERE dissolved_at IS NULL ORDER BY id")
        return [await self._pair(row) for row in rows]

    async def current_of(self, person_id: int) -> Pair | None:
        """Return the person's current pair."""
        pair_id = await self._db.fetch_value(
            "SELECT pair_id FROM pair_members WHERE person_id = ? AND current = 1", (person_id,)
        )
        return await self.get(int(str(pair_id))) if pair_id is not None else None

    async def dissolve(self, pair_id: int, at: datetime) -> None:
        """End a pair; its members become free to pair again."""
        conn = self._db.connection
        await conn.execute(
            "UPDATE pairs SET dissolved_at = ? WHERE id = ? AND dissolved_at IS NULL",
            (to_db_time(at), pair_id),
        )
        await conn.execute("UPDATE pair_members SET current = 0 WHERE pair_id = ?", (pair_id,))

    async def unpaired(self, role: Role) -> list[Person]:
        """Return the active people with `role` who are in no current pair."""
        people = await self._people.active_with_role(role)
        rows = await self._db.fetch_all("SELECT person_id FROM pair_members WHERE current = 1")
        paired = {row[0] for row in rows}
        return [p for p in people if p.id not in paired]

    async def areas_of(self, person_id: int) -> frozenset[str]:
        """Return the postal-code prefixes the person covers."""
        rows = await self._db.fetch_all(
            "SELECT prefix FROM person_areas WHERE person_id = ?", (person_id,)
        )
        return frozenset(row[0] for row in rows)

    async def set_areas(self, person_id: int, areas: frozenset[str]) -> None:
        """Replace the person's areas; none means everywhere."""
        conn = self._db.connection
        await conn.execute("DELETE FROM person_areas WHERE person_id = ?", (person_id,))
        await conn.executemany(
            "INSERT INTO person_areas (person_id, prefix) VALUES (?, ?)",
            [(person_id, prefix) for prefix in sorted(areas)],
        )

    async def _pair(self, row: aiosqlite.Row) -> Pair:
        member_rows = await self._db.fetch_all(
            "SELECT person_id FROM pair_members WHERE pair_id = ? ORDER BY person_id", (row["id"],)
        )
        members = []
        areas: set[str] = set()
        for member_row in member_rows:
            person = await self._people.get(member_row[0])
            if person is not None:
                members.append(person)
                areas |= await self.areas_of(person.id)
        organisation = (
            await self._organisations.get(row["organisation_id"])
            if row["organisation_id"] is not None
            else None
        )
        return Pair(
            id=row["id"],
            members=tuple(members),
            organisation=organisation,
            created_at=from_db_time(row["created_at"]),
            dissolved_at=from_db_time(row["dissolved_at"]),
            areas=frozenset(areas),
        )
