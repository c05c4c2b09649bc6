"""Outcome forms end to end: what a report sets going, and who may read about the resident.

Referrals of conversation help reach the parish's partner contacts only with the resident's consent;
without it nothing at all reaches their chats. Urgent answers and health concerns alert the
coordinators at once, a plain need never does. The follow-up rules create exactly the tasks the rule
table names, and the coordinator's timeline shows it all in order.

This module sets the parish organisation, so referrals go to Gustav and Helmi (see `teams.py`).
"""

from __future__ import annotations

import re

import pytest

from bot.domain.outcomes import ReferralKind
from bot.domain.reports import ReferralState
from bot.domain.tasks import TaskKind, TaskState, UnfinishedReason
from bot.i18n import translators
from handlers.callback_data import ReferralPress, ShowTimeline
from handlers.forms_render import NOTICE_NAMES
from handlers.tasks_render import REASON_NAMES, follow_up_text, kind_name
from tests.e2e.forms_helpers import (
    button,
    choice,
    crisis_notice,
    press,
    question,
    report,
    shown,
    tick,
    urgent_alerts,
)
from tests.e2e.teams import CALLER, PARISH, PARTNERS, RESIDENT, SECRETS, VOLUNTEERS

fi, sv, en = translators()["fi"], translators()["sv"], translators()["en"]

NAME, PHONE = RESIDENT.name, RESIDENT.phone


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"parish_organisation": PARISH})


# --- reading what the bot sent ----------------------------------------------------------------


def mentions(text: str, task_id: int) -> bool:
    """Return whether `text` names task #`task_id` (and not #`task_id`0…)."""
    return re.search(rf"#{task_id}(?!\d)", text) is not None


def _names_chat(value: object, chats: set[int]) -> bool:
    if isinstance(value, dict):
        return any(
            (key in {"chat_id", "user_id"} and str(item) in {str(c) for c in chats})
            or _names_chat(item, chats)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_names_chat(item, chats) for item in value)
    return isinstance(value, int) and not isinstance(value, bool) and value in chats


def requests_touching(telegram, chats, since: int = 0):
    """Every recorded request from index `since` that writes to, edits in or answers `chats`."""
    chats = set(chats)
    found = []
    for request in telegram.requests[since:]:
        if request.method == "getUpdates":
            continue
        query_id = str(request.params.get("callback_query_id", ""))
        if any(query_id.startswith(str(chat)) for chat in chats) or _names_chat(
            request.params, chats
        ):
            found.append(request)
    return found


def secrets_in(request) -> list[str]:
    flat = repr(request.params)
    return [s for s in (*SECRETS, PHONE) if s in flat]


def coordinator_report(telegram, task, reporter: str, count: int = 1) -> str:
    """Return the newest report Aino got on `task`, after checking she got `count` of them."""
    head = shown(
        fi.gettext(
            "📋 <b>Report on task #{number} ({kind})</b> by {reporter}",
            number=task.id,
            kind=kind_name(fi, task.kind),
            reporter=reporter,
        )
    )
    reports = [m.text for m in telegram.messages(1001) if m.text.startswith(head)]
    assert len(reports) == count, reports
    return reports[-1]


def alerts(telegram, task_id: int) -> list[str]:
    """Every crisis alert Aino got from home visit `task_id`."""
    return [m.text for m in urgent_alerts(telegram, task_id)]


CRISIS_NOTICE = crisis_notice()


def notice(kind) -> str:
    return shown(fi.gettext(NOTICE_NAMES[kind]))


# --- doing the work ---------------------------------------------------------------------------


async def accepted_visit(team, kind=TaskKind.HOME_VISIT):
    """A task Cecilia (fi) accepted for her pair with Bertil; return the task and her card."""
    task = await team.task(kind=kind)
    offers = await team.offer(task.id)
    card = await team.cecilia.click_and_wait(offers[2002], fi.plain("Accept"))
    assert NAME in card.text
    return task, card


async def called(team):
    """A phone check given to Frida; return the task and her card (from /task N)."""
    task = await team.phone_check()
    card = await team.frida.ask(f"/task {task.id}")
    assert NAME in card.text and fi.plain("📝 Report the outcome") in str(card.buttons)
    return task, card


async def fill(
    user,
    card,
    form: str,
    contact: str,
    *,
    all_right: bool = True,
    needs=(),
    consent: bool | None = None,
    urgent: bool = False,
    before_urgent=None,
):
    """Answer a home visit or phone check form in Finnish; return the summary message."""
    prompt = await report(user, card)
    prompt = await press(user, prompt, choice(form, "contact", contact))
    if contact in ("met", "reached"):
        assert question(form, "all_right") in prompt.text
        prompt = await press(user, prompt, button("Yes" if all_right else "No"))
        for need in needs:
            prompt = await press(user, prompt, tick(form, "needs", need))
        prompt = await press(user, prompt, button("Done ✔"))
        if "conversation_help" in needs:
            assert question(form, "consent_parish") in prompt.text
            prompt = await press(user, prompt, button("Yes" if consent else "No"))
        assert question(form, "urgent") in prompt.text
        if before_urgent is not None:
            await before_urgent(prompt)
        prompt = await press(user, prompt, button("Yes" if urgent else "No"))
    assert question(form, "note") in prompt.text
    summary = await press(user, prompt, button("Skip"))
    assert fi.plain("✅ Submit") in str(summary.buttons)
    return summary


async def submit(team, user, summary) -> str:
    """Press Submit; return the confirmation the summary was edited into."""
    await user.click_and_wait(summary, button("✅ Submit"))
    await team.telegram.settle()
    return team.telegram.current(summary).text


async def tasks_of_resident(team):
    return await team.services.residents.history(team.coordinator, team.resident.id)


async def referrals_of_resident(team):
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    return [e.referral for e in timeline.entries if e.referral is not None]


def offer_messages(telegram, task_id: int) -> dict[int, object]:
    """Each volunteer's newest message about task `task_id`."""
    found = {}
    for user_id in VOLUNTEERS:
        about = [m for m in telegram.messages(user_id) if mentions(m.text, task_id)]
        if about:
            found[user_id] = about[-1]
    return found


def follow_up(tasks, before) -> list:
    known = {t.id for t in before}
    return [t for t in tasks if t.id not in known]


# --- referrals: consent -----------------------------------------------------------------------


async def test_with_consent_both_parish_contacts_get_the_referral(team, telegram):
    task, card = await accepted_visit(team)
    summary = await fill(
        team.cecilia, card, "home_visit", "met", needs=["conversation_help"], consent=True
    )
    since = len(telegram.requests)
    confirmation = await submit(team, team.cecilia, summary)
    assert shown(fi.gettext("The wish for conversation help is passed on, as agreed.")) in (
        confirmation
    )
    assert NAME not in confirmation

    (referral,) = await referrals_of_resident(team)
    assert referral.kind == ReferralKind.PARISH.value and referral.consent
    assert referral.state is ReferralState.NEW and referral.task_id == task.id

    # Each partner contact gets the referral in their language: name, phone and "I'll take it".
    gustav_copy = telegram.messages(PARTNERS[0])[-1]
    helmi_copy = telegram.messages(PARTNERS[1])[-1]
    for copy, tr in ((gustav_copy, fi), (helmi_copy, sv)):
        head = shown(
            tr.gettext("🤝 <b>Conversation help: referral #{number}</b>", number=referral.id)
        )
        assert copy.text.startswith(head), copy.text
        assert NAME in copy.text and PHONE in copy.text
        assert copy.buttons == [[tr.plain("I'll take it")]]
    # Nothing but that one message reached each of them.
    for partner in PARTNERS:
        sent = requests_touching(telegram, {partner}, since)
        assert [r.method for r in sent] == ["sendMessage"], sent
    # The other volunteers and the caller never read the resident's contact from this.
    for request in requests_touching(telegram, {2003, 2004, CALLER}, since):
        assert not secrets_in(request), request

    text = coordinator_report(telegram, task, "Cecilia")
    assert (
        shown(
            fi.gettext(
                "• Conversation help: with consent, passed to {organisation} ({n} contacts).",
                organisation=PARISH,
                n=2,
            )
        )
        in text
    )
    timeline = await timeline_of(team)
    waiting = shown(
        fi.gettext(
            "referral: {kind}, {state}",
            kind=fi.plain("conversation help (parish)"),
            state=fi.plain("waiting to be taken"),
        )
    )
    assert waiting in timeline.text


async def consented_referral(team, telegram):
    """A home visit whose resident consented to conversation help; return the task, the referral
    and Gustav's and Helmi's copies."""
    task, card = await accepted_visit(team)
    summary = await fill(
        team.cecilia, card, "home_visit", "met", needs=["conversation_help"], consent=True
    )
    await submit(team, team.cecilia, summary)
    (referral,) = await referrals_of_resident(team)
    return task, referral, telegram.messages(PARTNERS[0])[-1], telegram.messages(PARTNERS[1])[-1]


async def test_the_partner_who_takes_a_referral_keeps_it_and_the_others_copies_are_scrubbed(
    team, telegram
):
    _task, referral, gustav_copy, helmi_copy = await consented_referral(team, telegram)
    # Gustav takes it: Helmi's copy loses the contact, Gustav keeps it with "Mark done".
    taken = await team.gustav.click_and_wait(gustav_copy, fi.plain("I'll take it"))
    assert taken is not None
    await telegram.settle()
    gustav_now = telegram.current(gustav_copy)
    assert NAME in gustav_now.text and PHONE in gustav_now.text
    assert gustav_now.buttons == [[fi.plain("Mark done")]]
    helmi_now = telegram.current(helmi_copy)
    assert helmi_now.text == shown(
        sv.gettext("🤝 Referral #{number} was taken by {name}.", number=referral.id, name="Gustav")
    )
    assert helmi_now.buttons == []
    for secret in (*SECRETS, PHONE):
        assert secret not in helmi_now.text
    (referral_now,) = await referrals_of_resident(team)
    assert referral_now.state is ReferralState.TAKEN
    assert referral_now.taken_by == team.people["gustav"].id

    timeline = await timeline_of(team)
    taken_line = shown(
        fi.gettext(
            "referral: {kind}, {state}",
            kind=fi.plain("conversation help (parish)"),
            state=fi.plain("taken"),
        )
    )
    assert taken_line in timeline.text

    # Helmi forges "take" on her scrubbed copy: refused with an alert, nothing changes.
    late = await team.helmi.press_data(helmi_copy, ReferralPress(referral.id, "take").pack())
    await telegram.settle()
    assert telegram.callback_answers[late].get("show_alert")
    assert NAME not in str(telegram.callback_answers[late])

    # Mark done: Gustav's copy is scrubbed too.
    await team.gustav.click_and_wait(gustav_now, fi.plain("Mark done"))
    await telegram.settle()
    gustav_done = telegram.current(gustav_copy)
    assert gustav_done.text == shown(
        fi.gettext("🤝 Referral #{number} is done. Thank you!", number=referral.id)
    )
    assert gustav_done.buttons == []
    (referral_done,) = await referrals_of_resident(team)
    assert referral_done.state is ReferralState.CLOSED

    # Helmi presses take afterwards: an alert, and the referral stays closed by Gustav.
    later = await team.helmi.press_data(helmi_copy, ReferralPress(referral.id, "take").pack())
    await telegram.settle()
    assert telegram.callback_answers[later].get("show_alert")
    (referral_after,) = await referrals_of_resident(team)
    assert referral_after.state is ReferralState.CLOSED
    assert referral_after.taken_by == team.people["gustav"].id

    # No copy in a partner's chat shows the resident any more.
    for partner in PARTNERS:
        for message in telegram.messages(partner):
            for secret in (*SECRETS, PHONE):
                assert secret not in message.text, (partner, message.text)

    timeline = await timeline_of(team)
    done_line = shown(
        fi.gettext(
            "referral: {kind}, {state}",
            kind=fi.plain("conversation help (parish)"),
            state=fi.plain("done"),
        )
    )
    assert done_line in timeline.text


async def test_without_consent_nothing_reaches_the_parish_at_all(team, telegram):
    task, card = await accepted_visit(team)
    since = len(telegram.requests)
    summary = await fill(
        team.cecilia, card, "home_visit", "met", needs=["conversation_help"], consent=False
    )
    confirmation = await submit(team, team.cecilia, summary)
    assert (
        shown(
            fi.gettext(
                "The wish for conversation help is recorded; without consent it is not passed on."
            )
        )
        in confirmation
    )
    (referral,) = await referrals_of_resident(team)
    assert referral.state is ReferralState.NOTED
    assert not referral.consent and referral.organisation_id is None
    assert referral.kind == ReferralKind.PARISH.value

    # Not one request of any kind went to Gustav's or Helmi's chat, with or without their data.
    touching = requests_touching(telegram, set(PARTNERS), since)
    assert touching == [], touching
    for request in requests_touching(telegram, set(PARTNERS)):  # since they registered
        assert not secrets_in(request), request
    for partner in PARTNERS:
        for message in telegram.messages(partner):
            for secret in (*SECRETS, PHONE):
                assert secret not in message.text

    text = coordinator_report(telegram, task, "Cecilia")
    assert (
        shown(
            fi.gettext(
                "• Conversation help: no consent, so nothing was passed on. "
                "Only the need is recorded."
            )
        )
        in text
    )
    assert PARISH not in text

    # A partner forging a take of the noted referral gets a refusal without the resident.
    before = len(telegram.messages(PARTNERS[0]))
    anything = telegram.messages(PARTNERS[0])[-1]  # the welcome message
    query = await team.gustav.press_data(anything, ReferralPress(referral.id, "take").pack())
    await telegram.settle()
    answer = telegram.callback_answers[query]
    assert answer.get("show_alert")
    for secret in (*SECRETS, PHONE):
        assert secret not in str(answer)
    assert len(telegram.messages(PARTNERS[0])) == before
    (still,) = await referrals_of_resident(team)
    assert still.state is ReferralState.NOTED and still.taken_by is None


# --- crisis -----------------------------------------------------------------------------------


async def test_urgent_alerts_the_coordinators_at_once_with_contact_and_reporter(team, telegram):
    task, card = await accepted_visit(team)
    messages_before = len(telegram.messages(1001))

    async def nothing_yet(_prompt):
        assert alerts(telegram, task.id) == []

    summary = await fill(
        team.cecilia, card, "home_visit", "met", urgent=True, before_urgent=nothing_yet
    )
    # Before Submit: the coordinator already has the alert, the volunteer the 112 notice.
    (alert,) = alerts(telegram, task.id)
    assert NAME in alert and PHONE in alert and "Cecilia" in alert
    assert "Kuusitie 7 B 12" in alert
    assert len(telegram.messages(1001)) == messages_before + 1
    assert CRISIS_NOTICE in [m.text for m in telegram.messages(2002)]
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.ACCEPTED  # not submitted yet

    await submit(team, team.cecilia, summary)
    text = coordinator_report(telegram, task, "Cecilia")
    assert shown(fi.gettext("🚨 Marked urgent or a health concern (alerted at once).")) in text
    assert len(alerts(telegram, task.id)) == 1  # alerted once, not again on Submit
    # Only the coordinator heard of the crisis; the partner of the pair got no alert.
    assert crisis_notice("sv") not in [m.text for m in telegram.messages(2001)]  # Bertil reads sv
    assert alerts(telegram, task.id) and not any(
        NAME in m.text for uid in (2003, 2004, CALLER, *PARTNERS) for m in telegram.messages(uid)
    )


async def test_an_alert_that_reached_no_coordinator_is_sent_again(team, telegram, clock):
    task, card = await accepted_visit(team)
    telegram.block(1001)  # Aino cannot be reached when the volunteer answers
    await fill(team.cecilia, card, "home_visit", "met", urgent=True)
    assert alerts(telegram, task.id) == []
    assert CRISIS_NOTICE in [m.text for m in telegram.messages(2002)]
    telegram.unblock(1001)
    clock.advance(minutes=2)
    await team.sweep()
    (alert,) = alerts(telegram, task.id)
    assert NAME in alert and "Cecilia" in alert
    clock.advance(minutes=2)
    await team.sweep()
    assert len(alerts(telegram, task.id)) == 1  # delivered now: not again


async def test_a_health_concern_alerts_like_urgent(team, telegram):
    task, card = await accepted_visit(team)
    summary = await fill(team.cecilia, card, "home_visit", "met", needs=["health_concern"])
    (alert,) = alerts(telegram, task.id)
    assert NAME in alert and PHONE in alert and "Cecilia" in alert
    assert CRISIS_NOTICE in [m.text for m in telegram.messages(2002)]
    before = await tasks_of_resident(team)
    await submit(team, team.cecilia, summary)
    text = coordinator_report(telegram, task, "Cecilia")
    assert shown(fi.gettext("🚨 Marked urgent or a health concern (alerted at once).")) in text
    assert len(alerts(telegram, task.id)) == 1
    assert len(await tasks_of_resident(team)) == len(before)  # a crisis is no follow-up task


async def test_a_plain_need_is_never_taken_for_a_crisis(team, telegram):
    task, card = await accepted_visit(team)
    summary = await fill(team.cecilia, card, "home_visit", "met", needs=["errands"])
    await submit(team, team.cecilia, summary)
    assert alerts(telegram, task.id) == []
    assert CRISIS_NOTICE not in [m.text for m in telegram.messages(2002)]
    assert not any("112" in m.text for m in telegram.messages(2002))
    text = coordinator_report(telegram, task, "Cecilia")
    assert shown(fi.gettext("🚨 Marked urgent or a health concern (alerted at once).")) not in text
    assert "🚨" not in text


# --- the rule table ---------------------------------------------------------------------------


async def test_an_unanswered_call_stays_with_the_caller_then_a_visit_is_offered(team, telegram):
    task, card = await called(team)
    before = await tasks_of_resident(team)

    summary = await fill(team.frida, card, "phone_check", "no_answer")
    confirmation = await submit(team, team.frida, summary)
    assert (
        shown(
            fi.gettext(
                "📞 Call attempt {attempt} of {of} recorded for task #{number}. "
                "Please try again later; the task stays with you.",
                attempt=1,
                of=2,
                number=task.id,
            )
        )
        in confirmation
    )
    after_one = await tasks_of_resident(team)
    assert [t.id for t in after_one] == [t.id for t in before]
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.ACCEPTED
    assert stored.task.holder.person_id == team.people["frida"].id
    assert "attempt" in [e.action.value for e in stored.events]
    text = coordinator_report(telegram, task, "Frida")
    assert shown(fi.gettext("No answer: call attempt {attempt} of {of}.", attempt=1, of=2)) in text

    # The second unanswered call closes the check and sends exactly one visit to the pairs.
    summary = await fill(team.frida, telegram.current(card), "phone_check", "no_answer")
    confirmation = await submit(team, team.frida, summary)
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.NOT_COMPLETED
    assert stored.task.reason is UnfinishedReason.NO_ANSWER
    (visit,) = follow_up(await tasks_of_resident(team), before)
    assert visit.kind is TaskKind.HOME_VISIT and visit.cause == "phone_unreached"
    assert visit.follows_id == task.id and visit.state is TaskState.OFFERED
    assert (
        shown(
            fi.gettext(
                "A follow-up {kind} (#{number}) was created for volunteer pairs.",
                kind=kind_name(fi, TaskKind.HOME_VISIT),
                number=visit.id,
            )
        )
        in confirmation
    )
    offers = offer_messages(telegram, visit.id)
    assert set(offers) == set(VOLUNTEERS)
    for user_id, offer in offers.items():
        tr = translators()[{2001: "sv", 2003: "en"}.get(user_id, "fi")]
        assert tr.plain("Accept") in str(offer.buttons)
        for secret in (*SECRETS, PHONE):
            assert secret not in offer.text
    text = coordinator_report(telegram, task, "Frida", count=2)
    reason = fi.plain(REASON_NAMES[UnfinishedReason.NO_ANSWER])
    assert shown(fi.gettext("Outcome: not completed ({reason}).", reason=reason)) in text


async def test_nobody_at_home_twice_makes_one_revisit_then_tells_the_coordinators(team, telegram):
    task, card = await accepted_visit(team)
    before = await tasks_of_resident(team)
    summary = await fill(team.cecilia, card, "home_visit", "not_at_home")
    await submit(team, team.cecilia, summary)
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.NOT_COMPLETED
    assert stored.task.reason is UnfinishedReason.NOT_AT_HOME
    (revisit,) = follow_up(await tasks_of_resident(team), before)
    assert revisit.kind is TaskKind.HOME_VISIT and revisit.cause == "revisit"
    assert revisit.follows_id == task.id and revisit.state is TaskState.OFFERED
    assert notice("unreachable") not in coordinator_report(telegram, task, "Cecilia")

    # Eeva's pair takes the revisit; nobody is at home again: no third visit, the coordinators
    # are told the resident is unreachable.
    offers = offer_messages(telegram, revisit.id)
    card = await team.eeva.click_and_wait(offers[2004], fi.plain("Accept"))
    assert NAME in card.text
    middle = await tasks_of_resident(team)
    summary = await fill(team.eeva, card, "home_visit", "not_at_home")
    await submit(team, team.eeva, summary)
    assert follow_up(await tasks_of_resident(team), middle) == []
    stored = await team.services.dispatch.view(team.coordinator, revisit.id)
    assert stored.task.state is TaskState.NOT_COMPLETED
    text = coordinator_report(telegram, revisit, "Eeva")
    assert notice("unreachable") in text


async def test_needs_make_one_errand_one_delivery_and_a_home_care_referral(team, telegram):
    task, card = await accepted_visit(team)
    before = await tasks_of_resident(team)
    summary = await fill(
        team.cecilia, card, "home_visit", "met", needs=["errands", "food_help", "home_care"]
    )
    await submit(team, team.cecilia, summary)
    new = follow_up(await tasks_of_resident(team), before)
    assert sorted((t.kind, t.cause) for t in new) == sorted(
        [(TaskKind.ERRAND, "errands"), (TaskKind.DELIVERY, "food_help")]
    )
    assert all(t.follows_id == task.id and t.state is TaskState.OFFERED for t in new)
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.DONE
    (referral,) = await referrals_of_resident(team)
    assert referral.kind == ReferralKind.HOME_CARE.value
    assert referral.state is ReferralState.NEW and referral.organisation_id is None

    text = coordinator_report(telegram, task, "Cecilia")
    for made in new:
        line = shown(
            fi.ngettext(
                "Follow-up #{number} ({kind}) offered to {n} volunteer.",
                "Follow-up #{number} ({kind}) offered to {n} volunteers.",
                4,
                number=made.id,
                kind=kind_name(fi, made.kind),
            )
        )
        assert line in text
    assert shown(fi.gettext("• Home-care services: a referral for you to arrange.")) in text
    for value in ("errands", "food_help", "home_care"):
        assert choice("home_visit", "needs", value) in text
    # Home care goes nowhere but to the coordinators.
    for partner in PARTNERS:
        assert NAME not in telegram.messages(partner)[-1].text


async def test_a_coordinator_marks_a_home_care_referral_arranged(team, telegram):
    task, card = await accepted_visit(team)
    summary = await fill(team.cecilia, card, "home_visit", "met", needs=["home_care"])
    await submit(team, team.cecilia, summary)
    head = fi.gettext(
        "📋 <b>Report on task #{number} ({kind})</b> by {reporter}",
        number=task.id,
        kind=kind_name(fi, task.kind),
        reporter="Cecilia",
    )
    (report,) = [m for m in telegram.messages(1001) if m.text.startswith(shown(head))]
    arranged = fi.plain("✔ Arranged: {kind}", kind=fi.plain("home-care services"))
    assert report.buttons == [[arranged]]
    (referral,) = await referrals_of_resident(team)
    # A volunteer forging the button is refused; the referral stays new.
    forged = await team.bertil.press_data(card, ReferralPress(referral.id, "settle").pack())
    await telegram.settle()
    assert telegram.callback_answers[forged].get("show_alert")
    assert (await referrals_of_resident(team))[0].state is ReferralState.NEW
    # The coordinator's press closes it and takes the button away; a second press is harmless.
    first = await team.aino.press(report, arranged)
    await telegram.settle()
    assert not telegram.callback_answers[first].get("show_alert")
    assert not telegram.current(report).buttons
    again = await team.aino.press_data(report, ReferralPress(referral.id, "settle").pack())
    await telegram.settle()
    assert not telegram.callback_answers[again].get("show_alert")
    assert (await referrals_of_resident(team))[0].state is ReferralState.CLOSED


async def test_a_wrong_number_sends_a_visit_and_asks_to_check_the_number(team, telegram):
    task, card = await called(team)
    before = await tasks_of_resident(team)
    summary = await fill(team.frida, card, "phone_check", "wrong_number")
    await submit(team, team.frida, summary)
    (visit,) = follow_up(await tasks_of_resident(team), before)
    assert visit.kind is TaskKind.HOME_VISIT and visit.cause == "phone_unreached"
    assert visit.follows_id == task.id and visit.state is TaskState.OFFERED
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.reason is UnfinishedReason.WRONG_NUMBER
    assert notice("wrong_number") in coordinator_report(telegram, task, "Frida")


async def test_a_refusal_makes_no_new_task(team, telegram):
    task, card = await accepted_visit(team)
    before = await tasks_of_resident(team)
    summary = await fill(team.cecilia, card, "home_visit", "refused")
    await submit(team, team.cecilia, summary)
    assert follow_up(await tasks_of_resident(team), before) == []
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.NOT_COMPLETED
    assert stored.task.reason is UnfinishedReason.REFUSED
    assert notice("refused") in coordinator_report(telegram, task, "Cecilia")


async def test_with_no_pair_available_the_follow_up_waits_for_the_coordinator(team, telegram):
    for name in ("bertil", "daniel"):
        await team.services.pairs.set_available(team.people[name], False)
    task, card = await called(team)
    before = await tasks_of_resident(team)
    volunteer_messages = {uid: len(telegram.messages(uid)) for uid in VOLUNTEERS}
    summary = await fill(team.frida, card, "phone_check", "wrong_number")
    await submit(team, team.frida, summary)
    (visit,) = follow_up(await tasks_of_resident(team), before)
    assert visit.state is TaskState.OPEN and visit.follows_id == task.id
    assert {uid: len(telegram.messages(uid)) for uid in VOLUNTEERS} == volunteer_messages
    text = coordinator_report(telegram, task, "Frida")
    assert (
        shown(
            fi.gettext(
                "Follow-up #{number} ({kind}): no pair available. /task {number} to assign it.",
                number=visit.id,
                kind=kind_name(fi, TaskKind.HOME_VISIT),
            )
        )
        in text
    )


async def test_a_double_tap_on_submit_reports_once(team, telegram):
    task, card = await accepted_visit(team)
    before = await tasks_of_resident(team)
    summary = await fill(team.cecilia, card, "home_visit", "not_at_home")
    data = summary.button_data[button("✅ Submit")]
    taps = [await team.cecilia.press_data(summary, data) for _ in range(2)]
    await telegram.settle()
    assert all(tap in telegram.callback_answers for tap in taps)
    assert len(follow_up(await tasks_of_resident(team), before)) == 1
    coordinator_report(telegram, task, "Cecilia")  # exactly one report
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    assert len([e for e in timeline.entries if e.outcome is not None]) == 1


# --- the timeline -----------------------------------------------------------------------------


async def timeline_of(team):
    """Open Hilkka's card from /resident and press its Timeline button; return the timeline."""
    found = await team.aino.ask("/resident Hilkka")
    resident_card = await team.aino.click_and_wait(found, NAME)
    assert resident_card is not None
    timeline = await team.aino.click_and_wait(resident_card, fi.plain("🗂 Timeline"))
    assert timeline is not None
    head = shown(fi.gettext("🗂 <b>Timeline: {name}</b>", name=NAME))
    assert timeline.text.startswith(head), timeline.text
    return timeline


def line_of(lines: list[str], text: str) -> int:
    found = [i for i, line in enumerate(lines) if text in line]
    assert len(found) == 1, (text, lines)
    return found[0]


async def test_the_timeline_lists_everything_in_order(team, telegram, clock):
    first, card = await accepted_visit(team)
    clock.advance(minutes=10)
    summary = await fill(team.cecilia, card, "home_visit", "not_at_home")
    clock.advance(minutes=10)
    await submit(team, team.cecilia, summary)
    (revisit,) = follow_up(await tasks_of_resident(team), [first])
    clock.advance(minutes=10)
    offers = offer_messages(telegram, revisit.id)
    card = await team.eeva.click_and_wait(offers[2004], fi.plain("Accept"))

    async def later(_prompt):
        clock.advance(minutes=10)

    summary = await fill(
        team.eeva,
        card,
        "home_visit",
        "met",
        needs=["conversation_help"],
        consent=True,
        urgent=True,
        before_urgent=later,
    )
    clock.advance(minutes=10)
    await submit(team, team.eeva, summary)

    timeline = await timeline_of(team)
    lines = timeline.text.split("\n")
    created_first = line_of(
        lines,
        shown(
            fi.gettext(
                "task #{number} {kind} created",
                number=first.id,
                kind=kind_name(fi, TaskKind.HOME_VISIT),
            )
        ),
    )
    outcome_first = line_of(
        lines,
        shown(fi.gettext("outcome of task #{number} by {name}", number=first.id, name="Cecilia")),
    )
    follows = line_of(lines, shown(follow_up_text(fi, revisit)))
    assert mentions(lines[follows], revisit.id)
    outcome_revisit = line_of(
        lines,
        shown(fi.gettext("outcome of task #{number} by {name}", number=revisit.id, name="Eeva")),
    )
    alert = line_of(
        lines,
        shown(
            fi.gettext(
                "🚨 coordinators alerted from task #{number} by {name}",
                number=revisit.id,
                name="Eeva",
            )
        ),
    )
    referral = line_of(
        lines,
        shown(
            fi.gettext(
                "referral: {kind}, {state}",
                kind=fi.plain("conversation help (parish)"),
                state=fi.plain("waiting to be taken"),
            )
        ),
    )
    assert created_first < outcome_first < alert < outcome_revisit < referral
    assert created_first < follows < alert
    # Outcomes come with their answers as the coordinator reads them.
    contact_q = question("home_visit", "contact")
    answers_first = lines[outcome_first + 1]
    assert contact_q in answers_first
    assert choice("home_visit", "contact", "not_at_home") in answers_first
    revisit_answers = "\n".join(lines[outcome_revisit + 1 : referral])
    assert choice("home_visit", "contact", "met") in revisit_answers
    assert choice("home_visit", "needs", "conversation_help") in revisit_answers
    assert question("home_visit", "consent_parish") in revisit_answers


async def test_a_follow_up_is_listed_after_the_outcome_that_made_it(team, telegram):
    first, card = await accepted_visit(team)
    summary = await fill(team.cecilia, card, "home_visit", "met", needs=["errands", "food_help"])
    await submit(team, team.cecilia, summary)
    new = sorted(follow_up(await tasks_of_resident(team), [first]), key=lambda t: t.id)
    timeline = await timeline_of(team)
    lines = timeline.text.split("\n")
    outcome = line_of(
        lines,
        shown(fi.gettext("outcome of task #{number} by {name}", number=first.id, name="Cecilia")),
    )
    created = [
        line_of(
            lines,
            shown(
                fi.gettext("task #{number} {kind} created", number=t.id, kind=kind_name(fi, t.kind))
            ),
        )
        for t in new
    ]
    assert outcome < created[0] < created[1]


async def test_the_timeline_lists_answers_in_the_order_of_the_form(team, telegram):
    _task, card = await accepted_visit(team)
    summary = await fill(team.cecilia, card, "home_visit", "met", needs=["errands"])
    await submit(team, team.cecilia, summary)
    lines = (await timeline_of(team)).text.split("\n")
    asked = [
        next(i for i, line in enumerate(lines) if question("home_visit", q) in line)
        for q in ("contact", "all_right", "needs", "urgent")
    ]
    assert asked == sorted(asked)


async def test_a_volunteer_forging_the_timeline_button_is_refused(team, telegram):
    _task, card = await accepted_visit(team)
    summary = await fill(team.cecilia, card, "home_visit", "met", urgent=True)
    await submit(team, team.cecilia, summary)
    for user, tr in ((team.bertil, sv), (team.frida, fi), (team.gustav, fi)):
        before = len(telegram.messages(user.user_id))
        anything = telegram.messages(user.user_id)[-1]
        query = await user.press_data(anything, ShowTimeline(team.resident.id).pack())
        await telegram.settle()
        answer = telegram.callback_answers[query]
        assert answer.get("show_alert")
        assert answer.get("text") == tr.plain("Sorry, your role does not allow that.")
        assert len(telegram.messages(user.user_id)) == before
    # The coordinator's press of the same data works.
    timeline = await timeline_of(team)
    assert shown(fi.gettext("🗂 <b>Timeline: {name}</b>", name=NAME)) in timeline.text
