"""A small network of people, pairs and open tasks for the broadcast tests."""

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.pairs import Pair
from bot.domain.people import Organisation, Person, Role
from bot.domain.residents import ResidentInput
from bot.domain.tasks import Priority, Task, TaskKind
from bot.domain.windows import TimeWindow


async def join(services, role: Role, user: int, name: str, organisation: str | None = None):
    """Invite and register a person, optionally in an organisation (named, made on first use)."""
    issued = await services.invites.create(None, role, name=name, organisation_name=organisation)
    redeemed = await services.invites.redeem(
        user, issued.code, telegram_name=name, language_code="fi"
    )
    return redeemed.person


@dataclass
class Network:
    """Who is who (fresh from the database after seeding)."""

    boss: Person  # coordinator, the usual author; in a pair with Daniel
    deputy: Person  # a second coordinator
    aino: Person  # volunteer, areas 70
    bertil: Person  # volunteer, areas 701
    cecilia: Person  # volunteer, areas 00
    daniel: Person  # volunteer, no areas (everywhere), away
    eeva: Person  # volunteer, areas 70, deactivated
    fredrik: Person  # volunteer in Punainen Risti, areas 00100
    gustav: Person  # volunteer, areas 33, paired with the deactivated Eeva
    pia: Person  # partner in Punainen Risti
    paavo: Person  # partner in Punainen Risti, deactivated
    cally: Person  # caller
    linnea: Person  # link worker in Seurakunta
    red_cross: Organisation
    parish: Organisation
    empty_org: Organisation  # nobody registered in it
    ab: Pair  # Aino & Bertil: available, covers 70…
    cf: Pair  # Cecilia & Fredrik: available, covers 00…
    bd: Pair  # Kaisa (boss) & Daniel: Daniel is away
    eg: Pair  # Eeva & Gustav: Eeva left

    def name_of(self, person_id: int) -> str:
        for value in vars(self).values():
            if isinstance(value, Person) and value.id == person_id:
                return value.name
        raise KeyError(person_id)

    def names(self, people) -> set[str]:
        return {p.name for p in people}


async def seed(services) -> Network:
    """Register the people, set availability and areas, form the pairs, deactivate the leavers."""
    v = Role.VOLUNTEER
    boss = await join(services, Role.COORDINATOR, 1, "Kaisa")
    deputy = await join(services, Role.COORDINATOR, 2, "Olli")
    aino = await join(services, v, 10, "Aino")
    bertil = await join(services, v, 11, "Bertil")
    cecilia = await join(services, v, 12, "Cecilia")
    daniel = await join(services, v, 13, "Daniel")
    eeva = await join(services, v, 14, "Eeva")
    fredrik = await join(services, v, 15, "Fredrik", "Punainen Risti")
    gustav = await join(services, v, 16, "Gustav")
    pia = await join(services, Role.PARTNER, 20, "Pia", "Punainen Risti")
    paavo = await join(services, Role.PARTNER, 21, "Paavo", "Punainen Risti")
    cally = await join(services, Role.CALLER, 30, "Cally")
    linnea = await join(services, Role.LINK_WORKER, 40, "Linnea", "Seurakunta")
    empty = await services.invites.create(None, Role.PARTNER, organisation_name="Tyhjä yhdistys")

    for person, areas in (
        (aino, {"70"}),
        (bertil, {"701"}),
        (cecilia, {"00"}),
        (eeva, {"70"}),
        (fredrik, {"00100"}),
        (gustav, {"33"}),
    ):
        await services.pairs.set_areas(person, frozenset(areas))
    await services.pairs.set_available(daniel, False)

    ab = await services.pairs.form(boss, aino.id, bertil.id)
    cf = await services.pairs.form(boss, cecilia.id, fredrik.id)
    bd = await services.pairs.form(boss, boss.id, daniel.id)
    eg = await services.pairs.form(boss, eeva.id, gustav.id)
    await services.people.deactivate(boss, eeva.id)
    await services.people.deactivate(boss, paavo.id)

    async def fresh(person: Person) -> Person:
        return await services.people.get(boss, person.id)

    async def pair(p: Pair) -> Pair:
        return await services.pairs.get(boss, p.id)

    assert fredrik.organisation is not None and linnea.organisation is not None
    assert empty.organisation is not None
    return Network(
        boss=await fresh(boss),
        deputy=await fresh(deputy),
        aino=await fresh(aino),
        bertil=await fresh(bertil),
        cecilia=await fresh(cecilia),
        daniel=await fresh(daniel),
        eeva=await fresh(eeva),
        fredrik=await fresh(fredrik),
        gustav=await fresh(gustav),
        pia=await fresh(pia),
        paavo=await fresh(paavo),
        cally=await fresh(cally),
        linnea=await fresh(linnea),
        red_cross=fredrik.organisation,
        parish=linnea.organisation,
        empty_org=empty.organisation,
        ab=await pair(ab),
        cf=await pair(cf),
        bd=await pair(bd),
        eg=await pair(eg),
    )


async def open_task(services, clock, boss: Person, postal_code: str, *, hours: int = 2) -> Task:
    """Create an open task for a new resident living in `postal_code`."""
    resident = (
        await services.residents.save(
            None,
            ResidentInput(
                name=f"Asukas {postal_code}", phone="0401234567", postal_code=postal_code
            ),
        )
    ).resident
    start = clock() + timedelta(hours=hours)
    return await services.dispatch.create(
        boss,
        resident_id=resident.id,
        kind=TaskKind.ERRAND,
        window=TimeWindow(start=start, end=start + timedelta(hours=2)),
        priority=Priority.NORMAL,
        details="kauppa",
    )
