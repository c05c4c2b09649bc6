"""Filling in outcome forms the way a volunteer does: by the labels they read, in their language."""

from __future__ import annotations

from bot.domain.tasks import TaskKind
from bot.form_files import load_catalog
from bot.i18n import translators
from handlers.tasks_render import kind_name
from tests.fakes.telegram_html import parse_html

CATALOG = load_catalog(None)
COORDINATOR = 1001  # Aino in `teams.py`


def shown(html: str) -> str:
    """Return a catalog text as the fake Telegram shows it (tags gone, entities read)."""
    return parse_html(html)[0].strip()


def crisis_notice(language: str = "fi") -> str:
    """Return the 112 notice a volunteer sees at once."""
    return shown(
        translators()[language].gettext(
            "🚨 <b>If life is in danger, call 112 now.</b>\n"
            "The coordinators have been alerted and will contact you. "
            "You can go on with the report."
        )
    )


def urgent_alerts(telegram, task_id: int, kind: TaskKind = TaskKind.HOME_VISIT) -> list:
    """Return the crisis alerts the coordinator (Finnish) got about a task."""
    fi = translators()["fi"]
    head = shown(
        fi.gettext(
            "🚨 <b>URGENT: task #{number} ({kind})</b>", number=task_id, kind=kind_name(fi, kind)
        )
    )
    return [m for m in telegram.messages(COORDINATOR) if m.text.startswith(head)]


def question(form_id: str, question_id: str, language: str = "fi") -> str:
    """Return a question's text as the person reads it."""
    return CATALOG.get(form_id).question(question_id).label.get(language)


def choice(form_id: str, question_id: str, value: str, language: str = "fi") -> str:
    """Return the label of a choice's button."""
    q = CATALOG.get(form_id).question(question_id)
    (found,) = [c for c in q.choices if c.value == value]
    return found.label.get(language)


def tick(form_id: str, question_id: str, value: str, language: str = "fi") -> str:
    """Return the label of an unticked multiple-choice button."""
    return "◻️ " + choice(form_id, question_id, value, language)


def button(text: str, language: str = "fi") -> str:
    """Return an app button's label (Yes, No, Skip, Done ✔, « Back, Cancel, ✅ Submit, …)."""
    return translators()[language].plain(text)


async def report(user, card, language: str = "fi"):
    """Press Report on a task card; return the first question."""
    prompt = await user.click_and_wait(card, button("📝 Report the outcome", language))
    assert prompt is not None
    return prompt


async def press(user, prompt, label: str):
    """Press a button of the prompt; return the prompt as it is now (edited, or the new one)."""
    shown = await user.click_and_wait(prompt, label)
    assert shown is not None, label
    return shown


async def home_visit_all_well(user, card, language: str = "fi"):
    """Report a home visit: met, all right, no needs, nothing urgent, no note; return summary."""
    prompt = await report(user, card, language)
    prompt = await press(user, prompt, choice("home_visit", "contact", "met", language))
    prompt = await press(user, prompt, button("Yes", language))
    prompt = await press(user, prompt, button("Done ✔", language))
    prompt = await press(user, prompt, button("No", language))
    return await press(user, prompt, button("Skip", language))
