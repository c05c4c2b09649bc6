"""What outcome forms leave behind: drafts in progress, submitted outcomes, referrals, alerts.

A draft is one unfinished form for one task, owned by the holder who started it. Its `progress` is
the form engine's state as JSON, restored against the current form when read, so a form changed
between a start and a restart never breaks a draft. `revision` grows with every accepted step: a
button carries the revision it was drawn for, and a press with an older one changes nothing (a
double tap, a stale message).

A referral passes a need on: conversation help to the parish, **only with the resident's consent**
(`consent=False` referrals are `noted` and never leave the coordinators), home-care services to the
coordinators. A parish referral is `new` until a partner contact takes it, then `taken` until they
close it; the resident's name and phone are shown only to the partners of the parish while it is
new, and only to the one who took it while it is taken. A referral without a partner organisation
(home care, or no parish contact configured) is the coordinators' to arrange and mark `closed`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["AlertRecord", "Draft", "OutcomeRecord", "ReferralRecord", "ReferralState"]


class Draft(BaseModel):
    """One unfinished outcome form."""

    model_config = ConfigDict(frozen=True)

    id: int
    task_id: int
    person_id: int
    form_id: str
    form_version: int
    progress: str  # the engine's Progress as JSON
    revision: int
    chat_id: int | None
    message_id: int | None
    alerted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    reminded_at: datetime | None


class OutcomeRecord(BaseModel):
    """A submitted form: its answers and what the follow-up rules decided, both as JSON."""

    model_config = ConfigDict(frozen=True)

    id: int
    task_id: int
    resident_id: int
    form_id: str
    form_version: int
    answers: str
    decision: str
    submitted_by: int | None
    submitted_at: datetime


class ReferralState(StrEnum):
    """Where a referral is."""

    NOTED = "noted"  # the need is recorded; nothing was passed on (the resident did not consent)
    NEW = "new"
    TAKEN = "taken"
    CLOSED = "closed"


class ReferralRecord(BaseModel):
    """A need passed on from an outcome."""

    model_config = ConfigDict(frozen=True)

    id: int
    resident_id: int
    task_id: int | None
    outcome_id: int | None
    kind: str  # bot.domain.outcomes.ReferralKind
    consent: bool
    state: ReferralState
    organisation_id: int | None
    taken_by: int | None
    created_at: datetime
    taken_at: datetime | None = None
    closed_at: datetime | None = None


class AlertRecord(BaseModel):
    """Coordinators alerted from a form: something urgent, or a concern for health."""

    model_config = ConfigDict(frozen=True)

    id: int
    task_id: int
    resident_id: int
    raised_by: int | None
    at: datetime
