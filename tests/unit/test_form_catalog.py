"""The forms in use: built-in ones, replaced or added to from a folder; one form per task kind."""

from __future__ import annotations

import pytest

from bot.domain.forms import FormError
from bot.domain.tasks import TaskKind
from bot.form_files import builtin_forms, load_catalog
from bot.services.outcomes import FormCatalog

VISIT = """\
id: {id}
version: 3
task_kinds: [{kinds}]
title: {{fi: Käynti, sv: Besök, en: Visit}}
questions:
  - id: met
    type: yesno
    label: {{fi: Tapasitko, sv: Träffade du, en: Did you meet}}
"""


def test_the_built_in_forms_close_every_kind_of_task():
    catalog = load_catalog(None)
    for kind in TaskKind:
        assert kind in catalog.for_kind(kind).task_kinds
    assert {form.id for form in catalog} == {"home_visit", "phone_check", "errand", "delivery"}


def test_a_custom_form_with_a_built_in_id_replaces_it(tmp_path):
    (tmp_path / "visit.yaml").write_text(
        VISIT.format(id="home_visit", kinds="home_visit, conversation_help"), encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a form", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert catalog.for_kind(TaskKind.HOME_VISIT).version == 3
    assert catalog.get("phone_check") is not None  # the others stay


def test_two_forms_for_one_kind_are_refused_naming_both(tmp_path):
    (tmp_path / "extra.yaml").write_text(
        VISIT.format(id="visit_two", kinds="home_visit"), encoding="utf-8"
    )
    with pytest.raises(FormError, match="'home_visit' is closed by form"):
        load_catalog(tmp_path)


def test_a_kind_without_a_form_is_refused():
    forms = [f for f in builtin_forms() if f.id != "delivery"]
    with pytest.raises(FormError, match="no form for: delivery"):
        FormCatalog(forms)


def test_the_same_id_twice_in_the_folder_is_refused(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(
            VISIT.format(id="home_visit", kinds="home_visit, conversation_help"), encoding="utf-8"
        )
    with pytest.raises(FormError, match=r"used by a\.yaml too"):
        load_catalog(tmp_path)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FormError, match="not a folder"):
        load_catalog(tmp_path / "nowhere")


def test_a_standard_question_of_the_wrong_type_is_refused(tmp_path):
    (tmp_path / "visit.yaml").write_text(
        VISIT.format(id="home_visit", kinds="home_visit, conversation_help")
        .replace("id: met", "id: urgent")
        .replace("type: yesno", "type: text"),
        encoding="utf-8",
    )
    with pytest.raises(FormError, match="read 'urgent' as a yesno question, not text"):
        load_catalog(tmp_path)
