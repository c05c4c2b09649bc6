"""Pairs and availability: /pair for coordinators; /available, /away and /areas for volunteers.

A new pair takes a few presses (first person, second person, organisation). Each button carries
the choices made so far, so nothing waits in memory between the steps and an old message still
works after a restart. The choices are never trusted: the service checks again on the last press,
and a choice gone stale meanwhile (someone was paired elsewhere) is refused with nothing changed.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.domain.errors import InvalidValue, PairNotFound, PersonInPair
from bot.domain.pairs import parse_areas
from bot.domain.people import Capability, Person
from bot.domain.tasks import Task
from bot.i18n import Html
from bot.services.pairs import Dissolved
from handlers import task_messages
from handlers.callback_data import DissolvePair, FormPair, PickPairMember, ShowPairs
from handlers.context import ApuriContext, requires
from handlers.pairs_render import (
    areas_error,
    areas_help,
    availability_text,
    confirm_dissolve,
    dissolved_note,
    dissolved_report,
    formed_text,
    organisation_choice,
    paired_note,
    pairs_page,
    pick_member,
)
from handlers.replies import edit

__all__ = [
    "areas",
    "available",
    "away",
    "dissolve_pair",
    "form_pair",
    "handlers",
    "list_pairs",
    "pick_pair_member",
    "show_pairs_page",
]

# Words after /areas that clear the areas (cover everywhere), in the three languages.
_EVERYWHERE = frozenset(
    {"all", "everywhere", "kaikki", "kaikkialla", "alla", "överallt", "overallt"}
)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return this feature's handlers, in order."""
    return [
        CommandHandler("pair", list_pairs),
        CommandHandler("available", available),
        CommandHandler("away", away),
        CommandHandler("areas", areas),
        CallbackQueryHandler(show_pairs_page, pattern=ShowPairs.matches()),
        CallbackQueryHandler(pick_pair_member, pattern=PickPairMember.matches()),
        CallbackQueryHandler(form_pair, pattern=FormPair.matches()),
        CallbackQueryHandler(dissolve_pair, pattern=DissolvePair.matches()),
    ]


# --- coordinators -------------------------------------------------------------------------------


@requires(Capability.DISPATCH)
async def list_pairs(update: Update, context: ApuriContext) -> None:
    """Show the current pairs with buttons to dissolve them or form a new one."""
    assert update.message is not None
    pairs = await context.services.pairs.current(context.actor)
    text, keyboard = pairs_page(context.tr, pairs, 1)
    await update.message.reply_text(text, reply_markup=keyboard)


@requires(Capability.DISPATCH)
async def show_pairs_page(update: Update, context: ApuriContext) -> None:
    """Show a page of the current pairs."""
    query = update.callback_query
    assert query is not None
    page = ShowPairs.parse(query.data).page
    pairs = await context.services.pairs.current(context.actor)
    text, keyboard = pairs_page(context.tr, pairs, page)
    await query.answer()
    await edit(query, text, keyboard)


@requires(Capability.DISPATCH)
async def pick_pair_member(update: Update, context: ApuriContext) -> None:
    """Ask for the next person of a new pair, or for its organisation once both are chosen."""
    query = update.callback_query
    assert query is not None
    data = PickPairMember.parse(query.data)
    free = await context.services.pairs.unpaired(context.actor)
    if data.first_id == 0:
        text, keyboard = pick_member(context.tr, free, None, data.page)
    elif data.second_id == 0:
        first = _still_free(free, data.first_id)
        others = [p for p in free if p.id != first.id]
        text, keyboard = pick_member(context.tr, others, first, data.page)
    else:
        first = _still_free(free, data.first_id)
        second = _still_free(free, data.second_id)
        if first.id == second.id:
            raise PersonInPair
        organisations = await context.services.invites.organisations()
        text, keyboard = organisation_choice(context.tr, first, second, organisations)
    await query.answer()
    await edit(query, text, keyboard)


def _still_free(free: list[Person], person_id: int) -> Person:
    """Return the chosen person if they are still free to pair (the service checks again)."""
    for person in free:
        if person.id == person_id:
            return person
    raise PersonInPair


@requires(Capability.DISPATCH)
async def form_pair(update: Update, context: ApuriContext) -> None:
    """Form the chosen pair and tell both, each in their own language."""
    query = update.callback_query
    assert query is not None
    data = FormPair.parse(query.data)
    formed = await context.services.pairs.pair_up(
        context.actor, data.first_id, data.second_id, data.organisation_id or None
    )
    text, keyboard = formed_text(context.tr, formed.pair)
    await query.answer(context.tr.plain("Saved."))
    await edit(query, text, keyboard)
    if formed.new:  # a double tap forms nothing and tells nobody twice
        for member in formed.pair.members:
            note = paired_note(context.translator_for(member), formed.pair, member)
            await task_messages.send(context, member, note)


@requires(Capability.DISPATCH)
async def dissolve_pair(update: Update, context: ApuriContext) -> None:
    """Dissolve a pair after a confirmation; report the tasks it gave back and tell its people."""
    query = update.callback_query
    assert query is not None
    data = DissolvePair.parse(query.data)
    pairs = context.services.pairs
    if not data.confirmed:
        pair = await pairs.get(context.actor, data.pair_id)
        if not pair.current:
            raise PairNotFound
        text, keyboard = confirm_dissolve(context.tr, pair)
        await query.answer()
        await edit(query, text, keyboard)
        return
    dissolved = await pairs.dissolve(context.actor, data.pair_id)
    text, keyboard = dissolved_report(context.tr, dissolved)
    await query.answer(context.tr.plain("Saved."))
    await edit(query, text, keyboard)
    await _tell_dissolved(context, dissolved)
    for released in dissolved.released:
        await task_messages.scrub(
            context, released.task, released.postal_code, released.stale, released.audience
        )


async def _tell_dissolved(context: ApuriContext, dissolved: Dissolved) -> None:
    """Tell the pair's members it ended, and each former holder which tasks were taken back."""
    told: dict[int, tuple[Person, bool, list[Task]]] = {
        m.id: (m, True, []) for m in dissolved.pair.members if m.active
    }
    for released in dissolved.released:
        for person in released.former:
            told.setdefault(person.id, (person, False, []))[2].append(released.task)
    for person, member, tasks in told.values():
        note = dissolved_note(
            context.translator_for(person), dissolved.pair if member else None, person, tasks
        )
        await task_messages.send(context, person, note)


# --- volunteers ---------------------------------------------------------------------------------


@requires(Capability.SET_AVAILABILITY)
async def available(update: Update, context: ApuriContext) -> None:
    """Take offers from now on."""
    assert update.message is not None
    availability = await context.services.pairs.set_available(context.actor, True)
    await update.message.reply_text(availability_text(context.tr, context.actor, availability))


@requires(Capability.SET_AVAILABILITY)
async def away(update: Update, context: ApuriContext) -> None:
    """Take no offers until /available."""
    assert update.message is not None
    availability = await context.services.pairs.set_available(context.actor, False)
    await update.message.reply_text(availability_text(context.tr, context.actor, availability))


@requires(Capability.SET_AVAILABILITY)
async def areas(update: Update, context: ApuriContext) -> None:
    """Set the postal areas typed after /areas, clear them with `all`, or show them."""
    message = update.message
    assert message is not None
    tr, actor, pairs = context.tr, context.actor, context.services.pairs
    words = context.args or []
    if not words:
        availability = await pairs.availability(actor)
        text = Html(f"{availability_text(tr, actor, availability)}\n\n{areas_help(tr)}")
        await message.reply_text(text)
        return
    if len(words) == 1 and words[0].casefold() in _EVERYWHERE:
        chosen: frozenset[str] = frozenset()
    else:
        try:
            chosen = parse_areas(" ".join(words))
        except InvalidValue as exc:
            await message.reply_text(areas_error(tr, exc.reason))
            return
    availability = await pairs.set_areas(actor, chosen)
    await message.reply_text(availability_text(tr, actor, availability, head=tr.gettext("Saved.")))
