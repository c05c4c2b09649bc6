"""Coordination meetings: what they are, who attends, and when their reminders go out.

A meeting recurs on a set of weekdays at a local wall-clock time (09:00 stays 09:00 across the
clock changes); one occurrence can be cancelled or moved. Each occurrence is named by its original
local date, so a moved occurrence keeps its reminders' and answers' identity. The recurrence itself
is computed in `bot.domain.schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.domain.errors import DomainError
from bot.domain.people import Role

__all__ = [
    "DEFAULT_OFFSETS",
    "MAX_MOVE",
    "Audience",
    "AudienceKind",
    "Change",
    "Delivery",
    "Group",
    "Meeting",
    "MeetingError",
    "MeetingProblem",
    "MeetingSpec",
    "Occurrence",
    "Offset",
    "Reminder",
]

MAX_MOVE = timedelta(days=14)  # how far one occurrence may be moved from its own day


class MeetingProblem(StrEnum):
    """Why a meeting's field was refused; handlers say it in the person's language."""

    TITLE = "title"  # empty or longer than 100 characters
    WEEKDAYS = "weekdays"  # no weekday chosen
    TIME = "time"  # not a clock time (25:00, 9:75, "nine")
    DURATION = "duration"  # not 5 minutes to 12 hours
    LINK = "link"  # not an http(s) URL
    PLACE = "place"  # empty or longer than 200 characters
    WHERE = "where"  # neither a link nor a place
    OFFSETS = "offsets"  # a reminder offset that cannot be read, or too many
    AUDIENCE = "audience"  # nobody chosen, or an incomplete audience
    MOVE_FORMAT = "move_format"  # a new time that cannot be read
    MOVE_PAST = "move_past"  # a new time in the past
    MOVE_FAR = "move_far"  # more than MAX_MOVE from the occurrence's own day


class MeetingError(DomainError, ValueError):
    """A meeting's field was refused; `problem` says which rule."""

    def __init__(self, problem: MeetingProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem


class AudienceKind(StrEnum):
    """Who attends a meeting."""

    ROLE = "role"  # every active person with the role
    ORGANISATION = "organisation"  # every active person of the organisation
    PEOPLE = "people"  # chosen people
    GROUP = "group"  # a Telegram group chat the bot is a member of


@dataclass(frozen=True, slots=True)
class Audience:
    """Who attends: exactly the field of `kind` is set."""

    kind: AudienceKind
    role: Role | None = None
    organisation_id: int | None = None
    people: tuple[int, ...] = ()
    chat_id: int | None = None

    def __post_init__(self) -> None:
        complete = {
            AudienceKind.ROLE: self.role is not None,
            AudienceKind.ORGANISATION: self.organisation_id is not None,
            AudienceKind.PEOPLE: bool(self.people),
            AudienceKind.GROUP: self.chat_id is not None,
        }[self.kind]
        if not complete:
            raise MeetingError(MeetingProblem.AUDIENCE, self.kind.value)


@dataclass(frozen=True, slots=True)
class Offset:
    """When a reminder goes out: `minutes` before the start, or `days` before at local `at`."""

    minutes: int = 0
    days: int = 0
    at: time | None = None

    @property
    def key(self) -> str:
        """Return the canonical text, e.g. `15m` or `1d16:00`; stored and shown."""
        if self.days:
            at = self.at or time(0)
            return f"{self.days}d{at.hour:02d}:{at.minute:02d}"
        return f"{self.minutes}m"


DEFAULT_OFFSETS: tuple[Offset, ...] = (Offset(days=1, at=time(16, 0)), Offset(minutes=15))


@dataclass(frozen=True, slots=True)
class MeetingSpec:
    """Everything a coordinator chooses for a meeting, already validated field by field."""

    title: str
    weekdays: frozenset[int]  # date.weekday(): 0 is Monday
    start: time  # local wall-clock time in the configured zone
    duration_minutes: int
    link: str | None
    place: str | None
    audience: Audience
    offsets: tuple[Offset, ...] = DEFAULT_OFFSETS

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise MeetingError(MeetingProblem.WEEKDAYS)
        if not self.link and not self.place:
            raise MeetingError(MeetingProblem.WHERE)


@dataclass(frozen=True, slots=True)
class Meeting:
    """A stored meeting."""

    id: int
    spec: MeetingSpec
    created_by: int  # person id of the organiser
    created_at: datetime
    updated_at: datetime
    paused: bool = False
    reminders_from: datetime | None = None  # created or resumed; None: since `created_at`

    @property
    def reminding_since(self) -> datetime:
        """Return the moment from which reminders fall due (created, or resumed after a pause)."""
        return self.reminders_from or self.created_at

    @property
    def title(self) -> str:
        """Return the title."""
        return self.spec.title

    @property
    def duration(self) -> timedelta:
        """Return how long one occurrence lasts."""
        return timedelta(minutes=self.spec.duration_minutes)


@dataclass(frozen=True, slots=True)
class Change:
    """One occurrence cancelled (`moved_to` None) or moved to another time (aware, UTC)."""

    day: date  # the occurrence's original local date
    moved_to: datetime | None = None

    @property
    def cancelled(self) -> bool:
        """Return whether the occurrence does not take place."""
        return self.moved_to is None


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One meeting on one day; `day` (the original local date) is its identity."""

    meeting_id: int
    day: date
    starts: datetime  # aware, UTC
    ends: datetime  # aware, UTC
    moved: bool = False


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder of one occurrence; (meeting, day, offset key) is sent exactly once."""

    occurrence: Occurrence
    offset: Offset
    at: datetime  # aware, UTC
    last: bool = False  # the reminder closest to the start: it carries the coordinators' brief

    @property
    def key(self) -> tuple[int, date, str]:
        """Return the identity recorded when the reminder is sent."""
        return (self.occurrence.meeting_id, self.occurrence.day, self.offset.key)


@dataclass(frozen=True, slots=True)
class Group:
    """A Telegram group chat the bot was added to."""

    chat_id: int
    title: str
    member: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    """One reminder (or brief) to one chat, not yet delivered."""

    id: int
    kind: str  # 'reminder' or 'brief'
    chat_id: int
    person_id: int | None
    meeting_id: int
    day: date
    due_at: datetime
