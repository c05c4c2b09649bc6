"""The meeting brief's figures, counted in SQLite with a few aggregate queries.

Times are stored by `to_db_time` as ISO-8601 text in UTC with a fixed width, so comparing them as
text compares the moments. Nothing here loops over rows of tasks in Python: every count is a
GROUP BY or a scalar subquery, and only the short lists a brief shows (overdue and escalated ids,
names, group titles) come back as rows.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.briefs import OPEN_ORDER, CampaignLine, Figures
from bot.domain.tasks import TaskState
from storage.db import Database, to_db_time

__all__ = ["SqliteBriefs"]

_OPEN_MARKS = ", ".join("?" for _ in OPEN_ORDER)
_OPEN_VALUES = tuple(state.value for state in OPEN_ORDER)

# Per state: how many tasks, and how many of them closed since (done and not_completed only).
_TASKS_BY_STATE = """
SELECT state, count(*) AS n, coalesce(sum(closed_at >= ?), 0) AS closed_since
FROM tasks GROUP BY state
"""

# The unfinished tasks that are late or escalated: the only task rows a brief lists.
_LISTED_TASKS = f"""
SELECT id, state, window_end < ? AS late
FROM tasks
WHERE state IN ({_OPEN_MARKS}) AND (window_end < ? OR state = 'escalated')
ORDER BY window_end, window_start, id
"""

# How many outcomes named each need (an outcome naming a need twice counts once).
_NEEDS = """
SELECT need.value AS need, count(DISTINCT o.id) AS n
FROM outcomes o, json_each(o.decision, '$.needs') AS need
WHERE o.submitted_at >= ? AND need.type = 'text'
GROUP BY need.value
ORDER BY n DESC, need.value
"""

_REFERRALS = """
SELECT kind, count(*) AS n FROM referrals WHERE created_at >= ?
GROUP BY kind ORDER BY n DESC, kind
"""

_SCALARS = """
SELECT (SELECT count(*) FROM referrals WHERE state IN ('new', 'taken')) AS open_referrals,
       (SELECT count(*) FROM alerts WHERE at >= ?) AS alerts_since
"""

_UNREACHABLE = """
SELECT name FROM people WHERE active = 1 AND unreachable_since IS NOT NULL
ORDER BY name COLLATE NOCASE, name, id
"""

# Groups the bot is no longer in that a group meeting still names as its audience.
_REMOVED_GROUPS = """
SELECT g.title FROM telegram_groups g
WHERE g.member = 0 AND EXISTS (
    SELECT 1 FROM meetings m WHERE m.audience_chat_id = g.chat_id AND m.audience_kind = 'group'
)
ORDER BY g.title COLLATE NOCASE, g.title, g.chat_id
"""


# Phone-check campaigns not closed: totals from their calling lists' figures index.
_CAMPAIGNS = """
SELECT c.name,
       count(e.id) AS total,
       coalesce(sum(e.result = 'reached'), 0) AS reached,
       coalesce(sum(e.state != 'finished'), 0) AS to_call,
       count(e.visit_task_id) AS visits
FROM campaigns c LEFT JOIN campaign_entries e ON e.campaign_id = c.id
WHERE c.state != 'closed'
GROUP BY c.id ORDER BY c.id
"""


class SqliteBriefs:
    """The figures of a coordination meeting's brief."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(self, now: datetime, since: datetime) -> Figures:
        """Count everything a brief shows at `now`, the period ones since `since`."""
        at, start = to_db_time(now), to_db_time(since)
        db = self._db

        open_by_state = dict.fromkeys(OPEN_ORDER, 0)
        closed_since: dict[TaskState, int] = {}
        for row in await db.fetch_all(_TASKS_BY_STATE, (start,)):
            state = TaskState(row["state"])
            if state in open_by_state:
                open_by_state[state] = int(row["n"])
            closed_since[state] = int(row["closed_since"])

        listed = await db.fetch_all(_LISTED_TASKS, (at, *_OPEN_VALUES, at))
        overdue = tuple(int(row["id"]) for row in listed if row["late"])
        escalated = tuple(
            int(row["id"]) for row in listed if row["state"] == TaskState.ESCALATED.value
        )

        needs = {str(row["need"]): int(row["n"]) for row in await db.fetch_all(_NEEDS, (start,))}
        referrals = {
            str(row["kind"]): int(row["n"]) for row in await db.fetch_all(_REFERRALS, (start,))
        }
        scalars = await db.fetch_one(_SCALARS, (start,))
        assert scalars is not None
        unreachable = tuple(str(row["name"]) for row in await db.fetch_all(_UNREACHABLE))
        removed = tuple(str(row["title"]) for row in await db.fetch_all(_REMOVED_GROUPS))
        campaigns = tuple(
            CampaignLine(
                name=str(row["name"]),
                total=int(row["total"]),
                reached=int(row["reached"]),
                to_call=int(row["to_call"]),
                visits=int(row["visits"]),
            )
            for row in await db.fetch_all(_CAMPAIGNS)
        )

        return Figures(
            now=now,
            since=since,
            open_by_state=open_by_state,
            overdue=overdue,
            escalated=escalated,
            done_since=closed_since.get(TaskState.DONE, 0),
            not_completed_since=closed_since.get(TaskState.NOT_COMPLETED, 0),
            needs_since=needs,
            referrals_since=referrals,
            open_referrals=int(scalars["open_referrals"]),
            alerts_since=int(scalars["alerts_since"]),
            unreachable=unreachable,
            removed_groups=removed,
            campaigns=campaigns,
        )
