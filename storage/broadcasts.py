"""Broadcasts and their outbox in SQLite.

Every change of a row names the state it expects (`WHERE state = ?`), so a row already moved on
(cancelled while its request was waiting, or finished by another path) is not moved again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from bot.domain.broadcasts import (
    Attachment,
    Audience,
    Broadcast,
    BroadcastKind,
    BroadcastState,
    OutboxRow,
    RowState,
    StopReason,
    Tally,
)
from storage.db import Database, from_db_time, to_db_time

__all__ = ["SqliteBroadcasts"]

_BROADCAST = (
    "SELECT id, kind, author_id, audience, text, attachment, state, stop_reason, stopped_by,"
    " created_at, finished_at, reported_at, progress_chat_id, progress_message_id"
    " FROM broadcasts "
)
_ROW = (
    "SELECT id, broadcast_id, person_id, task_id, pair_id, state, attempts, parts_sent, not_before"
    " FROM outbox "
)


def _broadcast(row: aiosqlite.Row) -> Broadcast:
    created_at = from_db_time(row["created_at"])
    assert created_at is not None
    return Broadcast(
        id=row["id"],
        kind=BroadcastKind(row["kind"]),
        author_id=row["author_id"],
        audience=Audience.model_validate_json(row["audience"]) if row["audience"] else None,
        text=row["text"],
        attachment=Attachment.model_validate_json(row["attachment"]) if row["attachment"] else None,
        state=BroadcastState(row["state"]),
        stop_reason=StopReason(row["stop_reason"]) if row["stop_reason"] else None,
        stopped_by=row["stopped_by"],
        created_at=created_at,
        finished_at=from_db_time(row["finished_at"]),
        reported_at=from_db_time(row["reported_at"]),
        progress_chat_id=row["progress_chat_id"],
        progress_message_id=row["progress_message_id"],
    )


def _row(row: aiosqlite.Row) -> OutboxRow:
    not_before = from_db_time(row["not_before"])
    assert not_before is not None
    return OutboxRow(
        id=row["id"],
        broadcast_id=row["broadcast_id"],
        person_id=row["person_id"],
        task_id=row["task_id"] or None,
        pair_id=row["pair_id"],
        state=RowState(row["state"]),
        attempts=row["attempts"],
        parts_sent=row["parts_sent"],
        not_before=not_before,
    )


class SqliteBroadcasts:
    """Broadcasts and the outbox in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        *,
        kind: BroadcastKind,
        author_id: int,
        audience: Audience | None,
        text: str,
        attachment: Attachment | None,
        at: datetime,
    ) -> Broadcast:
        """Store a new broadcast, in state sending."""
        cursor = await self._db.connection.execute(
            "INSERT INTO broadcasts"
            " (kind, author_id, audience, text, attachment, state, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'sending', ?)",
            (
                kind.value,
                author_id,
                audience.model_dump_json() if audience else None,
                text,
                attachment.model_dump_json() if attachment else None,
                to_db_time(at),
            ),
        )
        assert cursor.lastrowid is not None
        broadcast = await self.get(cursor.lastrowid)
        assert broadcast is not None
        return broadcast

    async def add_rows(
        self, broadcast_id: int, rows: Iterable[tuple[int, int | None, int | None]], at: datetime
    ) -> int:
        """Queue one row per (person, task, pair); return how many were queued."""
        moment = to_db_time(at)
        values = [
            (broadcast_id, person_id, task_id or 0, pair_id, moment, moment)
            for person_id, task_id, pair_id in rows
        ]
        await self._db.connection.executemany(
            "INSERT OR IGNORE INTO outbox"
            " (broadcast_id, person_id, task_id, pair_id, not_before, changed_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            values,
        )
        return len(values)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """Return the broadcast with this id."""
        row = await self._db.fetch_one(_BROADCAST + "WHERE id = ?", (broadcast_id,))
        return _broadcast(row) if row else None

    async def unreported(self) -> list[Broadcast]:
        """Return the broadcasts whose final report has not been handed over yet."""
        rows = await self._db.fetch_all(_BROADCAST + "WHERE reported_at IS NULL ORDER BY id")
        return [_broadcast(row) for row in rows]

    async def recent(self, limit: int) -> list[Broadcast]:
        """Return the latest broadcasts, newest first."""
        rows = await self._db.fetch_all(_BROADCAST + "ORDER BY id DESC LIMIT ?", (limit,))
        return [_broadcast(row) for row in rows]

    async def set_progress(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """Remember the message that shows the broadcast's progress."""
        await self._db.connection.execute(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, broadcast_id),
        )

    async def end(
        self,
        broadcast_id: int,
        state: BroadcastState,
        at: datetime,
        *,
        reason: StopReason | None = None,
        by: int | None = None,
    ) -> bool:
        """End a sending broadcast; False if it had ended already."""
        cursor = await self._db.connection.execute(
            "UPDATE broadcasts SET state = ?, finished_at = ?, stop_reason = ?, stopped_by = ?"
            " WHERE id = ? AND state = 'sending'",
            (state.value, to_db_time(at), reason.value if reason else None, by, broadcast_id),
        )
        return cursor.rowcount == 1

    async def mark_reported(self, broadcast_id: int, at: datetime) -> bool:
        """Note that the report was handed over; False if it had been already."""
        cursor = await self._db.connection.execute(
            "UPDATE broadcasts SET reported_at = ? WHERE id = ? AND reported_at IS NULL",
            (to_db_time(at), broadcast_id),
        )
        return cursor.rowcount == 1

    async def unmark_reported(self, broadcast_id: int) -> None:
        """Hand the report over again (the last try failed)."""
        await self._db.connection.execute(
            "UPDATE broadcasts SET reported_at = NULL WHERE id = ?", (broadcast_id,)
        )

    async def row(self, row_id: int) -> OutboxRow | None:
        """Return one outbox row."""
        row = await self._db.fetch_one(_ROW + "WHERE id = ?", (row_id,))
        return _row(row) if row else None

    async def due(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """Return (row id, Telegram chat id) of pending rows due by `now`, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT o.id, p.telegram_user_id FROM outbox o JOIN people p ON p.id = o.person_id"
            " WHERE o.state = 'pending' AND o.not_before <= ? ORDER BY o.not_before, o.id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [(int(row[0]), int(row[1])) for row in rows]

    async def move(
        self,
        row_id: int,
        expected: RowState,
        state: RowState,
        at: datetime,
        *,
        attempts: int | None = None,
        parts_sent: int | None = None,
        not_before: datetime | None = None,
        error: str | None = None,
    ) -> bool:
        """Move a row from `expected` to `state`; False (and no change) if it was not there."""
        cursor = await self._db.connection.execute(
            "UPDATE outbox SET state = ?, changed_at = ?,"
            " attempts = coalesce(?, attempts), parts_sent = coalesce(?, parts_sent),"
            " not_before = coalesce(?, not_before), error = coalesce(?, error)"
            " WHERE id = ? AND state = ?",
            (
                state.value,
                to_db_time(at),
                attempts,
                parts_sent,
                to_db_time(not_before) if not_before else None,
                error,
                row_id,
                expected.value,
            ),
        )
        return cursor.rowcount == 1

    async def cancel_pending(self, broadcast_id: int, at: datetime) -> list[OutboxRow]:
        """Cancel the rows not yet sent; return them (now cancelled)."""
        rows = await self._db.fetch_all(
            "UPDATE outbox SET state = 'cancelled', changed_at = ?"
            " WHERE broadcast_id = ? AND state = 'pending'"
            " RETURNING id, broadcast_id, person_id, task_id, pair_id, state, attempts,"
            " parts_sent, not_before",
            (to_db_time(at), broadcast_id),
        )
        return [_row(row) for row in rows]

    async def abandon_in_flight(self, at: datetime) -> int:
        """Mark every row left `sending` by a hard stop `uncertain`; return how many."""
        cursor = await self._db.connection.execute(
            "UPDATE outbox SET state = 'uncertain', changed_at = ?, error = 'stopped'"
            " WHERE state = 'sending'",
            (to_db_time(at),),
        )
        return cursor.rowcount

    async def tally(self, broadcast_id: int) -> Tally:
        """Count the broadcast's rows by state."""
        rows = await self._db.fetch_all(
            "SELECT state, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        )
        return Tally({RowState(row[0]): int(row[1]) for row in rows})

    async def people_in(
        self, broadcast_id: int, states: frozenset[RowState]
    ) -> dict[int, RowState]:
        """Return the people whose rows ended in one of `states` (the last such row each)."""
        marks = ", ".join("?" for _ in states)
        rows = await self._db.fetch_all(
            f"SELECT person_id, state FROM outbox WHERE broadcast_id = ? AND state IN ({marks})"
            " ORDER BY id",
            (broadcast_id, *sorted(s.value for s in states)),
        )
        return {int(row[0]): RowState(row[1]) for row in rows}

    async def pairs_reached(self, broadcast_id: int, task_id: int) -> set[int]:
        """Return the pairs to whom a row about the task was sent or may be on its way."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT pair_id FROM outbox WHERE broadcast_id = ? AND task_id = ?"
            " AND state IN ('pending', 'sending', 'sent', 'uncertain')",
            (broadcast_id, task_id),
        )
        return {int(row[0]) for row in rows if row[0] is not None}
