"""Coordinators' commands for people: /invite, /people and each person's card."""

from __future__ import annotations

from telegram import Update

from bot.domain.people import ROLES_NEEDING_ORGANISATION, Capability, Person, Role
from handlers.callback_data import ChooseInviteRole, PeoplePage, SetActive, SetRole, ShowPerson
from handlers.commands import publish_menu_of
from handlers.context import ApuriContext, requires
from handlers.render import (
    confirm_deactivation,
    invite_organisation_keyboard,
    invite_role_keyboard,
    invite_text,
    people_page,
    person_card,
    roles_changed_text,
)
from handlers.replies import edit
from handlers.task_messages import send
from handlers.tasks import tell_released

__all__ = [
    "invite",
    "invite_role_chosen",
    "list_people",
    "set_active",
    "set_role",
    "show_people_page",
    "show_person",
]

# Aliases a coordinator may type after /invite, in any of the three languages.
_ROLE_WORDS: dict[str, Role] = {
    **{role.value: role for role in Role},
    "linkworker": Role.LINK_WORKER,
    "koordinaattori": Role.COORDINATOR,
    "soittaja": Role.CALLER,
    "vapaaehtoinen": Role.VOLUNTEER,
    "kumppani": Role.PARTNER,
    "hyvinvointilähetti": Role.LINK_WORKER,
    "koordinator": Role.COORDINATOR,
    "ringare": Role.CALLER,
    "frivillig": Role.VOLUNTEER,
    "partner": Role.PARTNER,
    "välfärdsombud": Role.LINK_WORKER,
}


@requires(Capability.INVITE)
async def invite(update: Update, context: ApuriContext) -> None:
    """Create an invite for the role named after /invite, or offer the roles as buttons."""
    message = update.message
    assert message is not None
    args = context.args or []
    if not args:
        await message.reply_text(
            context.tr.gettext("Whom do you want to invite?"),
            reply_markup=invite_role_keyboard(context.tr),
        )
        return
    role = _ROLE_WORDS.get(args[0].lower())
    if role is None:
        await message.reply_text(
            context.tr.gettext("I do not know that role. Choose one:"),
            reply_markup=invite_role_keyboard(context.tr),
        )
        return
    issued = await context.services.invites.create(
        context.actor, role, organisation_name=" ".join(args[1:]) or None
    )
    await message.reply_text(invite_text(context.tr, issued, context.bot_data.timezone))


@requires(Capability.INVITE)
async def invite_role_chosen(update: Update, context: ApuriContext) -> None:
    """Create the invite for the pressed role, asking for an organisation where one is needed."""
    query = update.callback_query
    assert query is not None
    choice = ChooseInviteRole.parse(query.data)
    if choice.role in ROLES_NEEDING_ORGANISATION and choice.organisation_id == 0:
        organisations = await context.services.invites.organisations()
        await query.answer()
        await edit(
            query,
            context.tr.gettext(
                "Which organisation? Choose one, or send /invite partner followed by the name "
                "of a new organisation."
            ),
            reply_markup=invite_organisation_keyboard(organisations, choice.role),
        )
        return
    issued = await context.services.invites.create(
        context.actor, choice.role, organisation_id=choice.organisation_id or None
    )
    await query.answer()
    await edit(query, invite_text(context.tr, issued, context.bot_data.timezone))


@requires(Capability.MANAGE_PEOPLE)
async def list_people(update: Update, context: ApuriContext) -> None:
    """Show the first page of people."""
    assert update.message is not None
    page = await context.services.people.page(context.actor, 1)
    text, keyboard = people_page(context.tr, page)
    await update.message.reply_text(text, reply_markup=keyboard)


@requires(Capability.MANAGE_PEOPLE)
async def show_people_page(update: Update, context: ApuriContext) -> None:
    """Turn the people list to another page."""
    query = update.callback_query
    assert query is not None
    page = await context.services.people.page(context.actor, PeoplePage.parse(query.data).page)
    text, keyboard = people_page(context.tr, page)
    await query.answer()
    await edit(query, text, reply_markup=keyboard)


@requires(Capability.MANAGE_PEOPLE)
async def show_person(update: Update, context: ApuriContext) -> None:
    """Open a person's card."""
    query = update.callback_query
    assert query is not None
    person = await context.services.people.get(
        context.actor, ShowPerson.parse(query.data).person_id
    )
    text, keyboard = person_card(context.tr, person)
    await query.answer()
    await edit(query, text, reply_markup=keyboard)


@requires(Capability.MANAGE_PEOPLE)
async def set_active(update: Update, context: ApuriContext) -> None:
    """Deactivate (after a confirmation) or reactivate a person."""
    query = update.callback_query
    assert query is not None
    data = SetActive.parse(query.data)
    people = context.services.people
    if not data.active and not data.confirmed:
        target = await people.get(context.actor, data.person_id)
        text, keyboard = confirm_deactivation(context.tr, target)
        await query.answer()
        await edit(query, text, reply_markup=keyboard)
        return
    if data.active:
        person = await people.reactivate(context.actor, data.person_id)
    else:
        person = await people.deactivate(context.actor, data.person_id)
        released = await context.services.dispatch.release_holdings_of(context.actor, person.id)
        await tell_released(context, released)
    text, keyboard = person_card(context.tr, person)
    await query.answer(context.tr.plain("Saved."))
    await edit(query, text, reply_markup=keyboard)
    await publish_menu_of(context.bot, person)


@requires(Capability.MANAGE_PEOPLE)
async def set_role(update: Update, context: ApuriContext) -> None:
    """Give or take away one role, and tell the person."""
    query = update.callback_query
    assert query is not None
    data = SetRole.parse(query.data)
    people = context.services.people
    if data.granted:
        change = await people.grant_role(context.actor, data.person_id, data.role)
    else:
        change = await people.revoke_role(context.actor, data.person_id, data.role)
    text, keyboard = person_card(context.tr, change.person)
    await query.answer(context.tr.plain("Saved."))
    await edit(query, text, keyboard)
    if change.changed:  # a double tap changes nothing and tells nobody twice
        await publish_menu_of(context.bot, change.person)
        await _tell_roles_changed(context, change.person)


async def _tell_roles_changed(context: ApuriContext, person: Person) -> None:
    if not person.active or person.id == context.actor.id:
        return
    await send(context, person, roles_changed_text(context.translator_for(person), person))
