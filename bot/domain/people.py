"""People who use the bot, their roles and organisations, and what each role may do.

A person holds one or more roles; what they may do is the union of their roles' capabilities, and a
deactivated person may do nothing at all. This module is the one place that says so.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ROLES_NEEDING_ORGANISATION",
    "SUPPORTED_LANGUAGES",
    "Capability",
    "Organisation",
    "Person",
    "Role",
    "capabilities_of",
    "normalise_language",
]

SUPPORTED_LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")


class Role(StrEnum):
    """What a person does in the help network; the stored value is language-neutral."""

    COORDINATOR = "coordinator"
    CALLER = "caller"
    VOLUNTEER = "volunteer"
    PARTNER = "partner"
    LINK_WORKER = "link_worker"


class Capability(StrEnum):
    """Something a role allows."""

    MANAGE_PEOPLE = "manage_people"
    INVITE = "invite"
    MANAGE_RESIDENTS = "manage_residents"  # add, import and look up residents
    DISPATCH = "dispatch"  # create tasks, form pairs, assign, offer, cancel
    TAKE_TASKS = "take_tasks"  # hold tasks and close them
    SET_AVAILABILITY = "set_availability"  # take offers or not, and where
    MANAGE_MEETINGS = "manage_meetings"  # create, change and cancel coordination meetings
    BROADCAST = "broadcast"  # send news and batches of offers to many people at once
    MANAGE_CAMPAIGNS = "manage_campaigns"  # start, pause, resume and close phone-check campaigns
    CALL = "call"  # take the next resident of a campaign's calling list


_ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.COORDINATOR: frozenset(Capability) - {Capability.SET_AVAILABILITY},
    Role.CALLER: frozenset({Capability.TAKE_TASKS, Capability.CALL}),
    Role.VOLUNTEER: frozenset({Capability.TAKE_TASKS, Capability.SET_AVAILABILITY}),
    Role.PARTNER: frozenset({Capability.TAKE_TASKS}),
    Role.LINK_WORKER: frozenset(),
}

ROLES_NEEDING_ORGANISATION: frozenset[Role] = frozenset({Role.PARTNER})


class Organisation(BaseModel):
    """A partner organisation, e.g. a Red Cross branch, a parish or social services."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str


class Person(BaseModel):
    """A registered user of the bot."""

    model_config = ConfigDict(frozen=True)

    id: int
    telegram_user_id: int
    name: str
    language: str
    roles: frozenset[Role] = Field(default_factory=frozenset)
    organisation: Organisation | None = None
    active: bool = True
    available: bool = True  # takes offers now (/available, /away)
    created_at: datetime
    unreachable_since: datetime | None = None  # blocked the bot: messages to them fail

    def can(self, capability: Capability) -> bool:
        """Return whether this person may do what `capability` names."""
        return capability in capabilities_of(self)


def capabilities_of(person: Person) -> frozenset[Capability]:
    """Return everything the person's roles allow; nothing when deactivated."""
    if not person.active:
        return frozenset()
    allowed: set[Capability] = set()
    for role in person.roles:
        allowed |= _ROLE_CAPABILITIES[role]
    return frozenset(allowed)


def normalise_language(code: str | None, default: str) -> str:
    """Map a Telegram `language_code` such as `fi-FI` or `sv_FI` to a supported language."""
    if code:
        primary = code.replace("_", "-").split("-", 1)[0].strip().lower()
        if primary in SUPPORTED_LANGUAGES:
            return primary
    return default
