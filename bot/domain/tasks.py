"""Tasks and their lifecycle: the one transition table that decides what may happen to a task.

```
open ──offer──▶ offered ──accept──▶ accepted ──start──▶ started ──complete──▶ done
  ▲               │  ▲                  │                  └──────fail──────▶ not completed
  └───return──────┘  └─offer─ escalated ◀─escalate─ (offered, nobody accepted in time)
cancel: from every unfinished state; assign: a coordinator hands the task to a holder by hand
```

`next_state` is the only judge: an action that is not in the table raises `IllegalTransition` and
the caller changes nothing. A decline removes one pair's offer; when no offer is left pending, the
task `returns` to the pool (`open`). A task whose holder leaves (deactivated, pair dissolved) is
`released` back to `open` for the coordinators.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from bot.domain.errors import IllegalTransition

__all__ = [
    "FINISHED",
    "HELD",
    "OFFERABLE",
    "TRANSITIONS",
    "UNFINISHED",
    "Action",
    "Holder",
    "MessageKind",
    "Priority",
    "Task",
    "TaskEvent",
    "TaskKind",
    "TaskMessage",
    "TaskState",
    "UnfinishedReason",
    "next_state",
]


class TaskKind(StrEnum):
    """What the task is."""

    HOME_VISIT = "home_visit"
    ERRAND = "errand"
    DELIVERY = "delivery"
    CONVERSATION_HELP = "conversation_help"
    PHONE_CHECK = "phone_check"


class Priority(StrEnum):
    """How soon it matters."""

    NORMAL = "normal"
    URGENT = "urgent"


class TaskState(StrEnum):
    """Where a task is in its lifecycle."""

    OPEN = "open"
    OFFERED = "offered"
    ESCALATED = "escalated"
    ACCEPTED = "accepted"
    STARTED = "started"
    DONE = "done"
    NOT_COMPLETED = "not_completed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """What someone (or the clock) does to a task."""

    CREATE = "create"  # recorded in the history only; a new task starts `open`
    OFFER = "offer"
    ACCEPT = "accept"
    DECLINE = "decline"  # one pair's offer; recorded only, the task's state is unchanged
    RETURN = "return"
    ESCALATE = "escalate"
    ASSIGN = "assign"
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    RELEASE = "release"
    CANCEL = "cancel"
    ATTEMPT = "attempt"  # a phone call that went unanswered; recorded only, the holder tries again


class UnfinishedReason(StrEnum):
    """Why a holder could not complete a task."""

    NOT_AT_HOME = "not_at_home"
    REFUSED = "refused"
    WRONG_ADDRESS = "wrong_address"
    NO_ANSWER = "no_answer"  # a phone check: the calls went unanswered
    WRONG_NUMBER = "wrong_number"
    OTHER = "other"


_S, _A = TaskState, Action
UNFINISHED: frozenset[TaskState] = frozenset(
    {_S.OPEN, _S.OFFERED, _S.ESCALATED, _S.ACCEPTED, _S.STARTED}
)
FINISHED: frozenset[TaskState] = frozenset({_S.DONE, _S.NOT_COMPLETED, _S.CANCELLED})
HELD: frozenset[TaskState] = frozenset({_S.ACCEPTED, _S.STARTED})
OFFERABLE: frozenset[TaskState] = frozenset({_S.OFFERED, _S.ESCALATED})

TRANSITIONS: dict[tuple[TaskState, Action], TaskState] = {
    (_S.OPEN, _A.OFFER): _S.OFFERED,
    (_S.OFFERED, _A.OFFER): _S.OFFERED,  # a re-offer to the pairs available now
    (_S.ESCALATED, _A.OFFER): _S.OFFERED,
    (_S.OFFERED, _A.ACCEPT): _S.ACCEPTED,
    (_S.ESCALATED, _A.ACCEPT): _S.ACCEPTED,  # a late accept is still welcome
    (_S.OFFERED, _A.DECLINE): _S.OFFERED,
    (_S.ESCALATED, _A.DECLINE): _S.ESCALATED,
    (_S.OFFERED, _A.RETURN): _S.OPEN,
    (_S.ESCALATED, _A.RETURN): _S.OPEN,
    (_S.OFFERED, _A.ESCALATE): _S.ESCALATED,
    (_S.ACCEPTED, _A.START): _S.STARTED,
    (_S.ACCEPTED, _A.COMPLETE): _S.DONE,  # pressing Start first is not required
    (_S.STARTED, _A.COMPLETE): _S.DONE,
    (_S.ACCEPTED, _A.FAIL): _S.NOT_COMPLETED,
    (_S.STARTED, _A.FAIL): _S.NOT_COMPLETED,
    (_S.ACCEPTED, _A.ATTEMPT): _S.ACCEPTED,
    (_S.STARTED, _A.ATTEMPT): _S.STARTED,
    (_S.ACCEPTED, _A.RELEASE): _S.OPEN,
    (_S.STARTED, _A.RELEASE): _S.OPEN,
    **{(state, _A.ASSIGN): _S.ACCEPTED for state in UNFINISHED},
    **{(state, _A.CANCEL): _S.CANCELLED for state in UNFINISHED},
}


def next_state(state: TaskState, action: Action) -> TaskState:
    """Return the state `action` leads to from `state`, or raise `IllegalTransition`."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state.value, action.value) from None


class Holder(BaseModel):
    """Who holds a task: a pair, one person, or a partner organisation (at most one of them)."""

    model_config = ConfigDict(frozen=True)

    pair_id: int | None = None
    person_id: int | None = None
    organisation_id: int | None = None

    @model_validator(mode="after")
    def _at_most_one(self) -> Holder:
        if sum(v is not None for v in (self.pair_id, self.person_id, self.organisation_id)) > 1:
            raise ValueError("a task has one holder")
        return self

    @property
    def empty(self) -> bool:
        """Return whether nobody holds the task."""
        return self.pair_id is None and self.person_id is None and self.organisation_id is None


class Task(BaseModel):
    """A piece of work for one resident."""

    model_config = ConfigDict(frozen=True)

    id: int
    resident_id: int
    kind: TaskKind
    details: str
    window_start: datetime
    window_end: datetime
    priority: Priority
    state: TaskState
    holder: Holder
    created_by: int | None
    created_at: datetime
    offered_at: datetime | None = None
    reminded_at: datetime | None = None
    overdue_reported_at: datetime | None = None
    closed_at: datetime | None = None
    reason: UnfinishedReason | None = None
    note: str | None = None
    follows_id: int | None = None  # a follow-up: the task whose outcome asked for it
    cause: str | None = None  # and why (a word of the follow-up rules, e.g. "revisit")

    @property
    def finished(self) -> bool:
        """Return whether the task is done, not completed or cancelled."""
        return self.state in FINISHED

    @property
    def held(self) -> bool:
        """Return whether a holder is working on it (accepted or started)."""
        return self.state in HELD


class TaskEvent(BaseModel):
    """One recorded transition of a task."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor_id: int | None
    action: Action
    from_state: TaskState | None
    to_state: TaskState
    detail: str | None = None


class MessageKind(StrEnum):
    """What a chat message about a task shows."""

    OFFER = "offer"  # kind, postal area, window, priority: never who or where
    CARD = "card"  # everything the holder needs, scrubbed when the task ends


class TaskMessage(BaseModel):
    """A message in someone's chat that shows a task, so it can be edited when the task moves."""

    model_config = ConfigDict(frozen=True)

    chat_id: int
    message_id: int
    task_id: int
    person_id: int
    kind: MessageKind
