"""People, their roles and organisations."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.people import Organisation, Person, Role
from storage.db import Database, from_db_time, to_db_time, to_db_time_or_none

__all__ = ["SqliteOrganisations", "SqlitePeople"]

# One row per person: roles folded into a comma list, organisation joined in.
_SELECT_PERSON = """
SELECT p.id, p.telegram_user_id, p.name, p.language, p.active, p.available, p.created_at,
       p.unreachable_since,
       o.id AS organisation_id, o.name AS organisation_name,
       (SELECT group_concat(role) FROM person_roles r WHERE r.person_id = p.id) AS roles
FROM people p
LEFT JOIN organisations o ON o.id = p.organisation_id
"""


def _person(row: aiosqlite.Row) -> Person:
    organisation = (
        Organisation(id=row["organisation_id"], name=row["organisation_name"])
        if row["organisation_id"] is not None
        else None
    )
    roles = frozenset(Role(r) for r in row["roles"].split(",")) if row["roles"] else frozenset()
    created_at = from_db_time(row["created_at"])
    assert created_at is not None
    return Person(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        name=row["name"],
        language=row["language"],
        roles=roles,
        organisation=organisation,
        active=bool(row["active"]),
        available=bool(row["available"]),
        created_at=created_at,
        unreachable_since=from_db_time(row["unreachable_since"]),
    )


class SqlitePeople:
    """People in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, person_id: int) -> Person | None:
        """Return the person with this id."""
        return await self._one(_SELECT_PERSON + "WHERE p.id = ?", (person_id,))

    async def by_telegram_id(self, telegram_user_id: int) -> Person | None:
        """Return the person behind a Telegram user id."""
        return await self._one(_SELECT_PERSON + "WHERE p.telegram_user_id = ?", (telegram_user_id,))

    async def add(
        self,
        *,
        telegram_user_id: int,
        name: str,
        language: str,
        organisation_id: int | None,
        role: Role,
        at: datetime,
    ) -> Person:
        """Register a person with their first role."""
        conn = self._db.connection
        cursor = await conn.execute(
            "INSERT INTO people (telegram_user_id, name, language, organisation_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (telegram_user_id, name, language, organisation_id, to_db_time(at)),
        )
        person_id = cursor.lastrowid
        assert person_id is not None
        await self.grant_role(person_id, role, at)
        person = await self.get(person_id)
        assert person is not None
        return person

    async def page(self, *, offset: int, limit: int) -> list[Person]:
        """Return people ordered active first, then by name."""
        rows = await self._db.fetch_all(
            _SELECT_PERSON + "ORDER BY p.active DESC, p.name COLLATE NOCASE, p.id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_person(row) for row in rows]

    async def count(self) -> int:
        """Return how many people are registered, active or not."""
        return await self._scalar("SELECT count(*) FROM people", ())

    async def count_active_with_role(self, role: Role) -> int:
        """Return how many active people hold `role`."""
        return await self._scalar(
            "SELECT count(*) FROM people p JOIN person_roles r ON r.person_id = p.id"
            " WHERE r.role = ? AND p.active = 1",
            (role.value,),
        )

    async def set_language(self, person_id: int, language: str) -> None:
        """Remember the person's language."""
        await self._db.connection.execute(
            "UPDATE people SET language = ? WHERE id = ?", (language, person_id)
        )

    async def set_active(self, person_id: int, active: bool, at: datetime) -> None:
        """Activate or deactivate a person."""
        await self._db.connection.execute(
            "UPDATE people SET active = ?, deactivated_at = ? WHERE id = ?",
            (int(active), None if active else to_db_time(at), person_id),
        )

    async def set_organisation(self, person_id: int, organisation_id: int | None) -> None:
        """Attach the person to an organisation."""
        await self._db.connection.execute(
            "UPDATE people SET organisation_id = ? WHERE id = ?", (organisation_id, person_id)
        )

    async def grant_role(self, person_id: int, role: Role, at: datetime) -> None:
        """Give the person a role (idempotent)."""
        await self._db.connection.execute(
            "INSERT OR IGNORE INTO person_roles (person_id, role, granted_at) VALUES (?, ?, ?)",
            (person_id, role.value, to_db_time(at)),
        )

    async def revoke_role(self, person_id: int, role: Role) -> None:
        """Take a role away (idempotent)."""
        await self._db.connection.execute(
            "DELETE FROM person_roles WHERE person_id = ? AND role = ?", (person_id, role.value)
        )

    async def set_available(self, person_id: int, available: bool) -> None:
        """Remember whether the person takes offers now."""
        await self._db.connection.execute(
            "UPDATE people SET available = ? WHERE id = ?", (int(available), person_id)
        )

    async def set_unreachable(self, person_id: int, since: datetime | None) -> None:
        """Remember since when the bot cannot reach the person; None: it can again."""
        await self._db.connection.execute(
            "UPDATE people SET unreachable_since = ? WHERE id = ?",
            (to_db_time_or_none(since), person_id),
        )

    async def active_with_role(self, role: Role) -> list[Person]:
        """Return the active people holding `role`, by name."""
        rows = await self._db.fetch_all(
            _SELECT_PERSON + "WHERE p.active = 1 AND EXISTS (SELECT 1 FROM person_roles r"
            " WHERE r.person_id = p.id AND r.role = ?) ORDER BY p.name COLLATE NOCASE, p.id",
            (role.value,),
        )
        return [_person(row) for row in rows]

    async def active(self) -> list[Person]:
        """Return every active person, by name."""
        rows = await self._db.fetch_all(
            _SELECT_PERSON + "WHERE p.active = 1 ORDER BY p.name COLLATE NOCASE, p.id"
        )
        return [_person(row) for row in rows]

    async def active_in_organisation(self, organisation_id: int, role: Role) -> list[Person]:
        """Return the active people of an organisation holding `role`."""
        rows = await self._db.fetch_all(
            _SELECT_PERSON + "WHERE p.active = 1 AND p.organisation_id = ? AND EXISTS (SELECT 1"
            " FROM person_roles r WHERE r.person_id = p.id AND r.role = ?)"
            " ORDER BY p.name COLLATE NOCASE, p.id",
            (organisation_id, role.value),
        )
        return [_person(row) for row in rows]

    async def _one(self, sql: str, params: tuple[object, ...]) -> Person | None:
        row = await self._db.fetch_one(sql, params)
        return _person(row) if row else None

    async def _scalar(self, sql: str, params: tuple[object, ...]) -> int:
        return int(await self._db.fetch_value(sql, params) or 0)


class SqliteOrganisations:
    """Organisations in SQLite; names are unique regardless of case."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_or_add(self, name: str, at: datetime) -> Organisation:
        """Return the organisation of this name, creating it on first use."""
        conn = self._db.connection
        await conn.execute(
            "INSERT INTO organisations (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, to_db_time(at)),
        )
        row = await self._db.fetch_one(
            "SELECT id, name FROM organisations WHERE name = ? COLLATE NOCASE", (name,)
        )
        assert row is not None
        return Organisation(id=row["id"], name=row["name"])

    async def all(self) -> list[Organisation]:
        """Return every organisation by name."""
        rows = await self._db.fetch_all(
            "SELECT id, name FROM organisations ORDER BY name COLLATE NOCASE"
        )
        return [Organisation(id=r["id"], name=r["name"]) for r in rows]

    async def get(self, organisation_id: int) -> Organisation | None:
        """Return one organisation."""
        row = await self._db.fetch_one(
            "SELECT id, name FROM organisations WHERE id = ?", (organisation_id,)
        )
        return Organisation(id=row["id"], name=row["name"]) if row else None
