"""Coordination meetings end to end, the less travelled paths: a meeting's group chat upgraded to a
supergroup (announced by Telegram, or found out when a send fails), a volunteer blocking and
unblocking the bot, and the form's and the list's small exits.

The clock starts on Monday 23.11.2026 at 08:00 UTC (10:00 in Helsinki); `create_meeting`'s
meeting meets on Tuesdays and Fridays at 9.00 local time with reminders the day before at 16:00
and 15 minutes before (the brief goes to the organiser with the last one). Texts are compared with
the catalogs' translation of the same message, never with hard-coded words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.meetings import Audience, AudienceKind
from bot.i18n import translators
from tests.e2e.forms_helpers import shown
from tests.e2e.meeting_helpers import create_meeting, meeting_jobs, run_meeting_jobs

TR = translators()
fi, sv = TR["fi"], TR["sv"]
HEL = ZoneInfo("Europe/Helsinki")
LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
TITLE = "Koordinaatioryhmä"  # create_meeting's default title
GROUP_TITLE = "Kuopion koordinaatio"
OLD_GROUP, SUPERGROUP = -4100, -1004100
MONDAY, TUESDAY, FRIDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 27)
UNEXPECTED = "Please answer the question above, or send /cancel."
CANCELLED = "Cancelled. Nothing was saved."


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a Helsinki wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=HEL).astimezone(UTC)


def text(tr, msgid: str, **values) -> str:
    """A catalog message as the fake Telegram shows it (HTML tags gone)."""
    return shown(tr.gettext(msgid, **values))


def when(tr, day: date, start: str = "09:00", end: str = "10:00") -> str:
    """An occurrence as people read it, e.g. `ti 24.11. 09:00–10:00`."""
    return f"{format_date(day, 'EEE d.M.', locale=LOCALES[tr.language])} {start}–{end}"


def reminders_in(telegram, chat_id: int, tr=fi) -> list:
    """The meeting's reminders in a chat (a group reads the default language, Finnish)."""
    first_line = text(tr, "🔔 <b>{title}</b>", title=TITLE)
    return [m for m in telegram.messages(chat_id) if m.text.split("\n")[0] == first_line]


def briefs_in(telegram, chat_id: int) -> list:
    start = text(fi, "📋 <b>Brief for {title}</b>, {when}", title=TITLE, when="\x1f")
    start = start.split("\x1f")[0]
    return [m for m in telegram.messages(chat_id) if m.text.startswith(start)]


def sends_to(telegram, chat_id: int, since: int = 0) -> int:
    """How many sendMessage requests the bot made to a chat (failed ones included)."""
    return sum(
        1
        for r in telegram.requests[since:]
        if r.method == "sendMessage" and r.params.get("chat_id") == chat_id
    )


def group_attending(title: str) -> str:
    return text(fi, "Attending: {who}", who=fi.gettext("the group chat {title}", title=title))


def removed_groups_line(title: str) -> str:
    return text(fi, "<b>Groups the bot was removed from:</b> {titles}", titles=title)


def unreachable_line(names: str) -> str:
    return text(fi, "<b>Unreachable by the bot:</b> {names}", names=names)


async def answer_of(user, message, label: str) -> dict:
    """Press a button and return the bot's callback answer."""
    query = await user.press(message, label)
    await user.server.wait_for(lambda: query in user.server.callback_answers, what=label)
    return user.server.callback_answers[query]


async def group_meeting(bot, telegram, register):
    """Aino adds the bot to a basic group and makes a meeting for it; return Aino and services."""
    aino = await register(1001, "Aino", "coordinator")
    await telegram.add_bot_to_group(OLD_GROUP, GROUP_TITLE, by=aino)
    await telegram.settle()
    await create_meeting(aino, audience="A Telegram group", choice=GROUP_TITLE)
    services = bot.app.bot_data.services
    coordinator = await services.people.identify(aino.user_id)
    return aino, services.meetings, coordinator


async def follows_the_supergroup(meetings, coordinator) -> None:
    """The meeting's audience and the groups offered are the supergroup now, not the old group."""
    assert [(g.chat_id, g.title) for g in await meetings.groups(coordinator)] == [
        (SUPERGROUP, GROUP_TITLE)
    ]
    (view,) = await meetings.meetings_for(coordinator)
    assert view.meeting.spec.audience == Audience(kind=AudienceKind.GROUP, chat_id=SUPERGROUP)
    assert view.group is not None and view.group.member


# --- a group upgraded to a supergroup -------------------------------------------------------------


async def test_an_announced_upgrade_moves_the_meeting_to_the_supergroup(bot, telegram, register):
    aino, meetings, coordinator = await group_meeting(bot, telegram, register)
    bertil = await register(2001, "Bertil", "volunteer", language="sv")
    bot.clock.now = local(MONDAY, 16)
    await run_meeting_jobs(bot, telegram)
    (day_before,) = reminders_in(telegram, OLD_GROUP)

    # Telegram upgrades the group: the service messages tell the bot the new chat id.
    aino_before = telegram.message_count(aino.user_id)
    await telegram.migrate_group(OLD_GROUP, SUPERGROUP, by=aino)
    await telegram.settle()
    await follows_the_supergroup(meetings, coordinator)
    assert telegram.message_count(aino.user_id) == aino_before  # no "bot was removed" notice
    # The bot says nothing in either chat.
    assert (telegram.message_count(OLD_GROUP), telegram.message_count(SUPERGROUP)) == (1, 0)
    listing = await aino.ask("/meetings")
    card = await aino.click_and_wait(listing, TITLE)
    assert card is not None and group_attending(GROUP_TITLE) in card.text.splitlines()

    # Tuesday 08:45: the 15-minute reminder reaches the supergroup; the old id is not tried.
    mark = len(telegram.requests)
    bot.clock.now = local(TUESDAY, 8, 45)
    await run_meeting_jobs(bot, telegram)
    assert sends_to(telegram, OLD_GROUP, mark) == 0
    assert reminders_in(telegram, OLD_GROUP) == [day_before]
    (reminder,) = reminders_in(telegram, SUPERGROUP)
    assert when(fi, TUESDAY) in reminder.text.split("\n")
    assert reminder.buttons == [[fi.plain("✅ I'll attend"), fi.plain("❌ Can't attend")]]
    (brief,) = briefs_in(telegram, aino.user_id)
    assert removed_groups_line(GROUP_TITLE) not in brief.text.split("\n")

    # Bertil answers under the supergroup's reminder, in Swedish.
    answer = await answer_of(bertil, reminder, fi.plain("✅ I'll attend"))
    assert answer["text"] == sv.plain("Noted: you'll attend. Thank you!")
    (view,) = await meetings.meetings_for(coordinator)
    view = await meetings.view(coordinator, view.meeting.id)
    assert [p.name for p in view.attending] == ["Bertil"]


async def test_an_unannounced_upgrade_is_found_on_send_and_the_retry_reaches_the_supergroup(
    bot, telegram, register
):
    aino, meetings, coordinator = await group_meeting(bot, telegram, register)
    # The bot misses the service messages (down at the time): only a send finds out.
    await telegram.migrate_group(OLD_GROUP, SUPERGROUP, announce=False)
    await telegram.settle()
    (view,) = await meetings.meetings_for(coordinator)
    assert view.meeting.spec.audience.chat_id == OLD_GROUP
    aino_before = telegram.message_count(aino.user_id)

    # Monday 16:00: the send to the old id answers "upgraded to a supergroup" with the new id.
    bot.clock.now = local(MONDAY, 16)
    await run_meeting_jobs(bot, telegram)
    assert sends_to(telegram, OLD_GROUP) == 1
    assert telegram.message_count(OLD_GROUP) == telegram.message_count(SUPERGROUP) == 0
    await follows_the_supergroup(meetings, coordinator)
    assert meeting_jobs(bot)["meeting:retry"].data == bot.clock() + timedelta(seconds=30)

    # Thirty seconds on, the retry delivers the same reminder to the supergroup, once.
    bot.clock.advance(seconds=30)
    await run_meeting_jobs(bot, telegram)
    (reminder,) = reminders_in(telegram, SUPERGROUP)
    assert when(fi, TUESDAY) in reminder.text.split("\n")
    assert "meeting:retry" not in meeting_jobs(bot)
    assert telegram.message_count(aino.user_id) == aino_before  # nobody is told of a removal

    # The next reminder goes straight to the supergroup; the brief names no removed group.
    bot.clock.now = local(TUESDAY, 8, 45)
    await run_meeting_jobs(bot, telegram)
    assert len(reminders_in(telegram, SUPERGROUP)) == 2
    assert sends_to(telegram, OLD_GROUP) == 1
    (brief,) = briefs_in(telegram, aino.user_id)
    assert removed_groups_line(GROUP_TITLE) not in brief.text.split("\n")


# --- a volunteer blocks the bot -------------------------------------------------------------------


async def test_blocking_the_bot_lists_the_volunteer_unreachable_and_unblocking_clears_it(
    bot, telegram, register
):
    aino = await register(1001, "Aino", "coordinator")
    eeva = await register(2004, "Eeva", "volunteer")
    # A coordinators' meeting: nothing is ever sent to Eeva, so no send can fail.
    await create_meeting(aino, choice=fi.plain("coordinator"))
    mark = len(telegram.requests)

    # Eeva blocks the bot: Telegram tells it at once (a private my_chat_member update).
    await eeva.block_and_tell()
    await telegram.settle()
    for moment in (local(MONDAY, 16), local(TUESDAY, 8, 45)):
        bot.clock.now = moment
        await run_meeting_jobs(bot, telegram)
    (brief,) = briefs_in(telegram, aino.user_id)
    assert unreachable_line("Eeva") in brief.text.split("\n"), brief.text
    assert sends_to(telegram, eeva.user_id, mark) == 0

    # She unblocks it without writing a word: the next brief lists nobody.
    await eeva.unblock_and_tell()
    await telegram.settle()
    for moment in (local(date(2026, 11, 26), 16), local(FRIDAY, 8, 45)):
        bot.clock.now = moment
        await run_meeting_jobs(bot, telegram)
    brief = briefs_in(telegram, aino.user_id)[-1]
    assert len(briefs_in(telegram, aino.user_id)) == 2
    assert unreachable_line("—") in brief.text.split("\n"), brief.text
    assert sends_to(telegram, eeva.user_id, mark) == 0


# --- the small exits: /meeting alone, Cancel, « All meetings, typed text, no meetings -------------


async def test_the_forms_and_the_lists_small_exits(bot, telegram, register):
    aino = await register(1001, "Aino", "coordinator")
    bertil = await register(2001, "Bertil", "volunteer", language="sv")
    meetings = bot.app.bot_data.services.meetings
    coordinator = await bot.app.bot_data.services.people.identify(aino.user_id)

    # No meetings yet: the coordinator is told how to make one, the volunteer only that none exist.
    reply = await aino.ask("/meetings")
    assert reply.text == shown(
        fi.gettext("There are no meetings yet.") + "\n" + fi.gettext("/meeting new creates one.")
    )
    assert reply.buttons == []
    reply = await bertil.ask("/meetings")
    assert reply.text == text(sv, "There are no meetings yet.")
    assert reply.buttons == []

    # /meeting without `new` explains, to anyone, and starts nothing.
    explain = "/meeting new creates a meeting; /meetings lists them."
    assert (await aino.ask("/meeting")).text == text(fi, explain)
    assert (await aino.ask("/meeting vanha")).text == text(fi, explain)
    assert (await bertil.ask("/meeting")).text == text(sv, explain)
    reply = await aino.ask("Kuukausikokous")  # not taken as a title: no form is open
    assert reply.text == text(fi, "I did not understand that. /help lists what you can do.")

    # Typed text where the form waits for a button is answered, and the form goes on.
    await aino.ask("/meeting new")
    days = await aino.ask("Kuukausikokous")
    assert (await aino.ask("tiistaisin")).text == text(fi, UNEXPECTED)
    days = await aino.click_and_wait(days, "ti")
    assert days is not None and "✅ ti" in str(days.buttons)
    question = await aino.click_and_wait(days, fi.plain("Done"))
    assert question is not None
    assert question.text == text(fi, "At what time does it start? (e.g. 9.00)")
    question = await aino.ask("13.00")
    question = await aino.click_and_wait(question, "60 min")
    assert question is not None
    question = await aino.ask("Kaupungintalo")
    assert question.text == text(fi, "Who attends?")
    assert (await aino.ask("kaikki")).text == text(fi, UNEXPECTED)
    question = await aino.click_and_wait(question, fi.plain("A role"))
    question = await aino.click_and_wait(question, fi.plain("volunteer"))
    summary = await aino.click_and_wait(question, fi.plain("Keep these"))
    assert summary is not None and [fi.plain("✅ Save")] in summary.buttons
    assert (await aino.ask("tallenna")).text == text(fi, UNEXPECTED)

    # ✖ Cancel on the summary: the summary says so, loses its buttons, and nothing is saved.
    jobs = set(meeting_jobs(bot))
    await answer_of(aino, summary, fi.plain("✖ Cancel"))
    await telegram.settle()
    cancelled = telegram.current(summary)
    assert cancelled.text == text(fi, CANCELLED)
    assert cancelled.buttons == []
    assert await meetings.meetings_for(coordinator) == []
    assert set(meeting_jobs(bot)) == jobs

    # A meeting, then a card and « All meetings back to the list, for Aino and for Bertil.
    await create_meeting(aino)
    line = f"• {TITLE} — {when(fi, TUESDAY)}"
    listing = await aino.ask("/meetings")
    assert line in listing.text.split("\n")
    card = await aino.click_and_wait(listing, TITLE)
    assert card is not None and card.message_id == listing.message_id
    back = await aino.click_and_wait(card, fi.plain("« All meetings"))
    assert back is not None and back.message_id == listing.message_id
    assert back.text.split("\n") == [
        text(fi, "<b>Meetings</b>"),
        line,
        "",
        text(fi, "/meeting new creates one."),
    ]
    assert back.buttons == [[TITLE]]
    card = await aino.click_and_wait(back, TITLE)
    assert card is not None and card.text.split("\n")[0] == TITLE

    listing = await bertil.ask("/meetings")
    card = await bertil.click_and_wait(listing, TITLE)
    back = await bertil.click_and_wait(card, sv.plain("« All meetings"))
    assert back is not None
    assert back.text.split("\n") == [
        text(sv, "<b>Meetings</b>"),
        f"• {TITLE} — {when(sv, TUESDAY)}",
    ]
    assert back.buttons == [[TITLE]]

    # ✏️ Edit, change the title, then ✖ Cancel: the meeting keeps its title.
    (before,) = await meetings.meetings_for(coordinator)
    listing = await aino.ask("/meetings")
    card = await aino.click_and_wait(listing, TITLE)
    summary = await aino.click_and_wait(card, fi.plain("✏️ Edit"))
    assert summary is not None
    await aino.click_and_wait(summary, fi.plain("Title"))
    summary = await aino.ask("Muutettu")
    assert summary.text.split("\n")[0] == "Muutettu"
    await answer_of(aino, summary, fi.plain("✖ Cancel"))
    await telegram.settle()
    assert telegram.current(summary).text == text(fi, CANCELLED)
    (after,) = await meetings.meetings_for(coordinator)
    assert after.meeting == before.meeting
