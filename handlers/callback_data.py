"""Typed, compact callback data for inline buttons, packed and parsed only here.

Telegram allows 64 bytes; each kind is a one-letter prefix and `|`-separated fields,
e.g. `R|12|caller|1`.
The data is never trusted: it only says what the person asked for, and the services check against
the database whether they may.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self

from bot.domain.people import Role

__all__ = [
    "AssignMenu",
    "AssignTo",
    "Attend",
    "BadCallbackData",
    "BroadcastAction",
    "BroadcastStep",
    "CallAction",
    "CallbackData",
    "CampaignAction",
    "CampaignStep",
    "ChooseInviteRole",
    "ChooseLanguage",
    "DissolvePair",
    "FormPair",
    "FormPress",
    "MeetingAction",
    "MeetingStep",
    "NewTaskChoice",
    "OccurrenceAction",
    "PeoplePage",
    "PickPairMember",
    "ReferralPress",
    "ResidentFormAnswer",
    "ResidentFormDone",
    "SetActive",
    "SetRole",
    "ShowPairs",
    "ShowPerson",
    "ShowResident",
    "ShowTimeline",
    "TaskAction",
]

MAX_BYTES = 64
_SEPARATOR = "|"


class BadCallbackData(ValueError):
    """The data is not of the expected kind or shape (old, foreign or forged)."""


class CallbackData:
    """Base of every kind of callback data; subclasses are frozen dataclasses."""

    PREFIX: ClassVar[str]

    def pack(self) -> str:
        """Return the compact string form."""
        parts = [self.PREFIX]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            parts.append(("1" if value else "0") if isinstance(value, bool) else str(value))
        data = _SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def parse(cls, data: object) -> Self:
        """Return the typed value of `data`, or raise `BadCallbackData`."""
        if not isinstance(data, str):
            raise BadCallbackData("not a string")
        prefix, *parts = data.split(_SEPARATOR)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        if prefix != cls.PREFIX or len(parts) != len(fields):
            raise BadCallbackData(f"not {cls.__name__}")
        hints = typing.get_type_hints(cls)
        try:
            values = {
                f.name: _convert(hints[f.name], raw) for f, raw in zip(fields, parts, strict=True)
            }
        except ValueError as exc:
            raise BadCallbackData(str(exc)) from exc
        return cls(**values)

    @classmethod
    def matches(cls) -> Callable[[object], bool]:
        """Return a predicate for `CallbackQueryHandler(pattern=...)` selecting this kind."""
        prefix = cls.PREFIX + _SEPARATOR
        return lambda data: isinstance(data, str) and data.startswith(prefix)


def _convert(kind: type, raw: str) -> object:
    if kind is bool:
        if raw not in {"0", "1"}:
            raise ValueError(f"bad flag {raw!r}")
        return raw == "1"
    if kind is int:
        if not raw.isdigit() or len(raw) > 12:
            raise ValueError(f"bad number {raw!r}")
        return int(raw)
    return kind(raw)


@dataclass(frozen=True, slots=True)
class ChooseLanguage(CallbackData):
    """Switch the interface language."""

    PREFIX: ClassVar[str] = "L"
    language: str


@dataclass(frozen=True, slots=True)
class PeoplePage(CallbackData):
    """Show a page of the people list."""

    PREFIX: ClassVar[str] = "P"
    page: int


@dataclass(frozen=True, slots=True)
class ShowPerson(CallbackData):
    """Open a person's card."""

    PREFIX: ClassVar[str] = "S"
    person_id: int


@dataclass(frozen=True, slots=True)
class SetActive(CallbackData):
    """Deactivate or reactivate a person; deactivation asks first (`confirmed` false)."""

    PREFIX: ClassVar[str] = "A"
    person_id: int
    active: bool
    confirmed: bool


@dataclass(frozen=True, slots=True)
class SetRole(CallbackData):
    """Grant (`granted` true) or revoke a role; the target state, so a double tap is harmless."""

    PREFIX: ClassVar[str] = "R"
    person_id: int
    role: Role
    granted: bool


@dataclass(frozen=True, slots=True)
class ChooseInviteRole(CallbackData):
    """Create an invite for a role; `organisation_id` 0 means none chosen yet."""

    PREFIX: ClassVar[str] = "I"
    role: Role
    organisation_id: int


@dataclass(frozen=True, slots=True)
class TaskAction(CallbackData):
    """Do something to a task: accept, decline, start, done, fail, show, view, offer, cancel."""

    PREFIX: ClassVar[str] = "T"
    task_id: int
    action: str


@dataclass(frozen=True, slots=True)
class AssignMenu(CallbackData):
    """Show whom a task can be assigned to: `pairs`, `people` or `orgs`."""

    PREFIX: ClassVar[str] = "M"
    task_id: int
    what: str


@dataclass(frozen=True, slots=True)
class AssignTo(CallbackData):
    """Assign a task to a pair (`p`), a person (`u`) or an organisation (`o`)."""

    PREFIX: ClassVar[str] = "G"
    task_id: int
    kind: str
    target_id: int


@dataclass(frozen=True, slots=True)
class NewTaskChoice(CallbackData):
    """A choice in the /newtask conversation, e.g. `k:home_visit` or `w:today`."""

    PREFIX: ClassVar[str] = "N"
    value: str


@dataclass(frozen=True, slots=True)
class ShowPairs(CallbackData):
    """Show a page of the current pairs."""

    PREFIX: ClassVar[str] = "Q"
    page: int


@dataclass(frozen=True, slots=True)
class PickPairMember(CallbackData):
    """Choose the people of a new pair one by one; 0 means not chosen yet, `page` of the list."""

    PREFIX: ClassVar[str] = "U"
    first_id: int
    second_id: int
    page: int


@dataclass(frozen=True, slots=True)
class FormPair(CallbackData):
    """Form the pair of the two chosen people; `organisation_id` 0 means no organisation."""

    PREFIX: ClassVar[str] = "V"
    first_id: int
    second_id: int
    organisation_id: int


@dataclass(frozen=True, slots=True)
class DissolvePair(CallbackData):
    """Dissolve a pair; asks first (`confirmed` false)."""

    PREFIX: ClassVar[str] = "W"
    pair_id: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ResidentFormAnswer(CallbackData):
    """Answer question `field` of the resident form `draft` by a button (empty `value`: skip)."""

    PREFIX: ClassVar[str] = "Z"
    draft: str
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class ResidentFormDone(CallbackData):
    """Save (`save` true) or cancel the resident form `draft`."""

    PREFIX: ClassVar[str] = "Y"
    draft: str
    save: bool


@dataclass(frozen=True, slots=True)
class ShowResident(CallbackData):
    """Open a resident's card."""

    PREFIX: ClassVar[str] = "X"
    resident_id: int


@dataclass(frozen=True, slots=True)
class FormPress(CallbackData):
    """A button of an outcome form, drawn for one revision of one draft.

    `op`: c choose (arg: the choice's index; yes 0, no 1), d done ticking, s skip, b back,
    e edit menu, j edit the question at index arg, x ask to cancel, y cancel, n show again,
    k submit, r resume (send the question again at the bottom of the chat).
    """

    PREFIX: ClassVar[str] = "O"
    draft: int
    revision: int
    op: str
    arg: int


@dataclass(frozen=True, slots=True)
class ReferralPress(CallbackData):
    """A partner contact takes a referral, or marks it done (`action`: take, close)."""

    PREFIX: ClassVar[str] = "B"
    referral: int
    action: str


@dataclass(frozen=True, slots=True)
class ShowTimeline(CallbackData):
    """Show a resident's timeline of tasks, outcomes and referrals."""

    PREFIX: ClassVar[str] = "H"
    resident: int


@dataclass(frozen=True, slots=True)
class MeetingStep(CallbackData):
    """A button of the /meeting form, e.g. `day:1`, `dur:60`, `aud:role`, `save`, `edit:time`."""

    PREFIX: ClassVar[str] = "C"
    value: str


@dataclass(frozen=True, slots=True)
class MeetingAction(CallbackData):
    """Do something to a meeting: show, edit, pause, resume, delete, delete_ok, ics, dates."""

    PREFIX: ClassVar[str] = "D"
    meeting_id: int
    action: str


@dataclass(frozen=True, slots=True)
class OccurrenceAction(CallbackData):
    """Act on one occurrence (`day`: its date's ordinal): menu, cancel, cancel_ok, move."""

    PREFIX: ClassVar[str] = "E"
    meeting_id: int
    day: int
    action: str


@dataclass(frozen=True, slots=True)
class Attend(CallbackData):
    """Answer a meeting reminder: I'll attend (True) or Can't attend (False)."""

    PREFIX: ClassVar[str] = "K"
    meeting_id: int
    day: int
    attending: bool


@dataclass(frozen=True, slots=True)
class BroadcastStep(CallbackData):
    """A button of the /broadcast form, e.g. `kind:message`, `aud:area`, `pair:3`, `send`."""

    PREFIX: ClassVar[str] = "F"
    value: str


@dataclass(frozen=True, slots=True)
class BroadcastAction(CallbackData):
    """Act on a running broadcast: `stop`."""

    PREFIX: ClassVar[str] = "J"
    broadcast_id: int
    action: str


@dataclass(frozen=True, slots=True)
class CampaignStep(CallbackData):
    """A button of the /campaign new form (every upper-case letter is taken: lower case now)."""

    PREFIX: ClassVar[str] = "c"
    value: str


@dataclass(frozen=True, slots=True)
class CampaignAction(CallbackData):
    """A campaign's button: show, pause, resume, close, close_yes, next (call)."""

    PREFIX: ClassVar[str] = "k"
    campaign_id: int
    action: str


@dataclass(frozen=True, slots=True)
class CallAction(CallbackData):
    """A call card's button: report, give_back."""

    PREFIX: ClassVar[str] = "n"
    task_id: int
    action: str
