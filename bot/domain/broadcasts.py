"""Broadcasts: one message (or a batch of task offers) to many people, each delivered exactly once.

A broadcast is stored with one outbox row per recipient (and per task, for offers) before anything
is sent; a worker sends the rows and records each outcome. A row moves only forward:

    pending ──▶ sending ──▶ sent | blocked | failed | uncertain
       │  ▲         │
       │  └─────────┘  429 (throttled) or a network error with attempts left (back to pending)
       └──▶ cancelled | skipped

`sending` is written just before the request leaves, so after a hard stop a row still `sending` is
the only one whose fate is unknown: it becomes `uncertain` (reported by name) and is never sent a
second time. A graceful stop lets requests in flight finish, so nothing is left uncertain.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.errors import DomainError
from bot.domain.people import Role

__all__ = [
    "CAPTION_LIMIT",
    "FINAL",
    "MAX_NAMES",
    "MAX_TEXT",
    "TEXT_LIMIT",
    "Attachment",
    "AttachmentKind",
    "Audience",
    "AudienceKind",
    "Broadcast",
    "BroadcastError",
    "BroadcastKind",
    "BroadcastProblem",
    "BroadcastState",
    "OutboxRow",
    "RowState",
    "StopReason",
    "Tally",
    "parse_area",
    "retry_delay",
    "split_text",
    "utf16_len",
]

TEXT_LIMIT = 4096  # Telegram's limit of one text message, in UTF-16 code units after parsing
CAPTION_LIMIT = 1024  # of a photo's or document's caption
MAX_TEXT = 12_000  # what one broadcast may say in all (a few messages), to keep it a message
MAX_NAMES = 30  # names listed per group in a report; the rest are counted


class BroadcastProblem(StrEnum):
    """Why a broadcast was refused; handlers say it in the person's language."""

    EMPTY_AUDIENCE = "empty_audience"  # nobody matches the chosen audience
    EMPTY_MESSAGE = "empty_message"  # no text and no file
    TOO_LONG = "too_long"  # more than MAX_TEXT characters
    FILE_TOO_LARGE = "file_too_large"  # over the configured size
    BAD_AREA = "bad_area"  # not a postal-code prefix
    NO_TASKS = "no_tasks"  # no open task to offer (or none chosen)
    NO_PAIRS = "no_pairs"  # no available pair covers any chosen task
    FINISHED = "finished"  # the broadcast has already ended


class BroadcastError(DomainError, ValueError):
    """A broadcast was refused; `problem` says which rule."""

    def __init__(self, problem: BroadcastProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class AudienceKind(StrEnum):
    """Whom a message broadcast reaches (the stored value is language-neutral)."""

    EVERYONE = "everyone"  # every active person
    VOLUNTEERS = "volunteers"  # every active volunteer
    AVAILABLE = "available"  # volunteers taking offers now
    ORGANISATION = "organisation"  # the active people of one organisation
    ROLE = "role"  # the active people holding one role
    AREA = "area"  # volunteers whose areas meet a postal-code prefix (no areas: everywhere)
    PAIRS = "pairs"  # the members of chosen pairs


class Audience(BaseModel):
    """A chosen audience; only the field its kind needs is set."""

    model_config = ConfigDict(frozen=True)

    kind: AudienceKind
    organisation_id: int | None = None
    role: Role | None = None
    area: str | None = None
    pair_ids: frozenset[int] = Field(default_factory=frozenset)

    @property
    def complete(self) -> bool:
        """Return whether the kind's detail has been chosen."""
        match self.kind:
            case AudienceKind.ORGANISATION:
                return self.organisation_id is not None
            case AudienceKind.ROLE:
                return self.role is not None
            case AudienceKind.AREA:
                return bool(self.area)
            case AudienceKind.PAIRS:
                return bool(self.pair_ids)
            case _:
                return True

    def meets_area(self, areas: frozenset[str]) -> bool:
        """Return whether a person's areas meet the audience's prefix (no areas: everywhere)."""
        prefix = self.area or ""
        return not areas or any(a.startswith(prefix) or prefix.startswith(a) for a in areas)


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Attachment(BaseModel):
    """A photo or document the coordinator sent; it is resent by Telegram's file id."""

    model_config = ConfigDict(frozen=True)

    kind: AttachmentKind
    file_id: str
    file_name: str | None = None
    size: int | None = None


class BroadcastKind(StrEnum):
    MESSAGE = "message"  # news: one text (and file) to an audience
    OFFERS = "offers"  # open tasks offered to the available pairs covering them


class BroadcastState(StrEnum):
    SENDING = "sending"
    FINISHED = "finished"
    CANCELLED = "cancelled"  # by a coordinator, or because its author may no longer broadcast


class RowState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the person blocked the bot
    FAILED = "failed"  # refused, or a network fault outlasted the attempts
    UNCERTAIN = "uncertain"  # the bot stopped hard while this request was in flight
    SKIPPED = "skipped"  # no longer needed: the task was taken, the person left
    CANCELLED = "cancelled"


FINAL: frozenset[RowState] = frozenset(RowState) - {RowState.PENDING, RowState.SENDING}


class StopReason(StrEnum):
    CANCELLED = "cancelled"  # a coordinator pressed Cancel
    REVOKED = "revoked"  # the author may no longer broadcast (role removed, deactivated)


class Broadcast(BaseModel):
    """One broadcast as stored."""

    model_config = ConfigDict(frozen=True)

    id: int
    kind: BroadcastKind
    author_id: int
    audience: Audience | None = None  # None for offers: each task's covering pairs
    text: str = ""
    attachment: Attachment | None = None
    state: BroadcastState
    created_at: datetime
    finished_at: datetime | None = None
    stop_reason: StopReason | None = None
    stopped_by: int | None = None
    reported_at: datetime | None = None
    progress_chat_id: int | None = None
    progress_message_id: int | None = None


class OutboxRow(BaseModel):
    """One message of a broadcast to one person (and, for offers, about one task)."""

    model_config = ConfigDict(frozen=True)

    id: int
    broadcast_id: int
    person_id: int
    task_id: int | None = None
    pair_id: int | None = None
    state: RowState
    attempts: int = 0
    parts_sent: int = 0
    not_before: datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """How many rows of a broadcast are in each state."""

    counts: dict[RowState, int]

    def __getitem__(self, state: RowState) -> int:
        return self.counts.get(state, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Rows that reached a final state."""
        return sum(n for state, n in self.counts.items() if state in FINAL)

    @property
    def open(self) -> int:
        """Rows still to send (pending, or in flight)."""
        return self[RowState.PENDING] + self[RowState.SENDING]


_AREA = re.compile(r"[0-9]{1,5}")


def parse_area(text: str) -> str:
    """Read a postal-code prefix such as `70` or `00100`."""
    value = text.strip().replace(" ", "")
    if not _AREA.fullmatch(value):
        raise BroadcastError(BroadcastProblem.BAD_AREA)
    return value


_BACKOFF = (2.0, 5.0, 15.0, 30.0, 60.0)


def retry_delay(attempt: int) -> timedelta:
    """Return how long to wait before attempt number `attempt + 1` after a network fault."""
    return timedelta(seconds=_BACKOFF[min(max(attempt, 1), len(_BACKOFF)) - 1])


def utf16_len(text: str) -> int:
    """Return the length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# Where a text may be cut, best first: between paragraphs, lines, sentences, words.
_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…])\s+"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into parts of at most `limit` UTF-16 units, at the most natural breaks.

    Paragraphs are preferred, then lines, sentences and words; a word longer than a part is cut
    between characters, never inside a surrogate pair or before a combining mark. Whitespace at a
    cut is dropped and no part is empty, so joining the parts with that whitespace gives the text.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            parts.append(rest)
            break
        fits = _fitting(rest, limit)
        cut = _best_break(rest, fits)
        if cut is None:
            end = _hard_cut(rest, fits)
            piece, rest = rest[:end], rest[end:]
        else:
            piece, rest = rest[: cut[0]].rstrip(), rest[cut[1] :]
        parts.append(piece)
        rest = rest.lstrip()
    return parts


def _fitting(text: str, limit: int) -> int:
    """Return how many characters from the start of `text` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _best_break(text: str, fits: int) -> tuple[int, int] | None:
    """Return the span of the last natural break that starts within `fits`, or None.

    A break at the very start would leave an empty part and is not taken.
    """
    for pattern in _BREAKS:
        last = None
        for match in pattern.finditer(text):
            if match.start() > fits:
                break
            if match.start() > 0:
                last = match
        if last is not None:
            return last.start(), last.end()
    return None


def _hard_cut(text: str, fits: int) -> int:
    """Return where to cut a text with no break: before a character that does not cling back."""
    cut = fits
    while cut > 1 and (_clings(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    return cut


def _clings(char: str) -> bool:
    """Combining marks, variation selectors and joiners belong to the character before them."""
    return unicodedata.category(char) in ("Mn", "Me") or char in "\u200d\ufe0e\ufe0f"
