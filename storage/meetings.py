"""Meetings, their changed occurrences, reminders sent, attendance, groups and digests in SQLite.

`record_reminder` and `record_digest` insert only if the row is not there yet: with the write lock
of `Database.transaction()` the first run to find a reminder due records it, and every later run
(or a restart) sees it recorded and sends nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time

import aiosqlite

from bot.domain.meetings import (
    Audience,
    AudienceKind,
    Change,
    Delivery,
    Group,
    Meeting,
    MeetingSpec,
    Reminder,
)
from bot.domain.people import Role
from bot.domain.schedule import (
    format_offsets,
    parse_offsets,
    weekdays_from_mask,
    weekdays_mask,
)
from storage.db import Database, from_db_time, to_db_time, to_db_time_or_none

__all__ = ["SqliteMeetings"]

_MEETING = (
    "SELECT m.id, m.title, m.weekdays, m.start_minute, m.duration_minutes, m.link, m.place,"
    " m.audience_kind, m.audience_role, m.audience_org_id, m.audience_chat_id, m.offsets,"
    " m.paused, m.created_by, m.created_at, m.updated_at, m.reminders_from,"
    " (SELECT group_concat(person_id) FROM meeting_people p WHERE p.meeting_id = m.id) AS people"
    " FROM meetings m "
)
_DELIVERY = (
    "SELECT d.id, d.kind, d.chat_id, d.person_id, r.meeting_id, r.day, r.due_at"
    " FROM meeting_deliveries d"
    " JOIN meeting_reminders r ON r.id = d.reminder_id "
)


def _meeting(row: aiosqlite.Row) -> Meeting:
    kind = AudienceKind(row["audience_kind"])
    people = tuple(sorted(int(p) for p in str(row["people"]).split(","))) if row["people"] else ()
    audience = Audience(
        kind=kind,
        role=Role(row["audience_role"]) if kind is AudienceKind.ROLE else None,
        organisation_id=row["audience_org_id"] if kind is AudienceKind.ORGANISATION else None,
        people=people if kind is AudienceKind.PEOPLE else (),
        chat_id=row["audience_chat_id"] if kind is AudienceKind.GROUP else None,
    )
    minute = int(row["start_minute"])
    spec = MeetingSpec(
        title=row["title"],
        weekdays=weekdays_from_mask(int(row["weekdays"])),
        start=time(minute // 60, minute % 60),
        duration_minutes=int(row["duration_minutes"]),
        link=row["link"],
        place=row["place"],
        audience=audience,
        offsets=parse_offsets(row["offsets"]),
    )
    created_at = from_db_time(row["created_at"])
    updated_at = from_db_time(row["updated_at"])
    assert created_at is not None and updated_at is not None
    return Meeting(
        id=row["id"],
        spec=spec,
        created_by=row["created_by"],
        created_at=created_at,
        updated_at=updated_at,
        paused=bool(row["paused"]),
        reminders_from=from_db_time(row["reminders_from"]),
    )


def _spec_values(spec: MeetingSpec) -> tuple[object, ...]:
    audience = spec.audience
    return (
        spec.title,
        weekdays_mask(spec.weekdays),
        spec.start.hour * 60 + spec.start.minute,
        spec.duration_minutes,
        spec.link,
        spec.place,
        audience.kind.value,
        audience.role.value if audience.role is not None else None,
        audience.organisation_id,
        audience.chat_id,
        format_offsets(spec.offsets).replace(" ", ""),
    )


_SPEC_COLUMNS = (
    "title, weekdays, start_minute, duration_minutes, link, place, audience_kind, audience_role,"
    " audience_org_id, audience_chat_id, offsets"
)


class SqliteMeetings:
    """Meetings in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- meetings -----------------------------------------------------------------------------

    async def add(self, spec: MeetingSpec, created_by: int, at: datetime) -> Meeting:
        """Store a new meeting and return it."""
        cursor = await self._db.connection.execute(
            f"INSERT INTO meetings ({_SPEC_COLUMNS}, created_by, created_at, updated_at,"
            " reminders_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_spec_values(spec), created_by, to_db_time(at), to_db_time(at), to_db_time(at)),
        )
        meeting_id = cursor.lastrowid
        assert meeting_id is not None
        await self._set_people(meeting_id, spec)
        meeting = await self.get(meeting_id)
        assert meeting is not None
        return meeting

    async def update(self, meeting_id: int, spec: MeetingSpec, at: datetime) -> None:
        """Replace a meeting's fields."""
        assignments = ", ".join(f"{c.strip()} = ?" for c in _SPEC_COLUMNS.split(","))
        await self._db.connection.execute(
            f"UPDATE meetings SET {assignments}, updated_at = ? WHERE id = ?",
            (*_spec_values(spec), to_db_time(at), meeting_id),
        )
        await self._set_people(meeting_id, spec)

    async def set_paused(self, meeting_id: int, paused: bool, at: datetime) -> None:
        """Pause or resume a meeting's reminders."""
        await self._db.connection.execute(
            "UPDATE meetings SET paused = ?, updated_at = ?,"
            " reminders_from = CASE WHEN ? THEN reminders_from ELSE ? END WHERE id = ?",
            (int(paused), to_db_time(at), int(paused), to_db_time(at), meeting_id),
        )

    async def delete(self, meeting_id: int) -> None:
        """Delete a meeting with its changes, reminders and answers."""
        await self._db.connection.execute("DELETE FROM meetings WHERE id = ?", (meeting_id,))

    async def get(self, meeting_id: int) -> Meeting | None:
        """Return the meeting with this id."""
        row = await self._db.fetch_one(_MEETING + "WHERE m.id = ?", (meeting_id,))
        return _meeting(row) if row is not None else None

    async def all(self) -> list[Meeting]:
        """Return every meeting, by title."""
        rows = await self._db.fetch_all(_MEETING + "ORDER BY m.title COLLATE NOCASE, m.id")
        return [_meeting(row) for row in rows]

    async def using_group(self, chat_id: int) -> list[Meeting]:
        """Return the meetings whose attendees are this group chat."""
        rows = await self._db.fetch_all(
            _MEETING + "WHERE m.audience_chat_id = ? ORDER BY m.id", (chat_id,)
        )
        return [_meeting(row) for row in rows]

    async def _set_people(self, meeting_id: int, spec: MeetingSpec) -> None:
        conn = self._db.connection
        await conn.execute("DELETE FROM meeting_people WHERE meeting_id = ?", (meeting_id,))
        await conn.executemany(
            "INSERT INTO meeting_people (meeting_id, person_id) VALUES (?, ?)",
            [(meeting_id, person_id) for person_id in spec.audience.people],
        )

    # --- single occurrences -------------------------------------------------------------------

    async def changes(self, meeting_id: int) -> dict[date, Change]:
        """Return the meeting's cancelled and moved occurrences by their own day."""
        rows = await self._db.fetch_all(
            "SELECT day, moved_to FROM meeting_changes WHERE meeting_id = ?", (meeting_id,)
        )
        return {
            date.fromisoformat(row["day"]): Change(
                day=date.fromisoformat(row["day"]), moved_to=from_db_time(row["moved_to"])
            )
            for row in rows
        }

    async def set_change(
        self, meeting_id: int, change: Change, changed_by: int | None, at: datetime
    ) -> None:
        """Cancel or move one occurrence (a later change of the same day replaces it)."""
        await self._db.connection.execute(
            "INSERT INTO meeting_changes (meeting_id, day, moved_to, changed_by, changed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting_id, day) DO UPDATE SET"
            " moved_to = excluded.moved_to, changed_by = excluded.changed_by,"
            " changed_at = excluded.changed_at",
            (
                meeting_id,
                change.day.isoformat(),
                to_db_time_or_none(change.moved_to),
                changed_by,
                to_db_time(at),
            ),
        )
        # A calendar file made before the change must be told apart (its SEQUENCE grows).
        await self._db.connection.execute(
            "UPDATE meetings SET updated_at = ? WHERE id = ?", (to_db_time(at), meeting_id)
        )

    # --- reminders and deliveries -------------------------------------------------------------

    async def recorded(self, meeting_id: int, since_day: date) -> set[tuple[date, str]]:
        """Return (day, offset key) of the meeting's reminders recorded for days >= since_day.

        Found by the occurrence's day, never by the time it was due: a reminder sent before its
        occurrence was moved (or the meeting's time edited) stays sent at its new time too.
        """
        rows = await self._db.fetch_all(
            "SELECT day, offset_key FROM meeting_reminders WHERE meeting_id = ? AND day >= ?",
            (meeting_id, since_day.isoformat()),
        )
        return {(date.fromisoformat(row["day"]), row["offset_key"]) for row in rows}

    async def record_reminder(self, reminder: Reminder, outcome: str, at: datetime) -> int | None:
        """Record a reminder as sent or skipped; None if it was recorded before."""
        cursor = await self._db.connection.execute(
            "INSERT INTO meeting_reminders"
            " (meeting_id, day, offset_key, due_at, last, outcome, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (meeting_id, day, offset_key) DO NOTHING",
            (
                reminder.occurrence.meeting_id,
                reminder.occurrence.day.isoformat(),
                reminder.offset.key,
                to_db_time(reminder.at),
                int(reminder.last),
                outcome,
                to_db_time(at),
            ),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    async def add_delivery(
        self, reminder_id: int, kind: str, chat_id: int, person_id: int | None
    ) -> None:
        """Plan one delivery of a recorded reminder (a chat gets each kind once)."""
        await self._db.connection.execute(
            "INSERT INTO meeting_deliveries (reminder_id, kind, chat_id, person_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (reminder_id, kind, chat_id) DO NOTHING",
            (reminder_id, kind, chat_id, person_id),
        )

    async def pending(self) -> list[Delivery]:
        """Return every delivery not yet delivered nor given up, oldest reminder first."""
        rows = await self._db.fetch_all(
            _DELIVERY + "WHERE d.delivered_at IS NULL AND d.failed IS NULL"
            " ORDER BY r.due_at, d.kind DESC, d.id"
        )
        return [
            Delivery(
                id=row["id"],
                kind=row["kind"],
                chat_id=row["chat_id"],
                person_id=row["person_id"],
                meeting_id=row["meeting_id"],
                day=date.fromisoformat(row["day"]),
                due_at=from_db_time(row["due_at"]),  # type: ignore[arg-type]
            )
            for row in rows
        ]

    async def delivered(self, delivery_id: int, at: datetime) -> None:
        """Mark a delivery done."""
        await self._db.connection.execute(
            "UPDATE meeting_deliveries SET delivered_at = ? WHERE id = ?",
            (to_db_time(at), delivery_id),
        )

    async def failed(self, delivery_id: int, reason: str) -> None:
        """Mark a delivery given up (blocked, removed from the group, too late)."""
        await self._db.connection.execute(
            "UPDATE meeting_deliveries SET failed = ? WHERE id = ? AND delivered_at IS NULL",
            (reason, delivery_id),
        )

    # --- attendance ---------------------------------------------------------------------------

    async def answer(
        self, meeting_id: int, day: date, person_id: int, attending: bool, at: datetime
    ) -> bool | None:
        """Store a person's answer for one occurrence; return their previous answer."""
        previous = await self._db.fetch_value(
            "SELECT attending FROM meeting_attendance"
            " WHERE meeting_id = ? AND day = ? AND person_id = ?",
            (meeting_id, day.isoformat(), person_id),
        )
        if previous is not None and bool(previous) == attending:
            return attending
        await self._db.connection.execute(
            "INSERT INTO meeting_attendance (meeting_id, day, person_id, attending, answered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting_id, day, person_id) DO UPDATE SET"
            " attending = excluded.attending, answered_at = excluded.answered_at",
            (meeting_id, day.isoformat(), person_id, int(attending), to_db_time(at)),
        )
        return None if previous is None else bool(previous)

    async def attendance(self, meeting_id: int, day: date) -> list[tuple[int, bool]]:
        """Return (person id, attending) of everyone who answered, in the order they answered."""
        rows = await self._db.fetch_all(
            "SELECT person_id, attending FROM meeting_attendance"
            " WHERE meeting_id = ? AND day = ? ORDER BY answered_at, person_id",
            (meeting_id, day.isoformat()),
        )
        return [(row["person_id"], bool(row["attending"])) for row in rows]

    # --- group chats --------------------------------------------------------------------------

    async def group_joined(
        self, chat_id: int, title: str, added_by: int | None, at: datetime
    ) -> None:
        """Remember that the bot is a member of a group chat."""
        await self._db.connection.execute(
            "INSERT INTO telegram_groups (chat_id, title, member, added_by, changed_at)"
            " VALUES (?, ?, 1, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title,"
            " member = 1, added_by = COALESCE(excluded.added_by, added_by),"
            " changed_at = excluded.changed_at",
            (chat_id, title, added_by, to_db_time(at)),
        )

    async def group_left(self, chat_id: int, at: datetime) -> bool:
        """Remember that the bot is no longer in a group; True if it was a member."""
        cursor = await self._db.connection.execute(
            "UPDATE telegram_groups SET member = 0, changed_at = ?"
            " WHERE chat_id = ? AND member = 1",
            (to_db_time(at), chat_id),
        )
        return cursor.rowcount == 1

    async def migrate_group(self, old_chat_id: int, new_chat_id: int, at: datetime) -> bool:
        """Move a group that Telegram upgraded to a supergroup (a new chat id) with its meetings."""
        conn = self._db.connection
        row = await self._db.fetch_one(
            "SELECT title, added_by FROM telegram_groups WHERE chat_id = ?", (old_chat_id,)
        )
        if row is None:
            return False
        await self.group_joined(new_chat_id, row["title"], row["added_by"], at)
        await conn.execute(
            "UPDATE meetings SET audience_chat_id = ? WHERE audience_chat_id = ?",
            (new_chat_id, old_chat_id),
        )
        await conn.execute(
            "UPDATE meeting_deliveries SET chat_id = ? WHERE chat_id = ?"
            " AND delivered_at IS NULL AND failed IS NULL",
            (new_chat_id, old_chat_id),
        )
        await self.group_left(old_chat_id, at)
        return True

    async def group(self, chat_id: int) -> Group | None:
        """Return a group chat the bot knows."""
        row = await self._db.fetch_one(
            "SELECT chat_id, title, member FROM telegram_groups WHERE chat_id = ?",
            (chat_id,),
        )
        return _group(row) if row is not None else None

    async def groups(self) -> list[Group]:
        """Return the group chats the bot is a member of, by title."""
        rows = await self._db.fetch_all(
            "SELECT chat_id, title, member FROM telegram_groups WHERE member = 1"
            " ORDER BY title COLLATE NOCASE, chat_id"
        )
        return [_group(row) for row in rows]

    # --- digests ------------------------------------------------------------------------------

    async def record_digest(self, day: date, outcome: str, at: datetime) -> bool:
        """Record the day's digest as sent or skipped; False if it was recorded before."""
        cursor = await self._db.connection.execute(
            "INSERT INTO digests (day, outcome, at) VALUES (?, ?, ?) ON CONFLICT (day) DO NOTHING",
            (day.isoformat(), outcome, to_db_time(at)),
        )
        return cursor.rowcount == 1

    async def digest_recorded(self, day: date) -> bool:
        """Return whether the day's digest was sent or skipped."""
        value = await self._db.fetch_value(
            "SELECT 1 FROM digests WHERE day = ?", (day.isoformat(),)
        )
        return value is not None


def _group(row: aiosqlite.Row) -> Group:
    return Group(
        chat_id=row["chat_id"],
        title=row["title"],
        member=bool(row["member"]),
    )
