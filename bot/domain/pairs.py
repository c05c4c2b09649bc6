"""Volunteer pairs, availability and areas: who may receive an offer for which resident.

Home visits are made by two people, so offers go to pairs. A pair takes offers when it is current
(not dissolved) and both members are active and available. A person's areas are postal-code
prefixes (`70` covers 70100 and 70820); a pair covers the union of its members' areas, and a pair
with no areas at all covers everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.errors import InvalidValue
from bot.domain.people import Capability, Organisation, Person

__all__ = ["MAX_AREAS", "Pair", "covers", "parse_areas"]

MAX_AREAS = 20


class Pair(BaseModel):
    """Two people who visit together."""

    model_config = ConfigDict(frozen=True)

    id: int
    members: tuple[Person, ...]
    organisation: Organisation | None = None
    created_at: datetime
    dissolved_at: datetime | None = None
    areas: frozenset[str] = frozenset()

    @property
    def current(self) -> bool:
        """Return whether the pair has not been dissolved."""
        return self.dissolved_at is None

    @property
    def workable(self) -> bool:
        """Return whether the pair can hold tasks: not dissolved, both members may take tasks."""
        return self.current and all(m.can(Capability.TAKE_TASKS) for m in self.members)

    @property
    def available(self) -> bool:
        """Return whether the pair takes offers now."""
        return self.workable and all(m.available for m in self.members)

    @property
    def names(self) -> str:
        """Return the members' names, e.g. "Aino & Bertil"."""
        return " & ".join(m.name for m in self.members)


def covers(areas: Iterable[str], postal_code: str) -> bool:
    """Return whether areas (postal-code prefixes) cover a postal code; no areas cover all."""
    prefixes = list(areas)
    if not prefixes or not postal_code:
        return True
    return any(postal_code.startswith(prefix) for prefix in prefixes)


def parse_areas(text: str) -> frozenset[str]:
    """Read postal-code prefixes separated by spaces or commas, e.g. `70 71100`."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts:
        raise InvalidValue("areas", "areas.empty")
    if len(parts) > MAX_AREAS:
        raise InvalidValue("areas", "areas.too_many")
    for part in parts:
        if not re.fullmatch(r"\d{1,5}", part):
            raise InvalidValue("areas", "areas.format")
    return frozenset(parts)
