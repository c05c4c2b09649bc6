"""The figures a coordination meeting starts from: what is open, late, closed, needed and broken.

`Figures` is counted by storage in a few aggregate queries at one moment (`now`) over one period
(`since` .. `now`); some figures are about the present whatever the period (open tasks, open
referrals, unreachable people, removed groups). Every mapping is ordered for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.tasks import TaskState

__all__ = ["OPEN_ORDER", "CampaignLine", "Figures"]

OPEN_ORDER: tuple[TaskState, ...] = (
    TaskState.OPEN,
    TaskState.OFFERED,
    TaskState.ESCALATED,
    TaskState.ACCEPTED,
    TaskState.STARTED,
)
"""Every unfinished state, in the order a brief lists them (the lifecycle's order)."""


@dataclass(frozen=True, slots=True)
class CampaignLine:
    """A campaign still under way, as a brief lists it (now, not since)."""

    name: str
    total: int
    reached: int
    to_call: int  # not reached yet, calls not over
    visits: int  # home visits arranged instead of a call


@dataclass(frozen=True, slots=True)
class Figures:
    """What a coordination meeting needs to know, counted at `now` since `since`.

    - `open_by_state`: every state of `OPEN_ORDER` as a key, in that order, 0 included.
    - `overdue`: ids of unfinished tasks whose window ended before `now`, oldest window first.
    - `escalated`: ids of tasks nobody accepted in time (state escalated), earliest window
      first.
    - `done_since`, `not_completed_since`: tasks closed so, with `closed_at >= since`.
    - `needs_since`: need -> how many outcomes submitted since named it; most named first, then
      by name.
    - `referrals_since`: referral kind -> how many were made since (any state); ordered likewise.
    - `open_referrals`: referrals waiting for or taken by a partner (`new`, `taken`), of any age.
    - `alerts_since`: crisis alerts raised since.
    - `unreachable`: names of active people who have blocked the bot, by name.
    - `removed_groups`: titles of group chats the bot was removed from that a meeting still
      sends to, by title.
    - `campaigns`: phone-check campaigns not closed, oldest first.
    """

    now: datetime
    since: datetime
    open_by_state: dict[TaskState, int]
    overdue: tuple[int, ...]
    escalated: tuple[int, ...]
    done_since: int
    not_completed_since: int
    needs_since: dict[str, int]
    referrals_since: dict[str, int]
    open_referrals: int
    alerts_since: int
    unreachable: tuple[str, ...]
    removed_groups: tuple[str, ...]
    campaigns: tuple[CampaignLine, ...] = ()

    def __post_init__(self) -> None:
        """Refuse open counts that miss a state or list them out of order."""
        if tuple(self.open_by_state) != OPEN_ORDER:
            raise ValueError("open_by_state must name every unfinished state, in order")

    @property
    def unfinished(self) -> int:
        """Return how many tasks are unfinished, whatever their state."""
        return sum(self.open_by_state.values())
