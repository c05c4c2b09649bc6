"""Tasks, their history, offers to pairs and the messages that show them, in SQLite.

`save` writes a task only if it is still in the state the caller read (`expected_state`): together
with the write lock of `Database.transaction()` this makes the first accept win and every later
one see the new state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite

from bot.domain.tasks import (
    FINISHED,
    HELD,
    UNFINISHED,
    Action,
    Holder,
    MessageKind,
    Priority,
    Task,
    TaskEvent,
    TaskKind,
    TaskMessage,
    TaskState,
    UnfinishedReason,
)
from storage.db import Database, from_db_time, to_db_time, to_db_time_or_none

__all__ = ["SqliteTasks"]

_COLUMNS = (
    "id, resident_id, kind, details, window_start, window_end, priority, state, holder_pair_id,"
    " holder_person_id, holder_organisation_id, created_by, created_at, offered_at, reminded_at,"
    " overdue_reported_at, closed_at, reason, note, follows_id, cause"
)
_SELECT = f"SELECT {_COLUMNS} FROM tasks "


def _task(row: aiosqlite.Row) -> Task:
    return Task(
        id=row["id"],
        resident_id=row["resident_id"],
        kind=TaskKind(row["kind"]),
        details=row["details"],
        window_start=from_db_time(row["window_start"]),
        window_end=from_db_time(row["window_end"]),
        priority=Priority(row["priority"]),
        state=TaskState(row["state"]),
        holder=Holder(
            pair_id=row["holder_pair_id"],
            person_id=row["holder_person_id"],
            organisation_id=row["holder_organisation_id"],
        ),
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        offered_at=from_db_time(row["offered_at"]),
        reminded_at=from_db_time(row["reminded_at"]),
        overdue_reported_at=from_db_time(row["overdue_reported_at"]),
        closed_at=from_db_time(row["closed_at"]),
        reason=UnfinishedReason(row["reason"]) if row["reason"] else None,
        note=row["note"],
        follows_id=row["follows_id"],
        cause=row["cause"],
    )


def _message(row: aiosqlite.Row) -> TaskMessage:
    return TaskMessage(
        chat_id=row[0],
        message_id=row[1],
        task_id=row[2],
        person_id=row[3],
        kind=MessageKind(row[4]),
    )


def _marks(states: frozenset[TaskState]) -> tuple[str, tuple[str, ...]]:
    values = tuple(sorted(s.value for s in states))
    return ", ".join("?" for _ in values), values


class SqliteTasks:
    """Tasks in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        *,
        resident_id: int,
        kind: TaskKind,
        details: str,
        window_start: datetime,
        window_end: datetime,
        priority: Priority,
        created_by: int | None,
        at: datetime,
        follows_id: int | None = None,
        cause: str | None = None,
    ) -> Task:
        """Store a new, open task (a follow-up names the task it follows, and why)."""
        async with self._db.connection.execute(
            "INSERT INTO tasks (resident_id, kind, details, window_start, window_end, priority,"
            " state, created_by, created_at, follows_id, cause)"
            " VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)"
            f" RETURNING {_COLUMNS}",
            (
                resident_id,
                kind.value,
                details,
                to_db_time(window_start),
                to_db_time(window_end),
                priority.value,
                created_by,
                to_db_time(at),
                follows_id,
                cause,
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return _task(row)

    async def add_held(
        self,
        holders: Sequence[tuple[int, int]],
        *,
        kind: TaskKind,
        window_start: datetime,
        window_end: datetime,
        at: datetime,
    ) -> dict[int, Task]:
        """Store tasks created and assigned at once (campaign calls), one per (resident, person),
        with their two history rows; return them by holder. Two statements, however many."""
        if not holders:
            return {}
        values = ", ".join("(?, ?, '', ?, ?, 'normal', 'accepted', ?, ?, ?, ?)" for _ in holders)
        params: list[object] = []
        for resident_id, person_id in holders:
            params += [
                resident_id,
                kind.value,
                to_db_time(window_start),
                to_db_time(window_end),
                person_id,
                person_id,
                to_db_time(at),
                to_db_time(at),
            ]
        rows = await self._db.fetch_all(
            "INSERT INTO tasks (resident_id, kind, details, window_start, window_end, priority,"
            " state, holder_person_id, created_by, created_at, reminded_at)"
            f" VALUES {values} RETURNING {_COLUMNS}",
            tuple(params),
        )
        tasks = {task.holder.person_id: task for task in map(_task, rows)}
        stamp = to_db_time(at)
        await self._db.connection.executemany(
            "INSERT INTO task_events (task_id, at, actor_id, action, from_state, to_state)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                row
                for task in tasks.values()
                for row in (
                    (task.id, stamp, task.created_by, "create", None, "open"),
                    (task.id, stamp, task.created_by, "assign", "open", task.state.value),
                )
            ],
        )
        return {person_id: task for person_id, task in tasks.items() if person_id is not None}

    async def get(self, task_id: int) -> Task | None:
        """Return one task."""
        row = await self._db.fetch_one(_SELECT + "WHERE id = ?", (task_id,))
        return _task(row) if row else None

    async def save(self, task: Task, expected_state: TaskState) -> bool:
        """Write the task's mutable fields if it is still in `expected_state`."""
        cursor = await self._db.connection.execute(
            "UPDATE tasks SET state = ?, holder_pair_id = ?, holder_person_id = ?,"
            " holder_organisation_id = ?, offered_at = ?, reminded_at = ?, overdue_reported_at = ?,"
            " closed_at = ?, reason = ?, note = ?, window_start = ?, window_end = ?"
            " WHERE id = ? AND state = ?",
            (
                task.state.value,
                task.holder.pair_id,
                task.holder.person_id,
                task.holder.organisation_id,
                to_db_time_or_none(task.offered_at),
                to_db_time_or_none(task.reminded_at),
                to_db_time_or_none(task.overdue_reported_at),
                to_db_time_or_none(task.closed_at),
                task.reason.value if task.reason else None,
                task.note,
                to_db_time(task.window_start),
                to_db_time(task.window_end),
                task.id,
                expected_state.value,
            ),
        )
        return cursor.rowcount == 1

    async def record_event(self, task_id: int, event: TaskEvent) -> None:
        """Append one transition to the task's history."""
        await self._db.connection.execute(
            "INSERT INTO task_events (task_id, at, actor_id, action, from_state, to_state, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                task_id,
                to_db_time(event.at),
                event.actor_id,
                event.action.value,
                event.from_state.value if event.from_state else None,
                event.to_state.value,
                event.detail,
            ),
        )

    async def events(self, task_id: int) -> list[TaskEvent]:
        """Return the task's history, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT at, actor_id, action, from_state, to_state, detail FROM task_events"
            " WHERE task_id = ? ORDER BY id",
            (task_id,),
        )
        return [
            TaskEvent(
                at=from_db_time(row["at"]),
                actor_id=row["actor_id"],
                action=Action(row["action"]),
                from_state=TaskState(row["from_state"]) if row["from_state"] else None,
                to_state=TaskState(row["to_state"]),
                detail=row["detail"],
            )
            for row in rows
        ]

    async def in_states(self, states: frozenset[TaskState], limit: int) -> list[Task]:
        """Return tasks in any of `states`, by window start."""
        marks, values = _marks(states)
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE state IN ({marks}) ORDER BY window_start, id LIMIT ?",
            (*values, limit),
        )
        return [_task(row) for row in rows]

    async def count_by_state(self) -> dict[TaskState, int]:
        """Return how many tasks are in each state."""
        rows = await self._db.fetch_all("SELECT state, count(*) FROM tasks GROUP BY state")
        return {TaskState(row[0]): int(row[1]) for row in rows}

    async def of_resident(self, resident_id: int) -> list[Task]:
        """Return a resident's tasks, newest first."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE resident_id = ? ORDER BY created_at DESC, id DESC", (resident_id,)
        )
        return [_task(row) for row in rows]

    async def held_by(
        self, *, person_id: int, pair_ids: list[int], organisation_id: int | None
    ) -> list[Task]:
        """Return the accepted and started tasks held by the person, their pairs or organisation."""
        marks, values = _marks(HELD)
        pair_marks = ", ".join("?" for _ in pair_ids) or "NULL"
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE state IN ({marks}) AND (holder_person_id = ?"
            f" OR holder_pair_id IN ({pair_marks}) OR holder_organisation_id = ?)"
            " ORDER BY window_start, id",
            (*values, person_id, *pair_ids, organisation_id),
        )
        return [_task(row) for row in rows]

    async def held_by_person_or_pairs(self, person_id: int) -> list[Task]:
        """Return the unfinished tasks held by the person or by any pair they were in."""
        marks, values = _marks(HELD)
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE state IN ({marks}) AND (holder_person_id = ? OR holder_pair_id IN"
            " (SELECT pair_id FROM pair_members WHERE person_id = ?)) ORDER BY id",
            (*values, person_id, person_id),
        )
        return [_task(row) for row in rows]

    async def add_offer(self, task_id: int, pair_id: int, at: datetime) -> None:
        """Offer the task to a pair (again: a re-offer makes it pending anew)."""
        await self._db.connection.execute(
            "INSERT INTO offers (task_id, pair_id, status, offered_at) VALUES (?, ?, 'pending', ?)"
            " ON CONFLICT (task_id, pair_id) DO UPDATE SET status = 'pending',"
            " offered_at = excluded.offered_at, answered_at = NULL, answered_by = NULL",
            (task_id, pair_id, to_db_time(at)),
        )

    async def offer_status(self, task_id: int, pair_id: int) -> str | None:
        """Return the status of the task's offer to a pair, or None if none was made."""
        value = await self._db.fetch_value(
            "SELECT status FROM offers WHERE task_id = ? AND pair_id = ?", (task_id, pair_id)
        )
        return None if value is None else str(value)

    async def pending_pairs(self, task_id: int) -> list[int]:
        """Return the pairs whose offer of the task is still pending."""
        rows = await self._db.fetch_all(
            "SELECT pair_id FROM offers WHERE task_id = ? AND status = 'pending' ORDER BY pair_id",
            (task_id,),
        )
        return [int(row[0]) for row in rows]

    async def answer_offer(
        self, task_id: int, pair_id: int, status: str, at: datetime, by: int | None
    ) -> None:
        """Record a pair's answer to an offer."""
        await self._db.connection.execute(
            "UPDATE offers SET status = ?, answered_at = ?, answered_by = ?"
            " WHERE task_id = ? AND pair_id = ?",
            (status, to_db_time(at), by, task_id, pair_id),
        )

    async def withdraw_offers(self, task_id: int, at: datetime) -> None:
        """Withdraw every pending offer of the task."""
        await self._db.connection.execute(
            "UPDATE offers SET status = 'withdrawn', answered_at = ?"
            " WHERE task_id = ? AND status = 'pending'",
            (to_db_time(at), task_id),
        )

    async def withdraw_offers_to_pair(self, pair_id: int, at: datetime) -> list[int]:
        """Withdraw a pair's pending offers; return the tasks they were for."""
        rows = await self._db.fetch_all(
            "UPDATE offers SET status = 'withdrawn', answered_at = ?"
            " WHERE pair_id = ? AND status = 'pending' RETURNING task_id",
            (to_db_time(at), pair_id),
        )
        return sorted(int(row[0]) for row in rows)

    async def remember_message(self, message: TaskMessage) -> None:
        """Remember a chat message that shows a task."""
        await self._db.connection.execute(
            "INSERT INTO task_messages (chat_id, message_id, task_id, person_id, kind)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE SET"
            " task_id = excluded.task_id, person_id = excluded.person_id, kind = excluded.kind",
            (
                message.chat_id,
                message.message_id,
                message.task_id,
                message.person_id,
                message.kind.value,
            ),
        )

    async def messages(self, task_id: int) -> list[TaskMessage]:
        """Return the messages that show the task."""
        rows = await self._db.fetch_all(
            "SELECT chat_id, message_id, task_id, person_id, kind FROM task_messages"
            " WHERE task_id = ? ORDER BY chat_id, message_id",
            (task_id,),
        )
        return [_message(row) for row in rows]

    async def messages_of_finished(self) -> list[TaskMessage]:
        """Return messages still remembered for finished tasks (cards not scrubbed yet)."""
        marks, values = _marks(FINISHED)
        rows = await self._db.fetch_all(
            "SELECT m.chat_id, m.message_id, m.task_id, m.person_id, m.kind FROM task_messages m"
            f" JOIN tasks t ON t.id = m.task_id WHERE t.state IN ({marks})"
            " ORDER BY m.chat_id, m.message_id",
            values,
        )
        return [_message(row) for row in rows]

    async def forget_messages(self, task_id: int, person_ids: list[int] | None) -> None:
        """Forget the task's messages (of some people only, when given)."""
        if person_ids is None:
            await self._db.connection.execute(
                "DELETE FROM task_messages WHERE task_id = ?", (task_id,)
            )
            return
        await self._db.connection.executemany(
            "DELETE FROM task_messages WHERE task_id = ? AND person_id = ?",
            [(task_id, person_id) for person_id in person_ids],
        )

    async def offers_older_than(self, cutoff: datetime) -> list[Task]:
        """Return offered tasks that nobody accepted since `cutoff` or earlier."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE state = 'offered' AND offered_at <= ? ORDER BY offered_at, id",
            (to_db_time(cutoff),),
        )
        return [_task(row) for row in rows]

    async def reminders_due(self, now: datetime, lead: timedelta) -> list[Task]:
        """Return held tasks whose window opens within `lead`, not reminded yet."""
        marks, values = _marks(HELD)
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE state IN ({marks}) AND reminded_at IS NULL"
            " AND window_start <= ? AND window_start > ? ORDER BY window_start, id",
            (*values, to_db_time(now + lead), to_db_time(now)),
        )
        return [_task(row) for row in rows]

    async def overdue(self, now: datetime) -> list[Task]:
        """Return unfinished tasks past their window that were not reported yet."""
        marks, values = _marks(UNFINISHED)
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE state IN ({marks}) AND overdue_reported_at IS NULL"
            " AND window_end <= ? ORDER BY window_end, id",
            (*values, to_db_time(now)),
        )
        return [_task(row) for row in rows]
