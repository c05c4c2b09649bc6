"""Domain objects to Telegram text and keyboards; every user-facing string is translated here."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.broadcasts import BroadcastError, BroadcastProblem
from bot.domain.campaigns import CampaignError, CampaignProblem
from bot.domain.errors import (
    AlreadyRegistered,
    DomainError,
    DraftNotFound,
    DraftTaken,
    GroupUnavailable,
    IllegalTransition,
    InvalidValue,
    InviteExpired,
    InviteNotFound,
    InviteUsed,
    LastCoordinator,
    LastRole,
    MeetingNotFound,
    MeetingOver,
    NotAllowed,
    NotInAudience,
    NotYourTask,
    OccurrenceNotFound,
    OrganisationRequired,
    PairNotFound,
    PersonInPair,
    PersonNotFound,
    ReferralNotFound,
    ReferralTaken,
    ResidentNotFound,
    SelfManagement,
    StaleStep,
    TaskNotFound,
    TooManyAttempts,
)
from bot.domain.people import Organisation, Person, Role
from bot.i18n import N_, Html, Translator, escape
from bot.services.dispatch import NoAvailablePairs
from bot.services.invites import IssuedInvite
from bot.services.people import PeoplePage
from handlers.callback_data import (
    ChooseInviteRole,
    ChooseLanguage,
    SetActive,
    SetRole,
    ShowPerson,
)
from handlers.callback_data import (
    PeoplePage as PeoplePageData,
)
from handlers.commands import commands_for

__all__ = [
    "LANGUAGE_NAMES",
    "babel_locale",
    "broadcast_problem_text",
    "campaign_problem_text",
    "confirm_deactivation",
    "deactivated_text",
    "error_text",
    "help_text",
    "invite_organisation_keyboard",
    "invite_role_keyboard",
    "invite_text",
    "language_keyboard",
    "local_time",
    "people_page",
    "person_card",
    "role_list",
    "role_name",
    "roles_changed_text",
    "unregistered_text",
    "welcome_text",
    "whoami_text",
]

# Each language is named in itself, so anyone can find their own.
LANGUAGE_NAMES: dict[str, str] = {"fi": "Suomi", "sv": "Svenska", "en": "English"}

_ROLE_NAMES: dict[Role, str] = {
    Role.COORDINATOR: N_("coordinator"),
    Role.CALLER: N_("caller"),
    Role.VOLUNTEER: N_("volunteer"),
    Role.PARTNER: N_("partner contact"),
    Role.LINK_WORKER: N_("link worker"),
}


def role_name(tr: Translator, role: Role) -> str:
    """Return the role's name in the translator's language."""
    return tr.plain(_ROLE_NAMES[role])


def role_list(tr: Translator, roles: frozenset[Role]) -> str:
    """Return the roles as a comma list in a stable order."""
    return ", ".join(role_name(tr, r) for r in Role if r in roles)


def local_time(tr: Translator, moment: datetime, zone: ZoneInfo) -> str:
    """Return a moment as local date and time in the translator's language."""
    return format_datetime(moment, "short", tzinfo=zone, locale=babel_locale(tr.language))


def babel_locale(language: str) -> str:
    """Return the Babel locale that formats dates and times for an interface language."""
    return {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}[language]


def help_text(tr: Translator, person: Person | None) -> Html:
    """Return the list of commands this person may use."""
    lines = [tr.gettext("<b>What I can do for you</b>")]
    lines += [f"/{c.name} — {tr.gettext(c.description)}" for c in commands_for(person)]
    return Html("\n".join(lines))


def welcome_text(tr: Translator, person: Person, role: Role, newly_registered: bool) -> Html:
    """Return the greeting after an invite was redeemed."""
    if newly_registered:
        head = tr.gettext(
            "Welcome to Apuri, {name}! You are registered as {role}.",
            name=person.name,
            role=role_name(tr, role),
        )
    else:
        head = tr.gettext(
            "{name}, you now have the role {role} too.", name=person.name, role=role_name(tr, role)
        )
    return Html(f"{head}\n\n{help_text(tr, person)}")


def whoami_text(tr: Translator, person: Person) -> Html:
    """Return what the bot knows about the person themself."""
    organisation = person.organisation.name if person.organisation else tr.plain("none")
    return tr.gettext(
        "<b>{name}</b>\nRoles: {roles}\nOrganisation: {organisation}\nLanguage: {language}",
        name=person.name,
        roles=role_list(tr, person.roles),
        organisation=organisation,
        language=LANGUAGE_NAMES[person.language],
    )


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    """Return one button per language, the current one ticked."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✓ " if code == current else "") + name,
                    callback_data=ChooseLanguage(code).pack(),
                )
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )


def invite_text(tr: Translator, issued: IssuedInvite, zone: ZoneInfo) -> Html:
    """Return the invite as a coordinator forwards it: link or code, role, expiry."""
    invite = issued.invite
    role = role_name(tr, invite.role)
    who = (
        tr.gettext(
            "Invite for {role} ({organisation})", role=role, organisation=issued.organisation.name
        )
        if issued.organisation
        else tr.gettext("Invite for {role}", role=role)
    )
    lines = [
        Html(f"<b>{who}</b>"),
        tr.gettext("Valid once, until {expires}.", expires=local_time(tr, invite.expires_at, zone)),
    ]
    if issued.link:
        lines.append(tr.gettext("Send this link to the person: {link}", link=issued.link))
    lines.append(
        tr.gettext(
            "Or they can send me: {command}",
            command=Html(f"<code>/start {issued.code}</code>"),
        )
    )
    return Html("\n".join(lines))


def invite_role_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Return one button per role to invite."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    role_name(tr, role), callback_data=ChooseInviteRole(role, 0).pack()
                )
            ]
            for role in Role
        ]
    )


def invite_organisation_keyboard(
    organisations: list[Organisation], role: Role
) -> InlineKeyboardMarkup | None:
    """Return one button per organisation to attach an invite to, or None when there are none."""
    if not organisations:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(o.name, callback_data=ChooseInviteRole(role, o.id).pack())]
            for o in organisations[:40]
        ]
    )


def _person_line(tr: Translator, person: Person) -> str:
    parts = [f"<b>{escape(person.name)}</b>", role_list(tr, person.roles)]
    if person.organisation:
        parts.append(escape(person.organisation.name))
    if not person.active:
        parts.append(tr.gettext("<i>deactivated</i>"))
    return " · ".join(parts)


def people_page(tr: Translator, page: PeoplePage) -> tuple[Html, InlineKeyboardMarkup]:
    """Return one page of people with a button per person and page navigation."""
    head = tr.ngettext(
        "<b>{n} person</b> (page {page}/{pages})",
        "<b>{n} people</b> (page {page}/{pages})",
        page.total,
        page=page.page,
        pages=page.pages,
    )
    lines = [head, *(_person_line(tr, p) for p in page.people)]
    rows = [
        [InlineKeyboardButton(p.name, callback_data=ShowPerson(p.id).pack())] for p in page.people
    ]
    navigation = []
    if page.page > 1:
        navigation.append(
            InlineKeyboardButton("◀", callback_data=PeoplePageData(page.page - 1).pack())
        )
    if page.page < page.pages:
        navigation.append(
            InlineKeyboardButton("▶", callback_data=PeoplePageData(page.page + 1).pack())
        )
    if navigation:
        rows.append(navigation)
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def person_card(tr: Translator, person: Person) -> tuple[Html, InlineKeyboardMarkup]:
    """Return a person's card with buttons to change roles and access."""
    text = Html(
        "\n".join(
            [
                _person_line(tr, person),
                tr.gettext("Language: {language}", language=LANGUAGE_NAMES[person.language]),
                tr.gettext("Tap a role to give or take it away."),
            ]
        )
    )
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if role in person.roles else "") + role_name(tr, role),
                callback_data=SetRole(person.id, role, role not in person.roles).pack(),
            )
        ]
        for role in Role
    ]
    if person.active:
        access = InlineKeyboardButton(
            tr.plain("Deactivate"), callback_data=SetActive(person.id, False, False).pack()
        )
    else:
        access = InlineKeyboardButton(
            tr.plain("Reactivate"), callback_data=SetActive(person.id, True, True).pack()
        )
    rows.append([access])
    rows.append(
        [InlineKeyboardButton(tr.plain("« People"), callback_data=PeoplePageData(1).pack())]
    )
    return text, InlineKeyboardMarkup(rows)


def confirm_deactivation(tr: Translator, person: Person) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the question that guards a deactivation."""
    text = tr.gettext(
        "Deactivate {name}? Their access ends at once; their history is kept.", name=person.name
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Yes, deactivate"),
                    callback_data=SetActive(person.id, False, True).pack(),
                ),
                InlineKeyboardButton(tr.plain("No"), callback_data=ShowPerson(person.id).pack()),
            ]
        ]
    )
    return text, keyboard


def roles_changed_text(tr: Translator, person: Person) -> Html:
    """Return the note to a person whose roles a coordinator changed."""
    return Html(
        tr.gettext(
            "A coordinator changed your roles. Your roles now: {roles}.",
            roles=role_list(tr, person.roles),
        )
        + "\n\n"
        + help_text(tr, person)
    )


def unregistered_text(tr: Translator) -> Html:
    """Return the polite answer to someone who is not registered."""
    return tr.gettext(
        "Hello! This bot serves registered helpers of the neighbourhood help network. "
        "Ask your coordinator for an invite link."
    )


def deactivated_text(tr: Translator) -> Html:
    """Return the answer to a person whose access was ended."""
    return tr.gettext(
        "Your access to this bot has ended. If you think this is a mistake, ask your coordinator."
    )


_BROADCAST_PROBLEMS: dict[BroadcastProblem, str] = {
    BroadcastProblem.EMPTY_AUDIENCE: N_(
        "Nobody matches that audience, so nothing would be sent. Choose another audience."
    ),
    BroadcastProblem.EMPTY_MESSAGE: N_(
        "The message is empty. Write the text, or send a photo or a document."
    ),
    BroadcastProblem.TOO_LONG: N_(
        "The message is too long for a broadcast (at most 12 000 characters). Shorten it."
    ),
    BroadcastProblem.FILE_TOO_LARGE: N_(
        "That file is too large to broadcast (at most {mb} MB). Send a smaller one."
    ),
    BroadcastProblem.BAD_AREA: N_(
        "That is not a postal code or its beginning. Type digits only, like 70 or 00100."
    ),
    BroadcastProblem.NO_TASKS: N_("There are no open tasks to offer right now."),
    BroadcastProblem.NO_PAIRS: N_(
        "No available pair covers the areas of these tasks, so nothing was offered."
    ),
    BroadcastProblem.FINISHED: N_("That broadcast has ended already."),
}


def broadcast_problem_text(tr: Translator, problem: BroadcastProblem, *, mb: int = 20) -> Html:
    """Return why a broadcast was refused (`mb`: the file size limit, for that problem)."""
    return tr.gettext(_BROADCAST_PROBLEMS[problem], mb=mb)


_CAMPAIGN_PROBLEMS: dict[CampaignProblem, str] = {
    CampaignProblem.NAME: N_("The name must be 1 to 100 characters. Type it again."),
    CampaignProblem.BORN_BY: N_(
        "That is not a birth year. Type four digits, e.g. 1956 (everyone born in 1956 or before)."
    ),
    CampaignProblem.AREA: N_(
        "Type postal codes or their beginnings, separated by spaces, e.g. 70100 702."
    ),
    CampaignProblem.ATTEMPTS: N_("Choose between 1 and 10 attempts."),
    CampaignProblem.GAP: N_(
        "Type the time between attempts in hours (e.g. 3 or 1,5), at most a week."
    ),
    CampaignProblem.NO_CALLERS: N_(
        "Choose at least one active caller. Invite callers with /invite caller."
    ),
    CampaignProblem.NOBODY: N_("No resident matches: nobody would be called. Choose again."),
    CampaignProblem.NOT_FOUND: N_("That campaign was not found."),
    CampaignProblem.CLOSED: N_("That campaign is closed."),
    CampaignProblem.PAUSED: N_(
        "Your campaign is paused: no new calls for now. Calls under way can be finished."
    ),
    CampaignProblem.NOT_A_CALLER: N_("You are not a caller of that campaign."),
    CampaignProblem.NONE_RUNNING: N_("You are not a caller in any running campaign."),
    CampaignProblem.LIST_DONE: N_("Nobody is waiting to be called right now. Thank you!"),
    CampaignProblem.NOT_YOUR_CALL: N_(
        "That call is no longer yours: it was reported, handed back or timed out."
    ),
}


def campaign_problem_text(
    tr: Translator, problem: CampaignProblem, zone: ZoneInfo, when: datetime | None = None
) -> Html:
    """Return why a campaign request was refused."""
    text = tr.gettext(_CAMPAIGN_PROBLEMS[problem])
    if problem is CampaignProblem.LIST_DONE and when is not None:
        return Html(
            f"{text}\n"
            + tr.gettext("The next call falls due at {time}.", time=local_time(tr, when, zone))
        )
    return text


def error_text(tr: Translator, error: DomainError, zone: ZoneInfo) -> Html:
    """Return the explanation of a broken rule, in the person's language."""
    if isinstance(error, BroadcastError):
        return broadcast_problem_text(tr, error.problem)
    if isinstance(error, CampaignError):
        return campaign_problem_text(tr, error.problem, zone, when=error.when)
    if isinstance(error, NoAvailablePairs):
        return tr.gettext("No available pair covers this area right now. Assign it by hand.")
    if isinstance(error, DraftTaken):
        return tr.gettext("{name} is filling in the report on this task already.", name=error.name)
    if isinstance(error, TooManyAttempts):
        return tr.gettext(
            "Too many wrong codes. For your safety, try again after {time}.",
            time=local_time(tr, error.until, zone),
        )
    messages: dict[type[DomainError], str] = {
        InviteNotFound: N_(
            "That invite code is not valid. Check it, or ask your coordinator for a new one."
        ),
        InviteUsed: N_("That invite has been used already. Ask your coordinator for a new one."),
        InviteExpired: N_("That invite has expired. Ask your coordinator for a new one."),
        AlreadyRegistered: N_("You already have that role. /help shows what you can do."),
        NotAllowed: N_("Sorry, your role does not allow that."),
        PersonNotFound: N_("That person was not found."),
        OrganisationRequired: N_(
            "A partner contact belongs to an organisation. Send /invite partner "
            "followed by the organisation's name."
        ),
        LastCoordinator: N_("There must always be at least one active coordinator."),
        LastRole: N_("A person needs at least one role. Deactivate them instead."),
        SelfManagement: N_("You cannot deactivate yourself. Ask another coordinator."),
        IllegalTransition: N_(
            "That is no longer possible: the task was taken, cancelled or finished meanwhile."
        ),
        NotYourTask: N_("This task is not yours (or its offer was not made to your pair)."),
        TaskNotFound: N_("That task was not found."),
        ResidentNotFound: N_("That resident was not found."),
        InvalidValue: N_("That value is not valid. Please check it and try again."),
        PersonInPair: N_(
            "Someone you chose is in a pair already. Send /pair to see the pairs as they are now."
        ),
        PairNotFound: N_(
            "That pair no longer exists; it may have been dissolved already. "
            "Send /pair to see the pairs as they are now."
        ),
        DraftNotFound: N_(
            "This report is no longer open: it was sent, thrown away or it expired. "
            "/resume shows your unfinished reports."
        ),
        StaleStep: N_("That was answered already. Please use the newest question."),
        ReferralNotFound: N_("That referral was not found."),
        ReferralTaken: N_("Someone else has taken this referral already."),
        MeetingNotFound: N_("That meeting no longer exists; it may have been deleted. /meetings"),
        OccurrenceNotFound: N_("The meeting does not take place on that day (it was cancelled)."),
        MeetingOver: N_("That meeting is over already."),
        GroupUnavailable: N_(
            "The bot is not in that group chat (it was never added, or it was removed). Add the "
            "bot to the group in Telegram, or choose other attendees."
        ),
        NotInAudience: N_("You are not among this meeting's attendees."),
    }
    for kind in type(error).__mro__:
        if kind in messages:
            return tr.gettext(messages[kind])
    return tr.gettext("That is not possible right now.")
