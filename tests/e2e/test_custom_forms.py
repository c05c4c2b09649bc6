"""A coordinator's own form from `APURI_FORMS_DIR`, end to end: it replaces the built-in errand
form, and its scale question is answered with number buttons."""

from __future__ import annotations

import pytest

from bot.domain.tasks import TaskKind, TaskState
from bot.i18n import translators
from tests.e2e.forms_helpers import button, press, report, shown

fi = translators()["fi"]

ERRAND = """\
id: errand
version: 7
task_kinds: [errand]
title: {fi: Asiointi ja mieliala, sv: Ärende och humör, en: Errand and mood}
questions:
  - id: delivered
    type: yesno
    label: {fi: 'Toimitettiinko?', sv: 'Levererat?', en: 'Delivered?'}
  - id: mood
    type: scale
    max: 10
    relevant: "delivered = true"
    label: {fi: Asukkaan mieliala 1–10, sv: Invånarens humör 1–10, en: The resident's mood 1–10}
"""


@pytest.fixture
def settings(settings, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "errand.yaml").write_text(ERRAND, encoding="utf-8")
    return settings.model_copy(update={"forms_dir": forms})


async def test_a_custom_form_with_a_scale_is_answered_by_its_buttons(team, telegram):
    task = await team.task(kind=TaskKind.ERRAND)
    offers = await team.offer(task.id)
    card = await team.cecilia.click_and_wait(offers[2002], fi.plain("Accept"))
    prompt = await report(team.cecilia, card)
    assert (
        shown(
            fi.gettext(
                "📝 <b>{title}</b> · task #{number} · question {step}\n",
                title="Asiointi ja mieliala",
                number=task.id,
                step=1,
            )
        )
        in prompt.text
    )
    prompt = await press(team.cecilia, prompt, button("Yes"))
    assert "Asukkaan mieliala 1–10" in prompt.text
    assert [label for row in prompt.buttons for label in row][:10] == [str(n) for n in range(1, 11)]
    summary = await press(team.cecilia, prompt, "7")
    assert fi.plain("Please check your answers:") in summary.text and "7" in summary.text
    await team.cecilia.click_and_wait(summary, button("✅ Submit"))
    await telegram.settle()
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.DONE
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    (outcome,) = [e for e in timeline.entries if e.outcome]
    assert outcome.outcome.form_version == 7
    assert outcome.answers == {"delivered": True, "mood": 7}
