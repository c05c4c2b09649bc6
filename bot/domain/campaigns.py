"""Phone-check campaigns: callers work through a calling list, one resident at a time.

A campaign is a list of residents (chosen by birth year and area, or imported) and the callers who
phone them. Each resident is one *entry*, which moves only like this:

```
waiting ──claim──▶ calling ──reached / wrong number / declined / last unanswered call──▶ finished
   ▲                  │
   └──────────────────┘  an unanswered call with tries left (due again after the gap),
                         given back, or the claim expired (the caller went quiet)
```

A claim belongs to one caller, so no two callers ever phone the same resident at the same time.
A resident without a phone number is never handed out: a home visit is arranged for them at the
start. A resident who asks not to be called again is finished as `declined` here and in every other
campaign, and no later campaign lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.domain.errors import DomainError
from bot.domain.outcomes import Decision
from bot.domain.tasks import TaskState, UnfinishedReason

__all__ = [
    "ATTEMPT_CHOICES",
    "GAP_CHOICES",
    "MAX_ATTEMPTS",
    "MAX_GAP",
    "AfterCall",
    "CallResult",
    "CallerFigures",
    "Campaign",
    "CampaignError",
    "CampaignFigures",
    "CampaignProblem",
    "CampaignSpec",
    "CampaignState",
    "Entry",
    "EntryResult",
    "EntryState",
    "Selection",
    "after_call",
    "age_in",
    "born_by_for_age",
    "parse_areas",
    "parse_attempts",
    "parse_born_by",
    "parse_gap",
    "parse_name",
]

MAX_ATTEMPTS = 10
MAX_GAP = timedelta(days=7)
MAX_NAME = 100
ATTEMPT_CHOICES = (1, 2, 3, 4)
GAP_CHOICES = (timedelta(hours=1), timedelta(hours=3), timedelta(hours=6), timedelta(days=1))
_AREA = re.compile(r"[0-9]{1,5}")


class CampaignState(StrEnum):
    """Whether callers get residents from the campaign."""

    RUNNING = "running"
    PAUSED = "paused"  # no new calls; calls under way finish
    CLOSED = "closed"  # for good; calls under way finish


class EntryState(StrEnum):
    """Where one resident of the list is."""

    WAITING = "waiting"
    CALLING = "calling"
    FINISHED = "finished"


class EntryResult(StrEnum):
    """How a resident's part of the campaign ended."""

    REACHED = "reached"
    UNREACHED = "unreached"  # every attempt unanswered: a home visit instead
    WRONG_NUMBER = "wrong_number"  # a home visit instead
    NO_PHONE = "no_phone"  # a home visit instead, arranged at the start
    DECLINED = "declined"  # asked not to be called again


class CallResult(StrEnum):
    """How one call (one claim) ended."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"
    GIVEN_BACK = "given_back"  # the caller handed the resident back without a call
    EXPIRED = "expired"  # the caller went quiet; the claim ran out


class CampaignProblem(StrEnum):
    """Why a campaign cannot be made or changed as asked."""

    NAME = "name"
    BORN_BY = "born_by"
    AREA = "area"
    ATTEMPTS = "attempts"
    GAP = "gap"
    NO_CALLERS = "no_callers"
    NOBODY = "nobody"  # nobody to call: the selection matches no resident
    NOT_FOUND = "not_found"
    CLOSED = "closed"
    PAUSED = "paused"
    NOT_A_CALLER = "not_a_caller"  # not among the campaign's callers (or no longer a caller)
    NONE_RUNNING = "none_running"
    LIST_DONE = "list_done"  # nobody left to call now
    NOT_YOUR_CALL = "not_your_call"


class CampaignError(DomainError):
    """A campaign rule refused the request; `problem` says which, language-neutrally."""

    def __init__(self, problem: CampaignProblem, *, when: datetime | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.when = when  # LIST_DONE: the next retry falls due then (None: nothing left at all)


class Selection(BaseModel):
    """Who is called: residents born in or before `born_by` in the `areas`, or an imported list."""

    model_config = ConfigDict(frozen=True)

    born_by: int | None = None
    areas: tuple[str, ...] = ()
    imported: bool = False


class CampaignSpec(BaseModel):
    """A campaign as the coordinator describes it."""

    model_config = ConfigDict(frozen=True)

    name: str
    selection: Selection
    callers: frozenset[int]
    attempts: int = 2
    gap: timedelta = timedelta(hours=3)

    def checked(self) -> CampaignSpec:
        """Return the spec with its name tidied, or raise `CampaignError` naming the problem."""
        name = parse_name(self.name)
        if not 1 <= self.attempts <= MAX_ATTEMPTS:
            raise CampaignError(CampaignProblem.ATTEMPTS)
        if not timedelta(0) <= self.gap <= MAX_GAP or self.gap % timedelta(minutes=1):
            raise CampaignError(CampaignProblem.GAP)
        if not self.callers:
            raise CampaignError(CampaignProblem.NO_CALLERS)
        return self.model_copy(update={"name": name})


class Campaign(BaseModel):
    """A stored campaign."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    selection: Selection
    attempts: int
    gap: timedelta
    state: CampaignState
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None = None


class Entry(BaseModel):
    """One resident of a campaign's list."""

    model_config = ConfigDict(frozen=True)

    id: int
    campaign_id: int
    resident_id: int
    state: EntryState
    result: EntryResult | None = None
    attempts: int = 0
    due_at: datetime
    caller_id: int | None = None
    claimed_until: datetime | None = None
    task_id: int | None = None
    visit_task_id: int | None = None


@dataclass(frozen=True, slots=True)
class CallerFigures:
    """What one caller did in a campaign."""

    person_id: int
    name: str
    calls: int = 0
    reached: int = 0
    no_answer: int = 0
    other: int = 0  # wrong numbers and residents who declined
    calling: int = 0  # on a call now


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """A campaign at a glance: the figures the coordination meeting needs."""

    total: int = 0
    called: int = 0  # residents this campaign called at least once (a call that got an answer
    # or went unanswered; not handed back, not timed out)
    never_called: int = 0  # waiting for a first call
    retry: int = 0  # waiting for another try
    calling: int = 0
    reached: int = 0
    unreached: int = 0  # every attempt unanswered
    wrong_number: int = 0
    no_phone: int = 0
    declined: int = 0
    visits: int = 0  # home visits arranged instead of a call
    urgent: int = 0  # calls that alerted the coordinators
    needs: dict[str, int] = field(default_factory=dict)
    callers: tuple[CallerFigures, ...] = ()

    @property
    def open(self) -> int:
        """Return the residents not reached yet whose calls are not over."""
        return self.never_called + self.retry + self.calling

    @property
    def done(self) -> int:
        """Return the residents whose part is over."""
        return self.total - self.open


@dataclass(frozen=True, slots=True)
class AfterCall:
    """What one recorded call does to its entry."""

    result: CallResult
    finished: EntryResult | None  # None: the resident waits for another try
    due_at: datetime | None = None  # the next try falls due then


def after_call(decision: Decision, *, declined: bool, now: datetime, gap: timedelta) -> AfterCall:
    """Return what a phone-check outcome means for the campaign entry.

    The follow-up rules have decided already (`decide` with the campaign's attempts); this maps
    their decision onto the list: reached, another try after `gap`, or finished with a home visit.
    """
    if declined:
        return AfterCall(CallResult.DECLINED, EntryResult.DECLINED)
    if decision.close is TaskState.DONE:
        return AfterCall(CallResult.REACHED, EntryResult.REACHED)
    if decision.close is None:  # unanswered, tries left
        return AfterCall(CallResult.NO_ANSWER, None, now + gap)
    if decision.reason is UnfinishedReason.WRONG_NUMBER:
        return AfterCall(CallResult.WRONG_NUMBER, EntryResult.WRONG_NUMBER)
    if decision.reason is UnfinishedReason.NO_ANSWER:
        return AfterCall(CallResult.NO_ANSWER, EntryResult.UNREACHED)
    if decision.reason is UnfinishedReason.REFUSED:
        return AfterCall(CallResult.DECLINED, EntryResult.DECLINED)
    return AfterCall(CallResult.REACHED, EntryResult.REACHED)


def born_by_for_age(age: int, today: date) -> int:
    """Return the latest birth year of residents who are `age` or older this year."""
    return today.year - age


def age_in(birth_year: int | None, today: date) -> int | None:
    """Return the age a resident turns this year (the list is by birth year, not birthday)."""
    return None if birth_year is None else today.year - birth_year


def parse_name(text: str) -> str:
    """Read a campaign's name: 1 to 100 characters, spacing tidied."""
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_NAME:
        raise CampaignError(CampaignProblem.NAME)
    return name


def parse_attempts(text: str) -> int:
    """Read the number of attempts per resident: 1 to 10."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ATTEMPTS:
        raise CampaignError(CampaignProblem.ATTEMPTS)
    return int(value)


def parse_born_by(text: str, today: date) -> int:
    """Read a birth year such as `1956` (born in or before it)."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]{4}", value) or not 1900 <= int(value) <= today.year:
        raise CampaignError(CampaignProblem.BORN_BY)
    return int(value)


def parse_areas(text: str) -> tuple[str, ...]:
    """Read postal codes or their beginnings (`70100 702`), separated by spaces or commas."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts or len(parts) > 20 or not all(_AREA.fullmatch(p) for p in parts):
        raise CampaignError(CampaignProblem.AREA)
    return tuple(sorted(set(parts)))


def parse_gap(text: str) -> timedelta:
    """Read the time between attempts: hours such as `3`, `3 h`, `1,5 h` or `30 min`."""
    value = text.strip().lower().replace(",", ".")
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(h|t|tim|min)?", value)
    if match is None:
        raise CampaignError(CampaignProblem.GAP)
    number = float(match.group(1))
    minutes = number if match.group(2) == "min" else number * 60
    if minutes > MAX_GAP.total_seconds() / 60:
        raise CampaignError(CampaignProblem.GAP)  # before timedelta: a huge number overflows it
    gap = timedelta(minutes=minutes)
    gap = timedelta(minutes=round(gap.total_seconds() / 60))
    if not timedelta(0) <= gap <= MAX_GAP:
        raise CampaignError(CampaignProblem.GAP)
    return gap
