"""Coordination meetings end to end: coordinators manage them, members receive and answer them.

Aino (the coordinator) fills in `/meeting new` by its buttons and typed answers, edits, pauses,
deletes, cancels and moves single dates, and sends the calendar file; volunteers, the parish's
contacts and a Telegram group receive the reminders when the fake clock reaches them. Texts are
compared with the catalogs' translation of the same message, never with hard-coded words.

The clock starts on Monday 23.11.2026 at 08:00 UTC (10:00 in Helsinki); the default meeting meets
on Tuesdays and Fridays at 9.00 local time (07:00 UTC), so its day-before reminder is due on
Monday at 16:00 local time (14:00 UTC).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names
from icalendar import Calendar

from bot.domain.meetings import Audience, AudienceKind, MeetingSpec
from bot.domain.people import Role
from bot.i18n import translators
from handlers.callback_data import Attend, MeetingAction, OccurrenceAction
from handlers.meeting_jobs import reschedule
from tests.e2e.forms_helpers import shown
from tests.e2e.meeting_helpers import create_meeting, meeting_jobs, run_meeting_jobs, utc
from tests.e2e.teams import PARISH, VOLUNTEERS

TR = translators()
fi, sv, en = TR["fi"], TR["sv"], TR["en"]
ZONE = ZoneInfo("Europe/Helsinki")
LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
LANGUAGE = {2001: "sv", 2003: "en", 4002: "sv"}  # everyone else reads Finnish
TEAMS_LINK = "https://teams.example.com/l/meetup-join/abc"
FAR = utc(2030, 1, 1)  # run_meeting_jobs(until=FAR) runs every job, due or not
CLOSED = "This form is closed. Send /meeting new to start again."
NOT_ALLOWED = "Sorry, your role does not allow that."
NO_GROUP = (
    "The bot is in no group chat yet. Add the bot to the group in Telegram, then choose again."
)
GONE = "That meeting no longer exists; it may have been deleted. /meetings"
NOT_THAT_DAY = "The meeting does not take place on that day (it was cancelled)."
NOT_ATTENDEE = "You are not among this meeting's attendees."
GROUP_UNAVAILABLE = (
    "The bot is not in that group chat (it was never added, or it was removed). Add the "
    "bot to the group in Telegram, or choose other attendees."
)
UNREGISTERED = (
    "Hello! This bot serves registered helpers of the neighbourhood help network. "
    "Ask your coordinator for an invite link."
)


# --- what people read -----------------------------------------------------------------------------


def tr_of(user_id: int):
    return TR[LANGUAGE.get(user_id, "fi")]


def text(tr, msgid: str, **values) -> str:
    """A catalog message as the fake Telegram shows it (HTML tags gone)."""
    return shown(tr.gettext(msgid, **values))


def days(tr, *weekdays: int) -> str:
    names = get_day_names("abbreviated", locale=LOCALES[tr.language])
    return ", ".join(str(names[d]) for d in weekdays)


def when(tr, day: date, start: str, end: str) -> str:
    """An occurrence as people read it, e.g. `ti 24.11. 09:00–10:00`."""
    return f"{format_date(day, 'EEE d.M.', locale=LOCALES[tr.language])} {start}–{end}"


def reminder_head(tr, title: str) -> str:
    return text(tr, "🔔 <b>{title}</b>", title=title)


def role_audience(tr, role: str = "volunteer") -> str:
    who = tr.gettext("everyone with the role {role}", role=tr.plain(role))
    return text(tr, "Attending: {who}", who=who)


BAD_TIME = "That is not a time of day. Type it like 9.00 or 14:30."
NO_WEEKDAY = "Choose at least one weekday."
BAD_LINK = (
    "That is not a web link. Paste the whole link, starting with https://, or type the place."
)
BAD_OFFSETS = (
    "I could not read those reminders. Type them like 1d16:00, 15m (the day before at "
    "16:00, and 15 minutes before); at most five."
)
BAD_MOVE = "I could not read that. Type the new day and time like 26.11. 14:00."
MOVE_PAST = "That time has passed already. Type a time in the future."
MOVE_FAR = "An occurrence can be moved at most two weeks from its own day."


# --- pressing and reading -------------------------------------------------------------------------


async def tap(user, message, label: str | None = None, *, data: str | None = None) -> dict:
    """Press a button (or send forged callback data); wait for the answer and quiet; return it."""
    telegram = user.server
    query_id = await (user.press_data(message, data) if data else user.press(message, label))
    await telegram.wait_for(
        lambda: query_id in telegram.callback_answers, what=f"an answer to {label or data!r}"
    )
    await telegram.settle()
    return telegram.callback_answers[query_id]


def alert(answer: dict) -> str:
    assert answer.get("show_alert"), answer
    return str(answer.get("text", ""))


async def refusal(user, message, data: str) -> str:
    """Press forged data; return what the person is told: the alert, or else one chat message.

    (A press answered silently first has its refusal sent to the chat instead.)
    """
    before = user.server.message_count(user.user_id)
    answer = await tap(user, message, data=data)
    told = new_messages(user.server, user.user_id, before)
    if answer.get("show_alert"):
        assert not told, [m.text for m in told]
        return str(answer.get("text", ""))
    (notice,) = told
    return notice.text


def new_messages(telegram, chat_id: int, since: int) -> list:
    return telegram.messages(chat_id)[since:]


def counts(telegram, *chats: int) -> dict[int, int]:
    return {chat: telegram.message_count(chat) for chat in chats}


async def meetings(team, who: str = "aino") -> dict[str, object]:
    """The meetings `who` may see, by title (views)."""
    views = await team.services.meetings.meetings_for(team.people[who])
    return {view.meeting.title: view for view in views}


def job_times(bot) -> dict[str, datetime]:
    return {name: job.data for name, job in meeting_jobs(bot).items()}


async def fill_form(
    coordinator,
    *,
    title: str,
    weekdays: tuple[str, ...] = ("ti", "pe"),
    start: str = "9.00",
    duration: str = "60 min",
    where: str = TEAMS_LINK,
    audience: tuple[str, ...],
):
    """Fill in /meeting new (Finnish) pressing the audience buttons in order; return the card."""
    await coordinator.ask("/meeting new")
    question = await coordinator.ask(title)
    for day in weekdays:
        question = await coordinator.click_and_wait(question, day) or question
    question = await coordinator.click_and_wait(question, fi.plain("Done"))
    question = await coordinator.ask(start)
    question = await coordinator.click_and_wait(question, duration)
    question = await coordinator.ask(where)
    for label in audience:
        question = await coordinator.click_and_wait(question, label) or question
    summary = await coordinator.click_and_wait(question, fi.plain("Keep these"))
    return await coordinator.click_and_wait(summary, fi.plain("✅ Save"))


async def open_card(user, title: str):
    """/meetings, then the meeting's button: return its card."""
    listing = await user.ask("/meetings")
    card = await user.click_and_wait(listing, title)
    assert card is not None and title in card.text
    return card


# --- 1 and 5: create, edit, pause, resume, delete ------------------------------------------------


async def test_a_meeting_is_created_edited_paused_resumed_and_deleted(team, bot, telegram):
    aino = team.aino
    card = await create_meeting(aino)
    assert card is not None
    (view,) = (await meetings(team)).values()
    meeting_id = view.meeting.id
    job = f"meeting:{meeting_id}"

    # The saved card: title, days and time, the link, who attends and the next occurrence.
    assert card.text.startswith(text(fi, "✅ Saved."))
    for line in (
        "Koordinaatioryhmä",
        f"{days(fi, 1, 4)} 09:00–10:00",
        TEAMS_LINK,
        role_audience(fi),
        text(
            fi,
            "Reminders: {offsets}",
            offsets=", ".join(
                [
                    fi.plain("the day before at {time}", time="16:00"),
                    fi.plain("{minutes} min before", minutes=15),
                ]
            ),
        ),
        text(fi, "<b>Next:</b> {when}", when=when(fi, date(2026, 11, 24), "09:00", "10:00")),
        shown(fi.ngettext("{n} has not answered", "{n} have not answered", 4)),
    ):
        assert line in card.text.splitlines(), (line, card.text)
    assert [fi.plain("✏️ Edit"), fi.plain("📆 Dates")] in card.buttons
    # The day-before reminder: Monday 16:00 local time is 14:00 UTC.
    assert job_times(bot)[job] == utc(2026, 11, 23, 14, 0)

    # ✏️ Edit → Time → 10.30 → Save.
    summary = await aino.click_and_wait(card, fi.plain("✏️ Edit"))
    assert summary is not None and [fi.plain("✅ Save")] in summary.buttons
    question = await aino.click_and_wait(summary, fi.plain("Time"))
    assert question is not None
    assert question.text == text(fi, "At what time does it start? (e.g. 9.00)")
    summary = await aino.ask("10.30")
    assert f"{days(fi, 1, 4)} 10:30–11:30" in summary.text
    assert (await meetings(team))["Koordinaatioryhmä"].meeting.spec.start == time(9, 0)
    card = await aino.click_and_wait(summary, fi.plain("✅ Save"))
    assert card is not None
    assert f"{days(fi, 1, 4)} 10:30–11:30" in card.text
    assert (
        text(fi, "<b>Next:</b> {when}", when=when(fi, date(2026, 11, 24), "10:30", "11:30"))
        in card.text
    )
    (view,) = (await meetings(team)).values()
    assert view.meeting.id == meeting_id and view.meeting.spec.start == time(10, 30)
    # The day-before reminder stays at 16:00 local; the 15-minute one follows the new time.
    assert job_times(bot)[job] == utc(2026, 11, 23, 14, 0)
    bot.clock.now = utc(2026, 11, 23, 14, 0)
    before = counts(telegram, *VOLUNTEERS)
    await run_meeting_jobs(bot, telegram)
    for volunteer in VOLUNTEERS:
        (reminder,) = new_messages(telegram, volunteer, before[volunteer])
        tr = tr_of(volunteer)
        assert reminder.text.splitlines()[:2] == [
            reminder_head(tr, "Koordinaatioryhmä"),
            when(tr, date(2026, 11, 24), "10:30", "11:30"),
        ]
        assert reminder.buttons == [[tr.plain("✅ I'll attend"), tr.plain("❌ Can't attend")]]
    assert job_times(bot)[job] == utc(2026, 11, 24, 8, 15)  # 10:15 local, 15 minutes before

    # ⏸ Pause: no job, the card says paused; nothing is sent when the time comes.
    bot.clock.now = utc(2026, 11, 23, 14, 5)
    answer = await tap(aino, card, fi.plain("⏸ Pause"))
    assert answer.get("text") == fi.plain("Paused: no reminders until you resume it.")
    card = telegram.current(card)
    assert card.text.splitlines()[0] == "Koordinaatioryhmä" + fi.plain(" (paused)")
    assert [fi.plain("▶️ Resume"), fi.plain("🗑 Delete")] in card.buttons
    assert job not in meeting_jobs(bot)
    before = counts(telegram, *VOLUNTEERS)
    await run_meeting_jobs(bot, telegram, until=FAR)
    assert counts(telegram, *VOLUNTEERS) == before

    # ▶️ Resume brings the job back.
    answer = await tap(aino, card, fi.plain("▶️ Resume"))
    assert answer.get("text") == fi.plain("Resumed.")
    card = telegram.current(card)
    assert card.text.splitlines()[0] == "Koordinaatioryhmä"
    assert job_times(bot)[job] == utc(2026, 11, 24, 8, 15)

    # 🗑 Delete asks first; Yes deletes the meeting and its job.
    confirm = await aino.click_and_wait(card, fi.plain("🗑 Delete"))
    assert confirm is not None
    assert confirm.text == text(
        fi,
        "Delete <b>{title}</b> and all its dates? Its reminders stop.",
        title="Koordinaatioryhmä",
    )
    assert (await meetings(team)).keys() == {"Koordinaatioryhmä"}
    answer = await tap(aino, confirm, fi.plain("Yes, delete it"))
    assert answer.get("text") == fi.plain("Deleted.")
    assert telegram.current(confirm).text == text(
        fi, "🗑 <b>{title}</b> was deleted.", title="Koordinaatioryhmä"
    )
    assert await meetings(team) == {}
    assert job not in meeting_jobs(bot)

    # A double tap of "Yes, delete it" is refused in words, not with a fault.
    chat_before = telegram.message_count(aino.user_id)
    answer = await tap(aino, confirm, data=MeetingAction(meeting_id, "delete_ok").pack())
    assert alert(answer) == fi.plain(GONE)
    assert telegram.message_count(aino.user_id) == chat_before
    assert await meetings(team) == {}


# --- 2: bad input ---------------------------------------------------------------------------------


async def test_bad_answers_are_refused_at_their_step_and_nothing_is_saved(team, telegram):
    aino = team.aino

    async def nothing_saved() -> None:
        assert await meetings(team) == {}

    await aino.ask("/meeting new")
    question = await aino.ask("Kuukausikokous")

    # Done with no weekday: an alert, and the question stays as it is.
    answer = await tap(aino, question, fi.plain("Done"))
    assert alert(answer) == fi.plain(NO_WEEKDAY)
    assert telegram.current(question).text == question.text
    question = await aino.click_and_wait(question, "ke")
    assert question is not None and f"✅ {days(fi, 2)}" in str(question.buttons)
    question = await aino.click_and_wait(question, fi.plain("Done"))
    assert question is not None
    assert question.text == text(fi, "At what time does it start? (e.g. 9.00)")

    # Impossible times: the problem is explained and the time is asked again.
    for typed in ("25:00", "9:75", "nine"):
        reply = await aino.ask(typed)
        assert reply.text == text(fi, BAD_TIME), typed
        await nothing_saved()
    question = await aino.ask("13.15")
    assert question.text == text(fi, "How long does it last? Choose, or type it (e.g. 1,5 h).")
    question = await aino.ask("1,5 h")
    assert question.text == text(
        fi, "Where? Paste the online link (Teams or other, https://…) or type the place."
    )

    # Links that are not web links; a plain place is accepted as a place.
    for typed in ("htp://teams", "https://", "https://teams", "www."):
        reply = await aino.ask(typed)
        assert reply.text == text(fi, BAD_LINK), typed
        await nothing_saved()
    question = await aino.ask("Kaupungintalo, huone 3")
    assert question.text == text(fi, "Who attends?")

    # A Telegram group when the bot is in none; chosen people with nobody chosen.
    answer = await tap(aino, question, fi.plain("A Telegram group"))
    assert alert(answer) == fi.plain(NO_GROUP)
    assert telegram.current(question).text == question.text
    people = await aino.click_and_wait(question, fi.plain("Chosen people"))
    assert people is not None
    answer = await tap(aino, people, fi.plain("Done"))
    assert alert(answer) == fi.plain("Choose who attends.")
    question = await aino.click_and_wait(people, fi.plain("« Back"))
    question = await aino.click_and_wait(question, fi.plain("A role"))
    question = await aino.click_and_wait(question, fi.plain("coordinator"))
    assert question is not None and fi.plain("Keep these") in str(question.buttons)

    # An unreadable reminder list.
    for typed in ("every morning", "1d25:00", "15m, 30m, 1h, 2h, 3h, 4h"):
        reply = await aino.ask(typed)
        assert reply.text == text(fi, BAD_OFFSETS), typed
        await nothing_saved()
    summary = await aino.ask("2h, 1d16:00")
    for line in (
        "Kuukausikokous",
        f"{days(fi, 2)} 13:15–14:45",
        "Kaupungintalo, huone 3",
        role_audience(fi, "coordinator"),
        text(
            fi,
            "Reminders: {offsets}",
            offsets=", ".join(
                [
                    fi.plain("the day before at {time}", time="16:00"),
                    fi.plain("{hours} h before", hours=2),
                ]
            ),
        ),
    ):
        assert line in summary.text.splitlines(), (line, summary.text)
    await nothing_saved()

    card = await aino.click_and_wait(summary, fi.plain("✅ Save"))
    assert card is not None and "Kaupungintalo, huone 3" in card.text
    (view,) = (await meetings(team)).values()
    spec = view.meeting.spec
    assert (spec.place, spec.link, spec.weekdays, spec.start, spec.duration_minutes) == (
        "Kaupungintalo, huone 3",
        None,
        frozenset({2}),
        time(13, 15),
        90,
    )
    assert spec.audience == Audience(kind=AudienceKind.ROLE, role=Role.COORDINATOR)


# --- 3 and 4: who attends; a group the bot was removed from ---------------------------------------


async def test_organisation_people_and_group_audiences_and_a_removed_group(team, bot, telegram):
    aino, bertil = team.aino, team.bertil
    await telegram.add_bot_to_group(-100100, "Koordinaattorit", by=aino)
    await telegram.add_bot_to_group(-100200, "Kahvikerho", by=aino)
    await telegram.settle()

    await fill_form(
        aino,
        title="Seurakunnan palaveri",
        audience=(fi.plain("An organisation"), PARISH),
    )
    await fill_form(
        aino,
        title="Parikokous",
        audience=(fi.plain("Chosen people"), "Bertil", "Daniel", fi.plain("Done")),
    )
    card = await fill_form(
        aino,
        title="Ryhmäpalaveri",
        audience=(fi.plain("A Telegram group"), "Koordinaattorit"),
    )
    assert card is not None
    assert (
        text(
            fi,
            "Attending: {who}",
            who=fi.gettext("the group chat {title}", title="Koordinaattorit"),
        )
        in card.text
    )
    found = await meetings(team)
    assert found.keys() == {"Seurakunnan palaveri", "Parikokous", "Ryhmäpalaveri"}
    assert found["Parikokous"].meeting.spec.audience.people == tuple(
        sorted((team.people["bertil"].id, team.people["daniel"].id))
    )

    # Monday 16:00 local: the day-before reminders go out.
    everyone = (1001, *VOLUNTEERS, 3001, 4001, 4002, -100100, -100200)
    before = counts(telegram, *everyone)
    bot.clock.now = utc(2026, 11, 23, 14, 0)
    await run_meeting_jobs(bot, telegram)
    got = {
        chat: [m.text.splitlines()[0] for m in new_messages(telegram, chat, before[chat])]
        for chat in everyone
    }
    assert got == {
        1001: [],
        2001: [reminder_head(sv, "Parikokous")],
        2002: [],
        2003: [reminder_head(en, "Parikokous")],
        2004: [],
        3001: [],
        4001: [reminder_head(fi, "Seurakunnan palaveri")],
        4002: [reminder_head(sv, "Seurakunnan palaveri")],
        -100100: [reminder_head(fi, "Ryhmäpalaveri")],  # the default language
        -100200: [],
    }

    # In the group, Bertil answers for himself; a stranger's press is turned away.
    (in_group,) = new_messages(telegram, -100100, before[-100100])
    assert in_group.buttons == [[fi.plain("✅ I'll attend"), fi.plain("❌ Can't attend")]]
    answer = await tap(bertil, in_group, fi.plain("✅ I'll attend"))
    assert answer.get("text") == sv.plain("Noted: you'll attend. Thank you!")
    stranger = telegram.user(777, "Outi")
    answer = await tap(stranger, in_group, fi.plain("❌ Can't attend"))
    assert alert(answer) == fi.plain(UNREGISTERED)
    group_meeting = found["Ryhmäpalaveri"].meeting.id
    view = await team.services.meetings.view(team.people["aino"], group_meeting)
    assert [p.name for p in view.attending] == ["Bertil"] and view.not_attending == []
    assert new_messages(telegram, -100100, before[-100100]) == [telegram.current(in_group)]

    # The bot is removed from the group: Aino, its organiser, is told which meetings it affects.
    aino_before = telegram.message_count(1001)
    await telegram.kick_bot_from_group(-100100, by=aino)
    await telegram.settle()
    (notice,) = new_messages(telegram, 1001, aino_before)
    assert notice.text == text(
        fi,
        "⚠️ The bot was removed from the group chat <b>{group}</b>. Reminders of {meetings} cannot "
        "reach it. Add the bot back to the group, or /meetings → Edit → attendees.",
        group="Koordinaattorit",
        meetings="Ryhmäpalaveri",
    )

    # Its card says so; saving it unchanged is refused and nothing is saved.
    card = await open_card(aino, "Ryhmäpalaveri")
    removed = fi.gettext(
        "the group chat {title} (the bot was removed from it)", title="Koordinaattorit"
    )
    assert text(fi, "Attending: {who}", who=removed) in card.text
    summary = await aino.click_and_wait(card, fi.plain("✏️ Edit"))
    assert summary is not None
    answer = await tap(aino, summary, fi.plain("✅ Save"))
    assert alert(answer) == fi.plain(GROUP_UNAVAILABLE)
    after = (await meetings(team))["Ryhmäpalaveri"].meeting
    assert after == found["Ryhmäpalaveri"].meeting  # not even updated_at changed

    # The removed group is no longer offered; another one can be chosen and saved.
    question = await aino.click_and_wait(summary, fi.plain("Attendees"))
    groups = await aino.click_and_wait(question, fi.plain("A Telegram group"))
    assert groups is not None
    assert groups.buttons == [["Kahvikerho"], [fi.plain("« Back")]]
    summary = await aino.click_and_wait(groups, "Kahvikerho")
    card = await aino.click_and_wait(summary, fi.plain("✅ Save"))
    assert card is not None
    assert (
        text(fi, "Attending: {who}", who=fi.gettext("the group chat {title}", title="Kahvikerho"))
        in card.text
    )
    audience = (await meetings(team))["Ryhmäpalaveri"].meeting.spec.audience
    assert audience == Audience(kind=AudienceKind.GROUP, chat_id=-100200)


# --- 6 and 7: one occurrence cancelled, another moved; the calendar file --------------------------


async def test_one_date_cancelled_another_moved_and_the_calendar_file(team, bot, telegram):
    aino = team.aino
    card = await create_meeting(aino)
    (view,) = (await meetings(team)).values()
    meeting_id = view.meeting.id
    job = f"meeting:{meeting_id}"
    tuesday, friday = date(2026, 11, 24), date(2026, 11, 27)

    # 📆 Dates → Tue 24.11. → Cancel this one → Yes.
    dates = await aino.click_and_wait(card, fi.plain("📆 Dates"))
    assert dates is not None
    menu = await aino.click_and_wait(dates, when(fi, tuesday, "09:00", "10:00"))
    confirm = await aino.click_and_wait(menu, fi.plain("🚫 Cancel this one"))
    assert confirm is not None and confirm.text == text(
        fi,
        "Cancel <b>{title}</b> on {when}? Everyone attending is told.",
        title="Koordinaatioryhmä",
        when=when(fi, tuesday, "09:00", "10:00"),
    )
    before = counts(telegram, *VOLUNTEERS)
    answer = await tap(aino, confirm, fi.plain("Yes, cancel it"))
    assert answer.get("text") == fi.plain("Cancelled; everyone attending is told.")
    for volunteer in VOLUNTEERS:
        tr = tr_of(volunteer)
        (notice,) = new_messages(telegram, volunteer, before[volunteer])
        assert notice.text == text(
            tr,
            "🚫 <b>{title}</b> on {when} is cancelled.",
            title="Koordinaatioryhmä",
            when=when(tr, tuesday, "09:00", "10:00"),
        )
    # A second press of Yes (a double tap) is refused in words; nobody is told twice.
    answer = await tap(
        aino, confirm, data=OccurrenceAction(meeting_id, tuesday.toordinal(), "cancel_ok").pack()
    )
    assert alert(answer) == fi.plain(NOT_THAT_DAY)
    assert counts(telegram, *VOLUNTEERS) == {v: before[v] + 1 for v in VOLUNTEERS}
    listing = await aino.ask("/meetings")
    assert f"Koordinaatioryhmä — {when(fi, friday, '09:00', '10:00')}" in listing.text
    assert job_times(bot)[job] == utc(2026, 11, 26, 14, 0)  # Thursday 16:00 local

    # Monday 16:00 local comes: no reminder of the cancelled Tuesday.
    bot.clock.now = utc(2026, 11, 23, 14, 0)
    before = counts(telegram, *VOLUNTEERS)
    await run_meeting_jobs(bot, telegram, until=FAR)
    assert counts(telegram, *VOLUNTEERS) == before

    # Move Friday 27.11. to Saturday 28.11. 12:00; impossible answers are refused first.
    card = await aino.click_and_wait(listing, "Koordinaatioryhmä")
    dates = await aino.click_and_wait(card, fi.plain("📆 Dates"))
    assert when(fi, tuesday, "09:00", "10:00") not in str(dates.buttons)
    menu = await aino.click_and_wait(dates, when(fi, friday, "09:00", "10:00"))
    prompt = await aino.click_and_wait(menu, fi.plain("🕑 Move this one"))
    assert prompt is not None and "/cancel" in prompt.text
    for typed, why in (
        ("32.11. 25:00", BAD_MOVE),
        ("huomenna", BAD_MOVE),
        ("23.11. 9.00", MOVE_PAST),
        ("12.12. 12:00", MOVE_FAR),
    ):
        reply = await aino.ask(typed)
        assert reply.text == text(fi, why), typed
    assert (await meetings(team))["Koordinaatioryhmä"].changes.keys() == {tuesday}
    before = counts(telegram, *VOLUNTEERS)
    reply = await aino.ask("28.11. 12:00")
    await telegram.settle()
    moved = "🕑 <b>{title}</b> on {when} is moved to <b>{new}</b>."
    assert reply.text == text(
        fi,
        moved,
        title="Koordinaatioryhmä",
        when=when(fi, friday, "09:00", "10:00"),
        new=when(fi, date(2026, 11, 28), "12:00", "13:00"),
    )
    for volunteer in VOLUNTEERS:
        tr = tr_of(volunteer)
        (notice,) = new_messages(telegram, volunteer, before[volunteer])
        assert notice.text == text(
            tr,
            moved,
            title="Koordinaatioryhmä",
            when=when(tr, friday, "09:00", "10:00"),
            new=when(tr, date(2026, 11, 28), "12:00", "13:00"),
        )

    # The reminders follow the moved time: none on Thursday, the day before is Friday.
    assert job_times(bot)[job] == utc(2026, 11, 27, 14, 0)
    bot.clock.now = utc(2026, 11, 26, 14, 0)
    before = counts(telegram, *VOLUNTEERS)
    await run_meeting_jobs(bot, telegram, until=FAR)
    assert counts(telegram, *VOLUNTEERS) == before
    bot.clock.now = utc(2026, 11, 27, 14, 0)
    await run_meeting_jobs(bot, telegram)
    for volunteer in VOLUNTEERS:
        tr = tr_of(volunteer)
        (reminder,) = new_messages(telegram, volunteer, before[volunteer])
        assert reminder.text.splitlines()[:2] == [
            reminder_head(tr, "Koordinaatioryhmä"),
            when(tr, date(2026, 11, 28), "12:00", "13:00"),
        ]
        assert text(tr, "(moved from its usual time)") in reminder.text
    assert job_times(bot)[job] == utc(2026, 11, 28, 9, 45)  # 11:45 local

    # 📅 Calendar file: an .ics document with the rule, the cancelled and the moved date.
    card = await open_card(aino, "Koordinaatioryhmä")
    saturday = when(fi, date(2026, 11, 28), "12:00", "13:00")
    assert text(fi, "<b>Next:</b> {when}", when=saturday) in card.text
    assert text(fi, "(moved from its usual time)") in card.text
    document = await aino.click_and_wait(card, fi.plain("📅 Calendar file"))
    assert document is not None and document.document is not None
    assert document.document["file_name"] == "koordinaatioryhma.ics"
    assert document.text == text(
        fi,
        "📅 {title}: open the file to add the meeting to your calendar.",
        title="Koordinaatioryhmä",
    )
    (upload,) = [r for r in telegram.requests if r.method == "sendDocument"]
    calendar = Calendar.from_ical(upload.files["document"].content)
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    series, moved_event = sorted(
        calendar.walk("VEVENT"), key=lambda event: "RECURRENCE-ID" in event
    )
    assert str(series["SUMMARY"]) == "Koordinaatioryhmä"
    assert series["RRULE"]["FREQ"] == ["WEEKLY"] and series["RRULE"]["BYDAY"] == ["TU", "FR"]
    assert series["DTSTART"].params["TZID"] == "Europe/Helsinki"
    start = series.decoded("DTSTART")
    assert (start.date(), start.time(), start.utcoffset()) == (
        tuesday,
        time(9, 0),
        datetime(2026, 11, 24, 9, tzinfo=ZONE).utcoffset(),
    )
    exdates = series["EXDATE"] if isinstance(series["EXDATE"], list) else [series["EXDATE"]]
    excluded = [d.dt for group in exdates for d in group.dts]
    assert [d.astimezone(UTC) for d in excluded] == [utc(2026, 11, 24, 7, 0)]
    assert moved_event.decoded("RECURRENCE-ID").astimezone(UTC) == utc(2026, 11, 27, 7, 0)
    assert moved_event.decoded("DTSTART").astimezone(UTC) == utc(2026, 11, 28, 10, 0)
    assert str(moved_event["UID"]) == str(series["UID"])


# --- 8: what a volunteer may do -------------------------------------------------------------------


async def test_a_volunteer_sees_the_meetings_he_attends_and_cannot_change_them(team, bot, telegram):
    aino, bertil = team.aino, team.bertil
    await create_meeting(aino)
    services = team.services.meetings
    parish = next(o for o in await services.organisations(team.coordinator) if o.name == PARISH)
    await services.create(
        team.coordinator,
        MeetingSpec(
            title="Seurakunnan palaveri",
            weekdays=frozenset({2}),
            start=time(12, 0),
            duration_minutes=45,
            link=None,
            place="Seurakuntatalo",
            audience=Audience(kind=AudienceKind.ORGANISATION, organisation_id=parish.id),
        ),
    )
    await reschedule(bot.app)
    meeting_id = (await meetings(team))["Koordinaatioryhmä"].meeting.id
    parish_meeting = (await meetings(team))["Seurakunnan palaveri"].meeting.id
    jobs_before = job_times(bot)
    meeting_before = (await meetings(team))["Koordinaatioryhmä"].meeting

    # /meeting new is refused, in Swedish.
    reply = await bertil.ask("/meeting new")
    assert reply.text == text(sv, NOT_ALLOWED)

    # /meetings: only the meeting he attends, and its card has no controls.
    listing = await bertil.ask("/meetings")
    assert "Koordinaatioryhmä" in listing.text and "Seurakunnan palaveri" not in listing.text
    assert listing.buttons == [["Koordinaatioryhmä"]]
    card = await bertil.click_and_wait(listing, "Koordinaatioryhmä")
    assert card is not None
    assert card.buttons == [[sv.plain("📅 Calendar file")], [sv.plain("« All meetings")]]
    assert role_audience(sv) in card.text

    # Forged presses change nothing.
    for data in (
        MeetingAction(meeting_id, "delete_ok").pack(),
        MeetingAction(meeting_id, "delete").pack(),
        MeetingAction(meeting_id, "pause").pack(),
        MeetingAction(meeting_id, "edit").pack(),
        MeetingAction(meeting_id, "dates").pack(),
        OccurrenceAction(meeting_id, date(2026, 11, 24).toordinal(), "cancel_ok").pack(),
        OccurrenceAction(meeting_id, date(2026, 11, 27).toordinal(), "move").pack(),
    ):
        answer = await tap(bertil, card, data=data)
        assert alert(answer) == sv.plain(NOT_ALLOWED), data
    # Nor does he see, or answer for, a meeting he does not attend.
    wednesday = date(2026, 11, 25).toordinal()
    for data in (
        MeetingAction(parish_meeting, "show").pack(),
        MeetingAction(parish_meeting, "ics").pack(),
        Attend(parish_meeting, wednesday, True).pack(),
    ):
        assert await refusal(bertil, card, data) == sv.plain(NOT_ATTENDEE), data
    assert not [r for r in telegram.requests if r.method == "sendDocument"]
    parish_view = await services.view(team.coordinator, parish_meeting)
    assert parish_view.attending == [] and parish_view.not_attending == []
    assert (await meetings(team))["Koordinaatioryhmä"].meeting == meeting_before
    assert (await meetings(team))["Koordinaatioryhmä"].changes == {}
    assert job_times(bot) == jobs_before


# --- 9: a restart ---------------------------------------------------------------------------------


async def test_a_restart_closes_an_open_form_and_keeps_the_meetings_and_their_jobs(
    team, bot, telegram
):
    aino = team.aino
    await create_meeting(aino)
    await create_meeting(aino, title="Viikkopalaveri", days=("ma", "to"), start="17.30")
    jobs_before = job_times(bot)
    assert jobs_before.keys() == {"meeting:1", "meeting:2", "meeting:digest"}
    meetings_before = {t: v.meeting for t, v in (await meetings(team)).items()}

    # A form is open when the bot restarts: its buttons then say it is closed.
    await aino.ask("/meeting new")
    question = await aino.ask("Kesken jäänyt")
    await bot.restart()
    answer = await tap(aino, question, "ti")
    assert alert(answer) == fi.plain(CLOSED)
    answer = await tap(aino, question, fi.plain("Done"))
    assert alert(answer) == fi.plain(CLOSED)
    assert {t: v.meeting for t, v in (await meetings(team)).items()} == meetings_before

    # The jobs were rebuilt from the database with the same names and times.
    assert job_times(bot) == jobs_before
    assert jobs_before["meeting:2"] == utc(2026, 11, 23, 15, 15)  # 17.30 local, 15 min before


# --- the edit summary -----------------------------------------------------------------------------


async def test_the_edit_summary_names_a_group_the_bot_was_removed_from(bot, telegram, register):
    aino = await register(1001, "Aino", "coordinator")
    await telegram.add_bot_to_group(-100100, "Koordinaattorit", by=aino)
    await telegram.settle()
    await fill_form(
        aino, title="Ryhmäpalaveri", audience=(fi.plain("A Telegram group"), "Koordinaattorit")
    )
    await telegram.kick_bot_from_group(-100100, by=aino)
    await telegram.settle()
    card = await open_card(aino, "Ryhmäpalaveri")
    removed = fi.gettext(
        "the group chat {title} (the bot was removed from it)", title="Koordinaattorit"
    )
    assert text(fi, "Attending: {who}", who=removed) in card.text.splitlines()
    summary = await aino.click_and_wait(card, fi.plain("✏️ Edit"))
    assert summary is not None
    assert text(fi, "Attending: {who}", who=removed) in summary.text.splitlines()


# --- double taps, stale buttons, strangers' groups, what members see ------------------------------


async def test_save_twice_stale_buttons_a_strangers_group_and_a_members_card(team, telegram, bot):
    aino, bertil = team.aino, team.bertil
    meetings = team.services.meetings

    # A stranger adds the bot to a group: the bot leaves it and never offers it as an audience.
    stranger = telegram.user(9911, "Outsider")
    await telegram.add_bot_to_group(-100900, "Koordinaatioryhmä", by=stranger)
    await telegram.settle()
    assert -100900 in telegram.left_chats
    assert await meetings.groups(team.coordinator) == []

    # A button of a cancelled form changes nothing in the next one.
    await aino.ask("/meeting new")
    old_days = await aino.ask("Vanha")
    await aino.ask("/cancel")
    await aino.ask("/meeting new")
    question = await aino.ask("Uusi")
    question = await aino.click_and_wait(question, "ti")
    await aino.click_and_wait(question, fi.plain("Done"))  # the new form now asks for the time
    await aino.press(old_days, fi.plain("Done"))
    await telegram.settle()
    assert telegram.callback_answers[max(telegram.callback_answers)].get("text") == fi.plain(
        "That was answered already. Please use the newest question."
    )
    await aino.ask("/cancel")

    # Save pressed twice at once saves one meeting.
    await aino.ask("/meeting new")
    question = await aino.ask("Kerran")
    question = await aino.click_and_wait(question, "ti")
    question = await aino.click_and_wait(question, fi.plain("Done"))
    question = await aino.ask("9.00")
    question = await aino.click_and_wait(question, "60 min")
    question = await aino.ask(TEAMS_LINK)
    question = await aino.click_and_wait(question, fi.plain("A role"))
    question = await aino.click_and_wait(question, "vapaaehtoinen")
    summary = await aino.click_and_wait(question, fi.plain("Keep these"))
    button = fi.plain("✅ Save")
    await asyncio.gather(aino.press(summary, button), aino.press(summary, button))
    await telegram.settle()
    assert [v.meeting.title for v in await meetings.meetings_for(team.coordinator)] == ["Kerran"]

    # A member's card counts the answers but names nobody.
    meeting_id = (await meetings.meetings_for(team.coordinator))[0].meeting.id
    bot.clock.now = utc(2026, 11, 23, 14, 0)
    await run_meeting_jobs(bot, telegram)
    reminder = telegram.messages(team.cecilia.user_id)[-1]
    await team.cecilia.click_and_wait(reminder, fi.plain("✅ I'll attend"))
    listing = await bertil.ask("/meetings")
    card = await bertil.click_and_wait(listing, "Kerran")
    assert "Cecilia" not in card.text
    assert text(sv, "✅ {yes} attending · ❌ {no} can't", yes=1, no=0) in card.text
    coordinator_card = await aino.ask("/meetings")
    coordinator_card = await aino.click_and_wait(coordinator_card, "Kerran")
    assert "Cecilia" in coordinator_card.text
    assert meeting_id in {v.meeting.id for v in await meetings.meetings_for(team.coordinator)}
