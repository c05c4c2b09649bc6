"""Form drafts, submitted outcomes, referrals and crisis alerts, in SQLite.

`save_draft` and `save_referral` write only if the row is still as the caller read it (the draft's
revision, the referral's state): with the write lock of `Database.transaction()` a double tap or two
partners pressing at once change it once.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.reports import AlertRecord, Draft, OutcomeRecord, ReferralRecord, ReferralState
from storage.db import Database, from_db_time, to_db_time, to_db_time_or_none

__all__ = ["SqliteOutcomes"]

_DRAFT = (
    "SELECT id, task_id, person_id, form_id, form_version, progress, revision, chat_id,"
    " message_id, alerted_at, created_at, updated_at, reminded_at FROM form_drafts "
)
_OUTCOME = (
    "SELECT id, task_id, resident_id, form_id, form_version, answers, decision, submitted_by,"
    " submitted_at FROM outcomes "
)
_REFERRAL = (
    "SELECT id, resident_id, task_id, outcome_id, kind, consent, state, organisation_id, taken_by,"
    " created_at, taken_at, closed_at FROM referrals "
)


_NEXT_SEQ = "(SELECT COALESCE(MAX(active_seq), 0) + 1 FROM form_drafts)"


def _draft(row: aiosqlite.Row) -> Draft:
    return Draft(
        id=row["id"],
        task_id=row["task_id"],
        person_id=row["person_id"],
        form_id=row["form_id"],
        form_version=row["form_version"],
        progress=row["progress"],
        revision=row["revision"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        alerted_at=from_db_time(row["alerted_at"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        reminded_at=from_db_time(row["reminded_at"]),
    )


def _outcome(row: aiosqlite.Row) -> OutcomeRecord:
    return OutcomeRecord(
        id=row["id"],
        task_id=row["task_id"],
        resident_id=row["resident_id"],
        form_id=row["form_id"],
        form_version=row["form_version"],
        answers=row["answers"],
        decision=row["decision"],
        submitted_by=row["submitted_by"],
        submitted_at=from_db_time(row["submitted_at"]),
    )


def _referral(row: aiosqlite.Row) -> ReferralRecord:
    return ReferralRecord(
        id=row["id"],
        resident_id=row["resident_id"],
        task_id=row["task_id"],
        outcome_id=row["outcome_id"],
        kind=row["kind"],
        consent=bool(row["consent"]),
        state=ReferralState(row["state"]),
        organisation_id=row["organisation_id"],
        taken_by=row["taken_by"],
        created_at=from_db_time(row["created_at"]),
        taken_at=from_db_time(row["taken_at"]),
        closed_at=from_db_time(row["closed_at"]),
    )


def _alert(row: aiosqlite.Row) -> AlertRecord:
    return AlertRecord(
        id=row[0], task_id=row[1], resident_id=row[2], raised_by=row[3], at=from_db_time(row[4])
    )


class SqliteOutcomes:
    """Drafts, outcomes, referrals and alerts in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- drafts ---------------------------------------------------------------------------------

    async def add_draft(
        self,
        *,
        task_id: int,
        person_id: int,
        form_id: str,
        form_version: int,
        progress: str,
        at: datetime,
    ) -> Draft:
        """Store a new draft (one per task: a second raises sqlite3.IntegrityError)."""
        async with self._db.connection.execute(
            "INSERT INTO form_drafts (task_id, person_id, form_id, form_version, progress,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (task_id, person_id, form_id, form_version, progress, to_db_time(at), to_db_time(at)),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        draft = await self.draft(row[0])
        assert draft is not None
        return draft

    async def draft(self, draft_id: int) -> Draft | None:
        """Return one draft."""
        row = await self._db.fetch_one(_DRAFT + "WHERE id = ?", (draft_id,))
        return _draft(row) if row else None

    async def draft_of_task(self, task_id: int) -> Draft | None:
        """Return the draft of a task, if someone is filling in its form."""
        row = await self._db.fetch_one(_DRAFT + "WHERE task_id = ?", (task_id,))
        return _draft(row) if row else None

    async def drafts_of(self, person_id: int) -> list[Draft]:
        """Return a person's drafts, the one they worked on last (answered or shown) first."""
        rows = await self._db.fetch_all(
            _DRAFT + "WHERE person_id = ? ORDER BY active_seq DESC, id DESC", (person_id,)
        )
        return [_draft(row) for row in rows]

    async def save_draft(
        self, draft_id: int, expected_revision: int, progress: str, at: datetime
    ) -> bool:
        """Write a step if the draft is still at `expected_revision`; the revision grows by one."""
        cursor = await self._db.connection.execute(
            "UPDATE form_drafts SET progress = ?, revision = revision + 1, updated_at = ?,"
            f" reminded_at = NULL, active_seq = {_NEXT_SEQ} WHERE id = ? AND revision = ?",
            (progress, to_db_time(at), draft_id, expected_revision),
        )
        return cursor.rowcount == 1

    async def set_prompt(self, draft_id: int, chat_id: int | None, message_id: int | None) -> None:
        """Remember the message that asks the current question; the draft becomes the active one."""
        await self._db.connection.execute(
            f"UPDATE form_drafts SET chat_id = ?, message_id = ?, active_seq = {_NEXT_SEQ}"
            " WHERE id = ?",
            (chat_id, message_id, draft_id),
        )

    async def mark_alerted(self, draft_id: int, at: datetime) -> None:
        """Record that the coordinators were alerted from this draft."""
        await self._db.connection.execute(
            "UPDATE form_drafts SET alerted_at = ? WHERE id = ?", (to_db_time(at), draft_id)
        )

    async def mark_reminded(self, draft_id: int, at: datetime) -> None:
        """Record that the owner was reminded of the draft."""
        await self._db.connection.execute(
            "UPDATE form_drafts SET reminded_at = ? WHERE id = ?", (to_db_time(at), draft_id)
        )

    async def delete_draft(self, draft_id: int) -> None:
        """Forget a draft (submitted, cancelled or expired)."""
        await self._db.connection.execute("DELETE FROM form_drafts WHERE id = ?", (draft_id,))

    async def drafts_to_remind(self, idle_since: datetime) -> list[Draft]:
        """Return drafts untouched since `idle_since` whose owner was not reminded yet."""
        rows = await self._db.fetch_all(
            _DRAFT + "WHERE updated_at <= ? AND reminded_at IS NULL ORDER BY id",
            (to_db_time(idle_since),),
        )
        return [_draft(row) for row in rows]

    async def drafts_to_expire(self, idle_since: datetime) -> list[Draft]:
        """Return drafts untouched since `idle_since`."""
        rows = await self._db.fetch_all(
            _DRAFT + "WHERE updated_at <= ? ORDER BY id", (to_db_time(idle_since),)
        )
        return [_draft(row) for row in rows]

    # --- outcomes -------------------------------------------------------------------------------

    async def add_outcome(
        self,
        *,
        task_id: int,
        resident_id: int,
        form_id: str,
        form_version: int,
        answers: str,
        decision: str,
        submitted_by: int | None,
        at: datetime,
    ) -> int:
        """Store a submitted form; return its id."""
        async with self._db.connection.execute(
            "INSERT INTO outcomes (task_id, resident_id, form_id, form_version, answers, decision,"
            " submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                task_id,
                resident_id,
                form_id,
                form_version,
                answers,
                decision,
                submitted_by,
                to_db_time(at),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def outcomes_of_task(self, task_id: int) -> list[OutcomeRecord]:
        """Return a task's outcomes, oldest first (a phone check has one per unanswered call)."""
        rows = await self._db.fetch_all(_OUTCOME + "WHERE task_id = ? ORDER BY id", (task_id,))
        return [_outcome(row) for row in rows]

    async def outcomes_of_resident(self, resident_id: int) -> list[OutcomeRecord]:
        """Return every outcome about a resident, oldest first."""
        rows = await self._db.fetch_all(
            _OUTCOME + "WHERE resident_id = ? ORDER BY submitted_at, id", (resident_id,)
        )
        return [_outcome(row) for row in rows]

    # --- referrals ------------------------------------------------------------------------------

    async def add_referral(
        self,
        *,
        resident_id: int,
        task_id: int | None,
        outcome_id: int | None,
        kind: str,
        consent: bool,
        state: ReferralState,
        organisation_id: int | None,
        at: datetime,
    ) -> ReferralRecord:
        """Store a referral."""
        async with self._db.connection.execute(
            "INSERT INTO referrals (resident_id, task_id, outcome_id, kind, consent, state,"
            " organisation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                resident_id,
                task_id,
                outcome_id,
                kind,
                int(consent),
                state.value,
                organisation_id,
                to_db_time(at),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        referral = await self.referral(row[0])
        assert referral is not None
        return referral

    async def referral(self, referral_id: int) -> ReferralRecord | None:
        """Return one referral."""
        row = await self._db.fetch_one(_REFERRAL + "WHERE id = ?", (referral_id,))
        return _referral(row) if row else None

    async def save_referral(self, referral: ReferralRecord, expected_state: ReferralState) -> bool:
        """Write a referral's state if it is still in `expected_state`."""
        cursor = await self._db.connection.execute(
            "UPDATE referrals SET state = ?, taken_by = ?, taken_at = ?, closed_at = ?"
            " WHERE id = ? AND state = ?",
            (
                referral.state.value,
                referral.taken_by,
                to_db_time_or_none(referral.taken_at),
                to_db_time_or_none(referral.closed_at),
                referral.id,
                expected_state.value,
            ),
        )
        return cursor.rowcount == 1

    async def referrals_of_resident(self, resident_id: int) -> list[ReferralRecord]:
        """Return every referral about a resident, oldest first."""
        rows = await self._db.fetch_all(
            _REFERRAL + "WHERE resident_id = ? ORDER BY created_at, id", (resident_id,)
        )
        return [_referral(row) for row in rows]

    async def remember_referral_message(
        self, chat_id: int, message_id: int, referral_id: int, person_id: int
    ) -> None:
        """Remember a message that shows a referral (with the contact, until it is scrubbed)."""
        await self._db.connection.execute(
            "INSERT OR REPLACE INTO referral_messages (chat_id, message_id, referral_id, person_id)"
            " VALUES (?, ?, ?, ?)",
            (chat_id, message_id, referral_id, person_id),
        )

    async def referral_messages(self, referral_id: int) -> list[tuple[int, int, int]]:
        """Return (chat id, message id, person id) of the messages that show a referral."""
        rows = await self._db.fetch_all(
            "SELECT chat_id, message_id, person_id FROM referral_messages WHERE referral_id = ?"
            " ORDER BY chat_id, message_id",
            (referral_id,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def forget_referral_messages(self, referral_id: int, person_ids: list[int]) -> None:
        """Forget the messages of a referral in these people's chats."""
        marks = ", ".join("?" for _ in person_ids)
        await self._db.connection.execute(
            f"DELETE FROM referral_messages WHERE referral_id = ? AND person_id IN ({marks})",
            (referral_id, *person_ids),
        )

    # --- alerts ---------------------------------------------------------------------------------

    async def add_alert(
        self, *, task_id: int, resident_id: int, raised_by: int | None, at: datetime
    ) -> int:
        """Record an alert for the coordinators about a task; return its id."""
        async with self._db.connection.execute(
            "INSERT INTO alerts (task_id, resident_id, raised_by, at) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (task_id, resident_id, raised_by, to_db_time(at)),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def mark_alert_delivered(self, alert_id: int, at: datetime) -> None:
        """Record that a coordinator received the alert."""
        await self._db.connection.execute(
            "UPDATE alerts SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
            (to_db_time(at), alert_id),
        )

    async def undelivered_alerts(self, raised_before: datetime) -> list[AlertRecord]:
        """Return alerts raised before `raised_before` that no coordinator has received yet."""
        rows = await self._db.fetch_all(
            "SELECT id, task_id, resident_id, raised_by, at FROM alerts"
            " WHERE delivered_at IS NULL AND at <= ? ORDER BY id",
            (to_db_time(raised_before),),
        )
        return [_alert(row) for row in rows]

    async def alerts_of_resident(self, resident_id: int) -> list[AlertRecord]:
        """Return every alert about a resident, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT id, task_id, resident_id, raised_by, at FROM alerts WHERE resident_id = ?"
            " ORDER BY at, id",
            (resident_id,),
        )
        return [_alert(row) for row in rows]
