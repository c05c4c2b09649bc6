"""Campaigns, their calling lists and their figures in SQLite.

"Next call" is one UPDATE … RETURNING on a partial index: the claim and the choice of the resident
happen in one statement inside the service's transaction, so two callers can never get the same
entry, and the cost stays flat however long the list is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import aiosqlite

from bot.domain.campaigns import (
    CallerFigures,
    CallResult,
    Campaign,
    CampaignFigures,
    CampaignSpec,
    CampaignState,
    Entry,
    EntryResult,
    EntryState,
    Selection,
)
from bot.domain.residents import Resident
from storage.db import Database, from_db_time, to_db_time
from storage.residents import _COLUMNS as _RESIDENT_COLUMNS
from storage.residents import _resident

__all__ = ["SqliteCampaigns"]

_CAMPAIGN = (
    "SELECT id, name, born_by, areas, imported, attempts, gap_minutes, state, created_by,"
    " created_at, closed_at FROM campaigns "
)
_ENTRY_COLUMNS = (
    "id, campaign_id, resident_id, state, result, attempts, due_at, caller_id, claimed_until,"
    " task_id, visit_task_id"
)


def _campaign(row: aiosqlite.Row) -> Campaign:
    return Campaign(
        id=row["id"],
        name=row["name"],
        selection=Selection(
            born_by=row["born_by"],
            areas=tuple(row["areas"].split()),
            imported=bool(row["imported"]),
        ),
        attempts=row["attempts"],
        gap=timedelta(minutes=row["gap_minutes"]),
        state=CampaignState(row["state"]),
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        closed_at=from_db_time(row["closed_at"]),
    )


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(
        id=row["id"],
        campaign_id=row["campaign_id"],
        resident_id=row["resident_id"],
        state=EntryState(row["state"]),
        result=EntryResult(row["result"]) if row["result"] else None,
        attempts=row["attempts"],
        due_at=from_db_time(row["due_at"]),
        caller_id=row["caller_id"],
        claimed_until=from_db_time(row["claimed_until"]),
        task_id=row["task_id"],
        visit_task_id=row["visit_task_id"],
    )


def _area_filter(areas: Sequence[str]) -> tuple[str, list[object]]:
    if not areas:
        return "", []
    clauses = " OR ".join("substr(postal_code, 1, ?) = ?" for _ in areas)
    params: list[object] = []
    for area in areas:
        params += [len(area), area]
    return f" AND ({clauses})", params


class SqliteCampaigns:
    """Campaigns, calling lists, calls and needs in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- campaigns --------------------------------------------------------------------------

    async def add(self, spec: CampaignSpec, created_by: int, at: datetime) -> Campaign:
        """Store a running campaign and its callers."""
        conn = self._db.connection
        async with conn.execute(
            "INSERT INTO campaigns (name, born_by, areas, imported, attempts, gap_minutes, state,"
            " created_by, created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)"
            " RETURNING id",
            (
                spec.name,
                spec.selection.born_by,
                " ".join(spec.selection.areas),
                int(spec.selection.imported),
                spec.attempts,
                int(spec.gap.total_seconds() // 60),
                created_by,
                to_db_time(at),
                to_db_time(at),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await conn.executemany(
            "INSERT INTO campaign_callers (campaign_id, person_id) VALUES (?, ?)",
            [(row["id"], person_id) for person_id in sorted(spec.callers)],
        )
        campaign = await self.get(row["id"])
        assert campaign is not None
        return campaign

    async def get(self, campaign_id: int) -> Campaign | None:
        """Return one campaign."""
        row = await self._db.fetch_one(_CAMPAIGN + "WHERE id = ?", (campaign_id,))
        return _campaign(row) if row else None

    async def recent(self, limit: int) -> list[Campaign]:
        """Return campaigns, those not closed first, newest first."""
        rows = await self._db.fetch_all(
            _CAMPAIGN + "ORDER BY state = 'closed', id DESC LIMIT ?", (limit,)
        )
        return [_campaign(row) for row in rows]

    async def of_caller(self, person_id: int) -> list[Campaign]:
        """Return the campaigns not closed that list the person as a caller, oldest first."""
        rows = await self._db.fetch_all(
            _CAMPAIGN + "WHERE state != 'closed' AND id IN"
            " (SELECT campaign_id FROM campaign_callers WHERE person_id = ?) ORDER BY id",
            (person_id,),
        )
        return [_campaign(row) for row in rows]

    async def set_state(self, campaign_id: int, state: CampaignState, at: datetime) -> None:
        """Pause, resume or close a campaign."""
        await self._db.connection.execute(
            "UPDATE campaigns SET state = ?, changed_at = ?,"
            " closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END WHERE id = ?",
            (state.value, to_db_time(at), state.value, to_db_time(at), campaign_id),
        )

    # --- the list ---------------------------------------------------------------------------

    async def fill(self, campaign_id: int, selection: Selection, at: datetime) -> int:
        """List every resident the selection matches (not those who declined calls)."""
        areas, params = _area_filter(selection.areas)
        cursor = await self._db.connection.execute(
            "INSERT INTO campaign_entries (campaign_id, resident_id, state, due_at)"
            " SELECT ?, id, 'waiting', ? FROM residents WHERE no_calls_since IS NULL"
            " AND (? IS NULL OR birth_year <= ?)" + areas + " ORDER BY postal_code, id",
            (campaign_id, to_db_time(at), selection.born_by, selection.born_by, *params),
        )
        return cursor.rowcount

    async def fill_with(self, campaign_id: int, resident_ids: Sequence[int], at: datetime) -> int:
        """List the given residents in order (an imported list; not those who declined calls)."""
        await self._db.connection.executemany(
            "INSERT OR IGNORE INTO campaign_entries (campaign_id, resident_id, state, due_at)"
            " SELECT ?, id, 'waiting', ? FROM residents WHERE id = ? AND no_calls_since IS NULL",
            [(campaign_id, to_db_time(at), resident_id) for resident_id in resident_ids],
        )
        return int(
            await self._db.fetch_value(
                "SELECT count(*) FROM campaign_entries WHERE campaign_id = ?", (campaign_id,)
            )
            or 0
        )

    async def count_matching(self, selection: Selection) -> tuple[int, int]:
        """Return how many residents the selection lists, and how many of them have no phone."""
        areas, params = _area_filter(selection.areas)
        row = await self._db.fetch_one(
            "SELECT count(*), count(*) - count(phone) FROM residents WHERE no_calls_since IS NULL"
            " AND (? IS NULL OR birth_year <= ?)" + areas,
            (selection.born_by, selection.born_by, *params),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def declined_among(self, match_keys: Sequence[str]) -> int:
        """Return how many of the residents with these phone-and-name keys declined calls."""
        if not match_keys:
            return 0
        value = await self._db.fetch_value(
            "SELECT count(*) FROM residents WHERE no_calls_since IS NOT NULL"
            " AND match_key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(match_keys)),),
        )
        return int(value or 0)

    async def without_phone(self, campaign_id: int) -> list[Entry]:
        """Return the waiting entries whose resident has no phone number."""
        rows = await self._db.fetch_all(
            f"SELECT {_ENTRY_COLUMNS} FROM campaign_entries WHERE campaign_id = ?"
            " AND state = 'waiting' AND resident_id IN"
            " (SELECT id FROM residents WHERE phone IS NULL) ORDER BY id",
            (campaign_id,),
        )
        return [_entry(row) for row in rows]

    async def claim_many(
        self, campaign_id: int, caller_ids: Sequence[int], now: datetime, until: datetime
    ) -> list[Entry]:
        """Claim the next entries for several callers at once, in queue order, in one statement:
        retries that fell due (oldest first), then first calls in list order (one handed back goes
        to the end: its `due_at` is then); the k-th entry goes to `caller_ids[k]`. Fewer entries
        than callers: the last callers get none."""
        if not caller_ids:
            return []
        now_text = to_db_time(now)
        k = len(caller_ids)
        busy = (
            " AND NOT EXISTS (SELECT 1 FROM campaign_entries b WHERE b.resident_id ="
            " e.resident_id AND b.state = 'calling')"
            " AND (SELECT no_calls_since FROM residents r WHERE r.id = e.resident_id) IS NULL"
        )
        who = ", ".join("(?, ?)" for _ in caller_ids)
        who_params: list[object] = []
        for n, caller_id in enumerate(caller_ids, start=1):
            who_params += [n, caller_id]
        rows = await self._db.fetch_all(
            "WITH queue AS ("
            " SELECT id, 0 AS phase, due_at AS k1, 0 AS k2 FROM (SELECT id, due_at FROM"
            " campaign_entries e WHERE campaign_id = ? AND state = 'waiting' AND attempts > 0"
            f" AND due_at <= ?{busy} ORDER BY due_at LIMIT ?)"
            " UNION ALL"
            " SELECT id, 1, due_at, id FROM (SELECT id, due_at FROM campaign_entries e"
            " WHERE campaign_id = ? AND state = 'waiting' AND attempts = 0"
            f" AND due_at <= ?{busy} ORDER BY due_at, id LIMIT ?)"
            "), picked AS ("
            " SELECT id, row_number() OVER (ORDER BY phase, k1, k2) AS n FROM queue"
            " ORDER BY phase, k1, k2 LIMIT ?"
            f"), who (n, caller) AS (VALUES {who})"
            " UPDATE campaign_entries SET state = 'calling', claimed_until = ?,"
            " caller_id = (SELECT who.caller FROM picked JOIN who USING (n)"
            " WHERE picked.id = campaign_entries.id)"
            f" WHERE id IN (SELECT id FROM picked) RETURNING {_ENTRY_COLUMNS}",
            (
                campaign_id,
                now_text,
                k,
                campaign_id,
                now_text,
                k,
                k,
                *who_params,
                to_db_time(until),
            ),
        )
        return [_entry(row) for row in rows]

    async def set_call_tasks(self, calls: Sequence[tuple[int, int]]) -> None:
        """Remember the task of each call under way: (entry id, task id) pairs."""
        await self._db.connection.executemany(
            "UPDATE campaign_entries SET task_id = ? WHERE id = ?",
            [(task_id, entry_id) for entry_id, task_id in calls],
        )

    async def calling_by_many(self, caller_ids: Sequence[int]) -> dict[int, Entry]:
        """Return the call each of these people has under way, by caller."""
        if not caller_ids:
            return {}
        marks = ", ".join("?" for _ in caller_ids)
        rows = await self._db.fetch_all(
            f"SELECT {_ENTRY_COLUMNS} FROM campaign_entries WHERE state = 'calling'"
            f" AND caller_id IN ({marks}) ORDER BY id",
            tuple(caller_ids),
        )
        found: dict[int, Entry] = {}
        for entry in map(_entry, rows):
            assert entry.caller_id is not None
            found.setdefault(entry.caller_id, entry)
        return found

    async def of_callers(self, person_ids: Sequence[int]) -> dict[int, list[Campaign]]:
        """Return, for each person, the campaigns not closed that list them, oldest first."""
        if not person_ids:
            return {}
        marks = ", ".join("?" for _ in person_ids)
        rows = await self._db.fetch_all(
            "SELECT cc.person_id AS caller, c.id, c.name, c.born_by, c.areas, c.imported,"
            " c.attempts, c.gap_minutes, c.state, c.created_by, c.created_at, c.closed_at"
            " FROM campaign_callers cc JOIN campaigns c ON c.id = cc.campaign_id"
            f" WHERE c.state != 'closed' AND cc.person_id IN ({marks}) ORDER BY c.id",
            tuple(person_ids),
        )
        found: dict[int, list[Campaign]] = {person_id: [] for person_id in person_ids}
        for row in rows:
            found[row["caller"]].append(_campaign(row))
        return found

    async def residents_of(self, resident_ids: Sequence[int]) -> dict[int, Resident]:
        """Return residents by id, in one query."""
        if not resident_ids:
            return {}
        marks = ", ".join("?" for _ in resident_ids)
        rows = await self._db.fetch_all(
            f"SELECT {_RESIDENT_COLUMNS} FROM residents WHERE id IN ({marks})",
            tuple(resident_ids),
        )
        return {row["id"]: _resident(row) for row in rows}

    async def next_due(self, campaign_id: int, after: datetime) -> datetime | None:
        """Return when the earliest entry still waiting falls due after `after` (None: none)."""
        value = await self._db.fetch_value(
            "SELECT min(due_at) FROM campaign_entries WHERE campaign_id = ? AND state = 'waiting'"
            " AND attempts > 0 AND due_at > ?",
            (campaign_id, to_db_time(after)),
        )
        return from_db_time(value) if isinstance(value, str) else None

    async def entry(self, entry_id: int) -> Entry | None:
        """Return one entry."""
        row = await self._db.fetch_one(
            f"SELECT {_ENTRY_COLUMNS} FROM campaign_entries WHERE id = ?", (entry_id,)
        )
        return _entry(row) if row else None

    async def entry_of_task(self, task_id: int) -> Entry | None:
        """Return the entry whose call (now or earlier) is this task."""
        row = await self._db.fetch_one(
            f"SELECT {_ENTRY_COLUMNS} FROM campaign_entries WHERE task_id = ?", (task_id,)
        )
        return _entry(row) if row else None

    async def expired(self, now: datetime, quiet_since: datetime) -> list[Entry]:
        """Return calls whose claim ran out and whose report saw no step since `quiet_since`."""
        rows = await self._db.fetch_all(
            f"SELECT {_ENTRY_COLUMNS} FROM campaign_entries e WHERE state = 'calling'"
            " AND claimed_until <= ? AND NOT EXISTS (SELECT 1 FROM form_drafts d"
            " WHERE d.task_id = e.task_id AND d.updated_at > ?) ORDER BY claimed_until",
            (to_db_time(now), to_db_time(quiet_since)),
        )
        return [_entry(row) for row in rows]

    async def requeue(
        self, entry: Entry, *, attempts: int, due_at: datetime, expected: EntryState, at: datetime
    ) -> EntryState | None:
        """Put an entry back on the list, or finish it if the resident declined calls meanwhile;
        return its new state (None: it was not in the expected state)."""
        # A resident who asked meanwhile (elsewhere) not to be called is finished, not put back.
        row = await self._db.fetch_one(
            "UPDATE campaign_entries SET attempts = ?, due_at = ?, caller_id = NULL,"
            " claimed_until = NULL, state = CASE WHEN declined THEN 'finished' ELSE 'waiting' END,"
            " result = CASE WHEN declined THEN 'declined' END,"
            " finished_at = CASE WHEN declined THEN ? END"
            " FROM (SELECT no_calls_since IS NOT NULL AS declined FROM residents WHERE id = ?)"
            " WHERE id = ? AND state = ? RETURNING state",
            (
                attempts,
                to_db_time(due_at),
                to_db_time(at),
                entry.resident_id,
                entry.id,
                expected.value,
            ),
        )
        return EntryState(row[0]) if row else None

    async def finish(
        self,
        entry: Entry,
        result: EntryResult,
        at: datetime,
        *,
        attempts: int | None = None,
        visit_task_id: int | None = None,
    ) -> bool:
        """Finish an entry; False if it was finished already."""
        cursor = await self._db.connection.execute(
            "UPDATE campaign_entries SET state = 'finished', result = ?, finished_at = ?,"
            " caller_id = NULL, claimed_until = NULL, attempts = coalesce(?, attempts),"
            " visit_task_id = coalesce(?, visit_task_id) WHERE id = ? AND state != 'finished'",
            (result.value, to_db_time(at), attempts, visit_task_id, entry.id),
        )
        return cursor.rowcount == 1

    async def record_call(
        self,
        entry: Entry,
        caller_id: int | None,
        task_id: int | None,
        result: CallResult,
        at: datetime,
        *,
        urgent: bool = False,
    ) -> None:
        """Record how one call ended."""
        await self._db.connection.execute(
            "INSERT INTO campaign_calls (campaign_id, entry_id, caller_id, task_id, result,"
            " urgent, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry.campaign_id,
                entry.id,
                caller_id,
                task_id,
                result.value,
                int(urgent),
                to_db_time(at),
            ),
        )

    async def add_needs(self, entry: Entry, needs: Iterable[str]) -> None:
        """Record the needs a reached resident told of."""
        await self._db.connection.executemany(
            "INSERT OR IGNORE INTO campaign_needs (campaign_id, entry_id, need) VALUES (?, ?, ?)",
            [(entry.campaign_id, entry.id, need) for need in needs],
        )

    async def decline_calls(self, resident_id: int, at: datetime) -> list[Entry]:
        """Mark a resident as not to be called; finish their waiting entries in every campaign."""
        conn = self._db.connection
        await conn.execute(
            "UPDATE residents SET no_calls_since = coalesce(no_calls_since, ?) WHERE id = ?",
            (to_db_time(at), resident_id),
        )
        rows = await self._db.fetch_all(
            f"UPDATE campaign_entries SET state = 'finished', result = 'declined', finished_at = ?"
            f" WHERE resident_id = ? AND state = 'waiting' RETURNING {_ENTRY_COLUMNS}",
            (to_db_time(at), resident_id),
        )
        return [_entry(row) for row in rows]

    async def figures(self, campaign_id: int) -> CampaignFigures:
        """Return the campaign's figures, counted by SQL over its indexes."""
        counts: dict[str, int] = {}
        total = visits = 0
        for row in await self._db.fetch_all(
            "SELECT state, result, attempts > 0 AS tried, count(*), count(visit_task_id)"
            " FROM campaign_entries WHERE campaign_id = ? GROUP BY state, result, tried",
            (campaign_id,),
        ):
            state, result, tried, number = row[0], row[1], bool(row[2]), int(row[3])
            total += number
            visits += int(row[4])
            if state == EntryState.WAITING:
                key = "retry" if tried else "never_called"
            elif state == EntryState.CALLING:
                key = "calling"
            else:
                key = result
            counts[key] = counts.get(key, 0) + number
        called = await self._db.fetch_value(
            "SELECT count(DISTINCT entry_id) FROM campaign_calls WHERE campaign_id = ?"
            " AND result IN ('reached', 'no_answer', 'wrong_number', 'declined')",
            (campaign_id,),
        )
        needs = {
            row[0]: int(row[1])
            for row in await self._db.fetch_all(
                "SELECT need, count(*) FROM campaign_needs WHERE campaign_id = ? GROUP BY need",
                (campaign_id,),
            )
        }
        per_caller: dict[int, dict[str, int]] = {}
        urgent = 0
        for row in await self._db.fetch_all(
            "SELECT caller_id, result, count(*), sum(urgent) FROM campaign_calls"
            " WHERE campaign_id = ? AND caller_id IS NOT NULL GROUP BY caller_id, result",
            (campaign_id,),
        ):
            per_caller.setdefault(row[0], {})[row[1]] = int(row[2])
            urgent += int(row[3] or 0)
        for row in await self._db.fetch_all(
            "SELECT caller_id, count(*) FROM campaign_entries WHERE campaign_id = ?"
            " AND state = 'calling' GROUP BY caller_id",
            (campaign_id,),
        ):
            per_caller.setdefault(row[0], {})["calling"] = int(row[1])
        names = {
            row[0]: row[1]
            for row in await self._db.fetch_all(
                "SELECT id, name FROM people WHERE id IN (SELECT person_id FROM campaign_callers"
                " WHERE campaign_id = ?) OR id IN (SELECT DISTINCT caller_id FROM campaign_calls"
                " WHERE campaign_id = ?)",
                (campaign_id, campaign_id),
            )
        }
        callers = []
        for person_id, name in sorted(
            names.items(), key=lambda item: (item[1].casefold(), item[0])
        ):
            tally = per_caller.get(person_id, {})
            made = sum(
                n
                for result, n in tally.items()
                if result not in {"calling", CallResult.GIVEN_BACK, CallResult.EXPIRED}
            )
            callers.append(
                CallerFigures(
                    person_id=person_id,
                    name=name,
                    calls=made,
                    reached=tally.get(CallResult.REACHED, 0),
                    no_answer=tally.get(CallResult.NO_ANSWER, 0),
                    other=tally.get(CallResult.WRONG_NUMBER, 0) + tally.get(CallResult.DECLINED, 0),
                    calling=tally.get("calling", 0),
                )
            )
        return CampaignFigures(
            total=total,
            called=int(called or 0),
            never_called=counts.get("never_called", 0),
            retry=counts.get("retry", 0),
            calling=counts.get("calling", 0),
            reached=counts.get(EntryResult.REACHED, 0),
            unreached=counts.get(EntryResult.UNREACHED, 0),
            wrong_number=counts.get(EntryResult.WRONG_NUMBER, 0),
            no_phone=counts.get(EntryResult.NO_PHONE, 0),
            declined=counts.get(EntryResult.DECLINED, 0),
            visits=visits,
            urgent=urgent,
            needs=needs,
            callers=tuple(callers),
        )
