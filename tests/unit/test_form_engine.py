"""Answering a form: navigation, skip logic, typed input, undo and edit, finishing and restoring."""

import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.forms import (
    FormIncomplete,
    Progress,
    RejectCode,
    Rejection,
    answer,
    answer_text,
    back,
    current_question,
    done,
    edit,
    evaluate,
    finish,
    parse_form,
    restore,
    skip,
    start,
    step_number,
    summary,
    toggle,
)

TODAY = date(2026, 3, 10)
NEEDS = ["errands", "other"]

FORM_YAML = """\
id: visit
version: 1
task_kinds: [home_visit, phone_check]
title: {fi: Käynti, sv: Besök, en: Visit}
questions:
  - id: contact
    type: single
    label: {fi: Tavattiinko, sv: Träffades ni, en: Did you meet}
    choices:
      - {value: met, label: {fi: Tavattiin, sv: Träffades, en: Met}}
      - {value: not_at_home, label: {fi: Ei kotona, sv: Inte hemma, en: Not at home}}
      - {value: refused, label: {fi: Kieltäytyi, sv: Vägrade, en: Refused}}
  - id: needs
    type: multi
    required: false
    relevant: contact = 'met'
    label: {fi: Tarpeet, sv: Behov, en: Needs}
    choices:
      - {value: errands, label: {fi: Asiointi, sv: Ärenden, en: Errands}}
      - {value: food_help, label: {fi: Ruoka-apu, sv: Mathjälp, en: Food help}}
      - {value: conversation_help, label: {fi: Keskustelu, sv: Samtal, en: Conversation}}
      - {value: other, label: {fi: Muu, sv: Annat, en: Other}}
  - id: consent_parish
    type: yesno
    relevant: "'conversation_help' in needs"
    label: {fi: Suostumus, sv: Samtycke, en: Consent}
  - id: visitors
    type: integer
    min: 0
    max: 20
    relevant: contact != 'refused'
    constraint: . <= 10 or contact = 'met'
    constraint_message: {fi: Liikaa, sv: För många, en: Too many unless you met}
    label: {fi: Vieraita, sv: Besökare, en: Visitors}
  - id: note
    type: text
    required: false
    max_length: 20
    label: {fi: Huomio, sv: Anteckning, en: Note}
  - id: visit_day
    type: date
    constraint: . <= today()
    constraint_message: {fi: Ei tulevaisuutta, sv: Inte i framtiden, en: Not in the future}
    label: {fi: Päivä, sv: Dag, en: Day}
  - id: followup
    type: yesno
    relevant: count(needs) >= 2 or visitors > 5
    label: {fi: Jatko, sv: Uppföljning, en: Follow-up}
  - id: mood
    type: scale
    required: false
    relevant: answered(note)
    label: {fi: Mieliala, sv: Humör, en: Mood}
"""
FORM = parse_form(FORM_YAML, source="visit.yaml", fmt="yaml")
ALL_IDS = [q.id for q in FORM.questions]


def ok(result):
    assert isinstance(result, Progress), result
    return result


def refused(result, code):
    assert isinstance(result, Rejection), result
    assert result.code is code
    return result


def run(*steps, progress=None):
    """Apply steps: ("answer", v), ("text", t), ("skip",), ("toggle", v), ("done",), ("back",),
    ("edit", id); each must succeed."""
    progress = progress or start(FORM)
    for step in steps:
        progress = ok(_apply(progress, step))
    return progress


def _apply(progress, step):
    action, *args = step
    if action == "answer":
        return answer(FORM, progress, args[0], today=TODAY)
    if action == "text":
        return answer_text(FORM, progress, args[0], today=TODAY)
    if action == "skip":
        return skip(FORM, progress, today=TODAY)
    if action == "toggle":
        return toggle(FORM, progress, args[0])
    if action == "done":
        return done(FORM, progress, today=TODAY)
    if action == "back":
        return back(FORM, progress)
    if action == "edit":
        return edit(FORM, progress, args[0])
    raise AssertionError(action)


# A full walk down the "met" branch, ending at the summary.
MET_STEPS = (
    ("answer", "met"),
    ("toggle", "conversation_help"),
    ("toggle", "errands"),
    ("done",),
    ("answer", True),
    ("answer", 3),
    ("text", "  all  fine "),
    ("text", "5.3."),
    ("answer", False),
    ("answer", 4),
)


# --- normal mode --------------------------------------------------------------------------------


def test_start_asks_the_first_question():
    progress = start(FORM)
    assert progress == Progress(current="contact")
    assert current_question(FORM, progress) is FORM.question("contact")
    assert step_number(FORM, progress) == 1
    assert summary(FORM, progress) == []


def test_a_full_walk_asks_each_relevant_question_in_order():
    progress = start(FORM)
    asked = []
    for step in MET_STEPS:
        asked.append(progress.current)
        progress = ok(_apply(progress, step))
        if step[0] == "toggle":
            asked.pop()
    assert asked == [
        "contact", "needs", "consent_parish", "visitors", "note", "visit_day", "followup", "mood",
    ]  # fmt: skip
    assert progress.current is None
    assert progress.editing is False
    assert progress.trail == asked
    assert progress.answers == {
        "contact": "met",
        "needs": ["errands", "conversation_help"],  # in choice order, not tick order
        "consent_parish": True,
        "visitors": 3,
        "note": "all  fine",  # stripped, inner whitespace kept
        "visit_day": date(2026, 3, 5),
        "followup": False,
        "mood": 4,
    }
    assert step_number(FORM, progress) == 9
    assert [(q.id, value) for q, value in summary(FORM, progress)] == list(progress.answers.items())
    assert finish(FORM, progress, today=TODAY) == progress.answers


def test_skip_logic_leaves_out_what_does_not_apply():
    progress = run(("answer", "not_at_home"))
    assert progress.current == "visitors"  # needs and consent are not relevant
    progress = run(("answer", 2), ("skip",), ("text", "1.3.2026"), progress=progress)
    assert progress.current is None  # followup (visitors <= 5) and mood (no note) are left out
    assert finish(FORM, progress, today=TODAY) == {
        "contact": "not_at_home",
        "visitors": 2,
        "note": None,
        "visit_day": date(2026, 3, 1),
    }


def test_refused_skips_the_visitors_too():
    progress = run(("answer", "refused"))
    assert progress.current == "note"


def test_a_question_becomes_relevant_on_an_earlier_answer():
    progress = run(("answer", "not_at_home"), ("answer", 6), ("skip",), ("text", "1.3."))
    assert progress.current == "followup"  # visitors > 5


def test_needs_without_conversation_help_skip_the_consent():
    progress = run(("answer", "met"), ("toggle", "food_help"), ("done",))
    assert progress.current == "visitors"


def test_an_empty_optional_multi_is_an_answer_of_none_ticked():
    progress = run(("answer", "met"), ("done",))
    assert progress.answers["needs"] == []
    assert progress.current == "visitors"


def test_skip_answers_none_and_refuses_required_questions():
    refused(skip(FORM, start(FORM), today=TODAY), RejectCode.REQUIRED)
    progress = run(("answer", "met"), ("skip",))
    assert "needs" in progress.answers and progress.answers["needs"] is None
    assert progress.current == "visitors"


def test_a_constraint_rejection_carries_the_message():
    progress = run(("answer", "not_at_home"))
    rejection = refused(answer(FORM, progress, 15, today=TODAY), RejectCode.CONSTRAINT)
    assert rejection.message is not None
    assert rejection.message.get("en") == "Too many unless you met"
    assert ok(answer(FORM, run(("answer", "met"), ("skip",)), 15, today=TODAY))  # met: fine


def test_the_constraint_reads_today():
    progress = run(("answer", "refused"), ("skip",))
    refused(answer_text(FORM, progress, "11.3.", today=TODAY), RejectCode.CONSTRAINT)
    ok(answer_text(FORM, progress, "10.3.", today=TODAY))
    ok(answer_text(FORM, progress, "11.3.", today=date(2026, 3, 11)))


# --- typed values -------------------------------------------------------------------------------


def at(question_id):
    """A progress asking `question_id` (reached through the form)."""
    paths = {
        "contact": (),
        "needs": (("answer", "met"),),
        "consent_parish": (("answer", "met"), ("answer", ["conversation_help"])),
        "visitors": (("answer", "met"), ("skip",)),
        "note": (("answer", "refused"),),
        "visit_day": (("answer", "refused"), ("skip",)),
        "followup": (("answer", "met"), ("answer", ["errands", "other"]), ("answer", 1),
                     ("skip",), ("text", "1.3.")),
        "mood": (("answer", "refused"), ("text", "x"), ("text", "1.3.")),
    }  # fmt: skip
    progress = run(*paths[question_id])
    assert progress.current == question_id
    return progress


@pytest.mark.parametrize(
    ("question_id", "value", "code"),
    [
        ("contact", "mett", RejectCode.NOT_A_CHOICE),
        ("contact", 1, RejectCode.NOT_A_CHOICE),
        ("contact", ["met"], RejectCode.NOT_A_CHOICE),
        ("contact", None, RejectCode.REQUIRED),
        ("needs", ["errands", "nope"], RejectCode.NOT_A_CHOICE),
        ("needs", "errands", RejectCode.NOT_A_CHOICE),
        ("needs", [1], RejectCode.NOT_A_CHOICE),
        ("consent_parish", "yes", RejectCode.NOT_A_CHOICE),
        ("consent_parish", 1, RejectCode.NOT_A_CHOICE),
        ("consent_parish", None, RejectCode.REQUIRED),
        ("visitors", -1, RejectCode.OUT_OF_RANGE),
        ("visitors", 21, RejectCode.OUT_OF_RANGE),
        ("visitors", True, RejectCode.NOT_A_NUMBER),
        ("visitors", "5", RejectCode.NOT_A_NUMBER),
        ("visitors", 5.0, RejectCode.NOT_A_NUMBER),
        ("visitors", None, RejectCode.REQUIRED),
        ("note", "x" * 21, RejectCode.TOO_LONG),
        ("note", 5, RejectCode.NOT_A_CHOICE),
        ("visit_day", "2026-03-05", RejectCode.NOT_A_DATE),
        ("visit_day", None, RejectCode.REQUIRED),
        ("visit_day", date(2026, 3, 11), RejectCode.CONSTRAINT),
        ("mood", 0, RejectCode.OUT_OF_RANGE),
        ("mood", 6, RejectCode.OUT_OF_RANGE),
    ],
)
def test_answer_refuses_values_that_do_not_fit(question_id, value, code):
    progress = at(question_id)
    rejection = refused(answer(FORM, progress, value, today=TODAY), code)
    if code is RejectCode.OUT_OF_RANGE:
        question = FORM.question(question_id)
        assert (rejection.minimum, rejection.maximum) == (question.min, question.max)
    if code is RejectCode.TOO_LONG:
        assert rejection.maximum == 20


@pytest.mark.parametrize(
    ("question_id", "value", "stored"),
    [
        ("needs", ["other", "errands", "other"], ["errands", "other"]),
        ("needs", ("food_help",), ["food_help"]),
        ("needs", [], []),
        ("needs", None, None),
        ("visitors", 0, 0),
        ("visitors", 20, 20),
        ("note", " a\nb ", "a\nb"),
        ("note", "   ", None),  # optional: empty text is a skip
        ("note", "x" * 20, "x" * 20),
        ("note", "Hyvä päivä ☀", "Hyvä päivä ☀"),
        ("visit_day", datetime(2026, 3, 1, 12, 0), date(2026, 3, 1)),
        ("mood", 5, 5),
    ],
)
def test_answer_stores_values_normalised(question_id, value, stored):
    progress = ok(answer(FORM, at(question_id), value, today=TODAY))
    assert progress.answers[question_id] == stored
    assert type(progress.answers[question_id]) is type(stored)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7", 7),
        ("  7  ", 7),
        ("+7", 7),
        ("007", 7),
        ("0", 0),
        ("10", 10),
        ("-1", RejectCode.OUT_OF_RANGE),
        ("21", RejectCode.OUT_OF_RANGE),
        ("99999999999999999999999999999", RejectCode.OUT_OF_RANGE),
        ("9" * 5000, RejectCode.OUT_OF_RANGE),
        ("7.5", RejectCode.NOT_A_NUMBER),
        ("7,5", RejectCode.NOT_A_NUMBER),
        ("seven", RejectCode.NOT_A_NUMBER),
        ("1_0", RejectCode.NOT_A_NUMBER),
        ("١٢", RejectCode.NOT_A_NUMBER),  # Arabic-Indic digits: ASCII only
        ("７", RejectCode.NOT_A_NUMBER),  # full-width
        ("+", RejectCode.NOT_A_NUMBER),
        ("--1", RejectCode.NOT_A_NUMBER),
        ("1 2", RejectCode.NOT_A_NUMBER),
        ("", RejectCode.NOT_A_NUMBER),
        ("   ", RejectCode.NOT_A_NUMBER),
        ("15", RejectCode.CONSTRAINT),  # not met: at most 10
    ],
)
def test_typed_numbers(typed, expected):
    result = answer_text(FORM, run(("answer", "not_at_home")), typed, today=TODAY)
    if isinstance(expected, RejectCode):
        refused(result, expected)
    else:
        assert ok(result).answers["visitors"] == expected


def test_typed_scale():
    assert ok(answer_text(FORM, at("mood"), " 5 ", today=TODAY)).answers["mood"] == 5
    rejection = refused(answer_text(FORM, at("mood"), "6", today=TODAY), RejectCode.OUT_OF_RANGE)
    assert (rejection.minimum, rejection.maximum) == (1, 5)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("5.3.", date(2026, 3, 5)),
        ("5.3", date(2026, 3, 5)),
        ("05.03.", date(2026, 3, 5)),
        ("05.03.2026", date(2026, 3, 5)),
        ("5.3.2026", date(2026, 3, 5)),
        ("5.3.26", date(2026, 3, 5)),
        ("31.12.25", date(2025, 12, 31)),
        ("5. 3. 2026", date(2026, 3, 5)),
        ("  5.3.  ", date(2026, 3, 5)),
        ("2026-03-05", date(2026, 3, 5)),
        ("2026-3-5", date(2026, 3, 5)),
        ("29.2.2024", date(2024, 2, 29)),
        ("1.1.1999", date(1999, 1, 1)),
        ("10.3.", date(2026, 3, 10)),  # today is fine
        ("11.3.", RejectCode.CONSTRAINT),  # tomorrow is not
        ("29.2.", RejectCode.NOT_A_DATE),  # 2026 is no leap year
        ("31.4.", RejectCode.NOT_A_DATE),
        ("32.1.", RejectCode.NOT_A_DATE),
        ("0.1.", RejectCode.NOT_A_DATE),
        ("5.13.", RejectCode.NOT_A_DATE),
        ("5.0.", RejectCode.NOT_A_DATE),
        ("5.3.202", RejectCode.NOT_A_DATE),
        ("5.3.2026.", RejectCode.NOT_A_DATE),
        ("5/3/2026", RejectCode.NOT_A_DATE),
        ("5", RejectCode.NOT_A_DATE),
        ("0000-01-01", RejectCode.NOT_A_DATE),
        ("2026-02-30", RejectCode.NOT_A_DATE),
        ("eilen", RejectCode.NOT_A_DATE),
        ("", RejectCode.NOT_A_DATE),
        ("５.３.", RejectCode.NOT_A_DATE),  # full-width digits
    ],
)
def test_typed_dates_the_finnish_way(typed, expected):
    result = answer_text(FORM, at("visit_day"), typed, today=TODAY)
    if isinstance(expected, RejectCode):
        refused(result, expected)
    else:
        assert ok(result).answers["visit_day"] == expected


def test_typed_dates_without_a_year_take_the_year_of_today():
    progress = at("visit_day")
    result = ok(answer_text(FORM, progress, "5.3.", today=date(2030, 6, 1)))
    assert result.answers["visit_day"] == date(2030, 3, 5)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hello", "hello"),
        ("  two  spaces ", "two  spaces"),
        ("rivi\nrivi", "rivi\nrivi"),
        ("x" * 20, "x" * 20),
        ("", None),  # optional: a skip
        (" \n\t ", None),
        ("x" * 21, RejectCode.TOO_LONG),
        ("  " + "x" * 20 + "  ", "x" * 20),  # length counts after stripping
    ],
)
def test_typed_text(typed, expected):
    result = answer_text(FORM, at("note"), typed, today=TODAY)
    if isinstance(expected, RejectCode):
        assert refused(result, expected).maximum == 20
    else:
        assert ok(result).answers["note"] == expected


def test_empty_text_for_a_required_text_question_is_refused():
    form = parse_form(
        FORM_YAML.replace("    required: false\n    max_length: 20\n", "    max_length: 20\n"),
        source="v.yaml",
        fmt="yaml",
    )
    progress = ok(answer(form, start(form), "refused", today=TODAY))
    assert progress.current == "note"
    refused(answer_text(form, progress, "   ", today=TODAY), RejectCode.REQUIRED)
    refused(skip(form, progress, today=TODAY), RejectCode.REQUIRED)


@pytest.mark.parametrize("question_id", ["contact", "needs", "consent_parish", "followup"])
def test_typing_where_buttons_are_expected(question_id):
    refused(answer_text(FORM, at(question_id), "met", today=TODAY), RejectCode.USE_BUTTONS)


# --- ticks --------------------------------------------------------------------------------------


def test_ticks_toggle_and_stay_in_choice_order():
    progress = at("needs")
    progress = ok(toggle(FORM, progress, "other"))
    progress = ok(toggle(FORM, progress, "errands"))
    assert progress.ticks == ["errands", "other"]
    progress = ok(toggle(FORM, progress, "other"))
    assert progress.ticks == ["errands"]
    assert progress.answers == {"contact": "met"}  # nothing answered before Done
    refused(toggle(FORM, progress, "nope"), RejectCode.NOT_A_CHOICE)
    progress = ok(done(FORM, progress, today=TODAY))
    assert progress.answers["needs"] == ["errands"]
    assert progress.ticks == []


def test_ticks_only_on_a_multi_question():
    refused(toggle(FORM, start(FORM), "met"), RejectCode.NOT_CURRENT)
    refused(done(FORM, start(FORM), today=TODAY), RejectCode.NOT_CURRENT)


def test_done_with_no_ticks_on_a_required_multi_is_refused():
    required = FORM_YAML.replace(
        "    required: false\n    relevant: contact", "    relevant: contact"
    )
    form = parse_form(required, source="v.yaml", fmt="yaml")
    progress = ok(answer(form, start(form), "met", today=TODAY))
    assert progress.current == "needs"
    refused(done(form, progress, today=TODAY), RejectCode.REQUIRED)
    refused(skip(form, progress, today=TODAY), RejectCode.REQUIRED)
    refused(answer(form, progress, [], today=TODAY), RejectCode.REQUIRED)


# --- back ---------------------------------------------------------------------------------------


def test_back_at_the_first_question_changes_nothing():
    assert back(FORM, start(FORM)) == start(FORM)


def test_back_undoes_the_last_answer():
    before = at("needs")
    progress = run(("answer", ["errands"]), progress=before)
    assert progress.current == "visitors"
    undone = back(FORM, progress)
    assert undone.current == "needs"
    assert undone.answers == before.answers
    assert undone.trail == before.trail
    assert undone.ticks == ["errands"]  # the earlier ticks are pre-set
    assert back(FORM, undone) == start(FORM)


def test_back_to_a_skipped_multi_has_no_ticks():
    progress = run(("answer", "met"), ("skip",), ("back",))
    assert progress.current == "needs" and progress.ticks == []


def test_back_from_the_summary_undoes_the_last_answer():
    progress = run(*MET_STEPS)
    undone = back(FORM, progress)
    assert undone.current == "mood"
    assert "mood" not in undone.answers
    assert undone.trail == progress.trail[:-1]


def test_back_all_the_way_to_the_start():
    progress = run(*MET_STEPS)
    for _ in range(len(progress.trail)):
        progress = back(FORM, progress)
    assert progress == start(FORM)


def test_back_then_a_different_answer_takes_the_other_branch():
    progress = run(("answer", "met"), ("skip",), ("back",), ("back",), ("answer", "refused"))
    assert progress.answers == {"contact": "refused"}
    assert progress.current == "note"


# --- summary and edit ---------------------------------------------------------------------------


def test_edit_only_from_the_summary_and_only_relevant_questions():
    refused(edit(FORM, at("visitors"), "contact"), RejectCode.NOT_CURRENT)
    progress = run(("answer", "not_at_home"), ("answer", 1), ("skip",), ("text", "1.3."))
    assert progress.current is None
    refused(edit(FORM, progress, "needs"), RejectCode.NOT_CURRENT)  # not relevant
    refused(edit(FORM, progress, "nope"), RejectCode.NOT_CURRENT)
    editing = ok(edit(FORM, progress, "visitors"))
    assert (editing.current, editing.editing) == ("visitors", True)
    refused(edit(FORM, editing, "contact"), RejectCode.NOT_CURRENT)  # already editing


def test_nothing_to_answer_at_the_summary():
    progress = run(*MET_STEPS)
    for result in (
        answer(FORM, progress, "met", today=TODAY),
        answer_text(FORM, progress, "5", today=TODAY),
        skip(FORM, progress, today=TODAY),
        toggle(FORM, progress, "errands"),
        done(FORM, progress, today=TODAY),
    ):
        refused(result, RejectCode.NOT_CURRENT)
    assert current_question(FORM, progress) is None


def test_edit_replaces_the_answer_in_place_and_returns_to_the_summary():
    progress = run(*MET_STEPS)
    editing = ok(edit(FORM, progress, "visitors"))
    assert step_number(FORM, editing) == 4  # its place in the trail
    edited = ok(answer(FORM, editing, 7, today=TODAY))
    assert edited.current is None and edited.editing is False
    assert edited.answers == {**progress.answers, "visitors": 7}
    assert edited.trail == progress.trail  # the trail keeps its order


def test_back_while_editing_returns_to_the_summary_unchanged():
    progress = run(*MET_STEPS)
    editing = ok(edit(FORM, progress, "needs"))
    assert editing.ticks == ["errands", "conversation_help"]  # the current answer, pre-set
    editing = ok(toggle(FORM, editing, "food_help"))
    assert back(FORM, editing) == progress


def test_editing_a_multi_question_with_ticks():
    progress = run(*MET_STEPS)
    editing = run(("edit", "needs"), ("toggle", "errands"), ("toggle", "other"), progress=progress)
    edited = ok(done(FORM, editing, today=TODAY))
    assert edited.answers["needs"] == ["conversation_help", "other"]
    assert edited.current is None


def test_an_edit_that_flips_relevance_prunes_the_answers_that_no_longer_apply():
    progress = run(*MET_STEPS)
    edited = run(("edit", "contact"), ("answer", "not_at_home"), progress=progress)
    # needs, consent and followup (count(needs) < 2 now, visitors 3) no longer apply
    assert edited.answers == {
        "contact": "not_at_home",
        "visitors": 3,
        "note": "all  fine",
        "visit_day": date(2026, 3, 5),
        "mood": 4,
    }
    assert edited.trail == ["contact", "visitors", "note", "visit_day", "mood"]
    assert edited.current is None
    assert finish(FORM, edited, today=TODAY) == edited.answers


def test_an_edit_that_makes_questions_relevant_asks_them():
    progress = run(("answer", "not_at_home"), ("answer", 1), ("skip",), ("text", "1.3."))
    edited = run(("edit", "contact"), ("answer", "met"), progress=progress)
    assert (edited.current, edited.editing) == ("needs", False)
    edited = run(("answer", ["conversation_help", "food_help"]), progress=edited)
    assert edited.current == "consent_parish"
    edited = run(("answer", True), progress=edited)
    assert edited.current == "followup"  # count(needs) >= 2, after the answered ones
    edited = run(("answer", False), progress=edited)
    assert edited.current is None
    assert edited.trail == ["contact", "visitors", "note", "visit_day", "needs",
                            "consent_parish", "followup"]  # fmt: skip
    assert list(finish(FORM, edited, today=TODAY)) == [
        "contact", "needs", "consent_parish", "visitors", "note", "visit_day", "followup",
    ]  # fmt: skip


def test_an_edit_that_breaks_a_later_constraint_asks_that_question_again():
    progress = run(("answer", "met"), ("skip",), ("answer", 15), ("skip",), ("text", "1.3."),
                   ("answer", True))  # fmt: skip
    assert progress.current is None
    edited = run(("edit", "contact"), ("answer", "not_at_home"), progress=progress)
    assert "visitors" not in edited.answers  # 15 is too many unless met
    assert edited.current == "visitors"
    rejection = refused(answer(FORM, edited, 15, today=TODAY), RejectCode.CONSTRAINT)
    assert rejection.message is not None
    edited = run(("answer", 2), progress=edited)
    assert edited.current is None  # followup no longer applies
    assert finish(FORM, edited, today=TODAY)["visitors"] == 2


def test_summary_lists_relevant_answers_in_form_order():
    progress = run(*MET_STEPS)
    edited = run(("edit", "contact"), ("answer", "met"), progress=progress)
    assert [q.id for q, _ in summary(FORM, edited)] == [q.id for q in FORM.questions]


# --- finish -------------------------------------------------------------------------------------


def test_finish_refuses_a_form_with_unanswered_required_questions():
    with pytest.raises(FormIncomplete) as caught:
        finish(FORM, at("visitors"), today=TODAY)
    assert caught.value.question == "visitors"
    assert isinstance(caught.value, ValueError)


def test_finish_gives_none_for_optional_questions_not_reached():
    progress = run(("answer", "refused"))
    with pytest.raises(FormIncomplete):
        finish(FORM, progress, today=TODAY)  # visit_day is required
    progress = Progress(answers={"contact": "refused", "visit_day": date(2026, 3, 1)}, current=None)
    assert finish(FORM, progress, today=TODAY) == {
        "contact": "refused",
        "note": None,
        "visit_day": date(2026, 3, 1),
    }


def test_finish_refuses_answers_that_no_longer_pass_their_checks():
    progress = run(*MET_STEPS)
    with pytest.raises(FormIncomplete) as caught:
        finish(FORM, progress, today=date(2026, 3, 4))  # the visit day is now in the future
    assert caught.value.question == "visit_day"
    tampered = progress.model_copy(update={"answers": {**progress.answers, "visitors": 99}})
    with pytest.raises(FormIncomplete, match="visitors"):
        finish(FORM, tampered, today=TODAY)


def test_finish_leaves_out_answers_of_questions_that_do_not_apply():
    progress = run(*MET_STEPS)
    stale = progress.model_copy(update={"answers": {**progress.answers, "contact": "not_at_home"}})
    result = finish(FORM, stale, today=TODAY)
    assert "needs" not in result and "followup" not in result


# --- restore ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "null",
        "[]",
        "5",
        '"text"',
        "{",
        "not json at all",
        "[" * 100_000,
        '{"answers": 5, "trail": "x", "current": 7, "ticks": {}, "editing": "yes"}',
        '{"answers": {"contact": {"x": 1}}}',
        {},
        {"current": None},
        {"answers": None},
        {1: 2},
        None,
        b"\xff\xfe",
        12,
    ],
)
def test_restore_turns_junk_into_a_fresh_start(junk):
    assert restore(FORM, junk) == start(FORM)


def test_restore_round_trips():
    for steps in (MET_STEPS, MET_STEPS[:1], MET_STEPS[:3], ()):
        progress = run(*steps)
        assert restore(FORM, progress.model_dump_json()) == progress
        assert restore(FORM, progress.model_dump(mode="json")) == progress
        assert restore(FORM, progress.model_dump()) == progress
        assert restore(FORM, json.loads(progress.model_dump_json())) == progress
    editing = run(*MET_STEPS, ("edit", "needs"), ("toggle", "other"))
    assert restore(FORM, editing.model_dump_json()) == editing


def test_restore_from_an_older_form_drops_what_no_longer_fits():
    old = {
        "answers": {
            "contact": "met",
            "needs": ["errands", "shopping"],  # a choice that was removed
            "removed_question": "x",
            "visitors": 25,  # out of the range now
            "note": "x" * 30,  # too long now
            "visit_day": "2026-03-01",
            "mood": 3,  # relevant only with a note
        },
        "trail": ["contact", "needs", "removed_question", "visitors", "note", "visit_day", "mood"],
        "current": "removed_question",
        "ticks": ["errands"],
        "editing": False,
    }
    progress = restore(FORM, json.dumps(old))
    assert progress.answers == {"contact": "met", "visit_day": date(2026, 3, 1)}
    assert progress.trail == ["contact", "visit_day"]
    assert progress.current == "needs"  # the first relevant unanswered question
    assert progress.ticks == ["errands"]  # pending ticks of needs are kept
    assert progress.editing is False


@pytest.mark.parametrize(
    ("answers", "kept"),
    [
        ({"contact": "gone"}, {}),
        ({"contact": None}, {}),  # required: None is no answer
        ({"contact": ["met"]}, {}),
        ({"contact": "refused", "note": None}, {"contact": "refused", "note": None}),
        ({"contact": "refused", "note": ""}, {"contact": "refused", "note": None}),
        ({"contact": "refused", "note": 5}, {"contact": "refused"}),
        ({"contact": "refused", "visit_day": "5.3.2026"}, {"contact": "refused"}),
        ({"contact": "refused", "visit_day": "2026-02-30"}, {"contact": "refused"}),
        ({"contact": "refused", "visit_day": 20260305}, {"contact": "refused"}),
        ({"contact": "met", "needs": ["other", "errands"]}, {"contact": "met", "needs": NEEDS}),
        ({"contact": "met", "needs": "errands"}, {"contact": "met"}),
        ({"contact": "met", "needs": [None]}, {"contact": "met"}),
        ({"contact": "met", "visitors": "5"}, {"contact": "met"}),
        ({"contact": "met", "visitors": True}, {"contact": "met"}),
        ({"contact": "met", "visitors": 5.0}, {"contact": "met"}),
        ({"contact": "met", "consent_parish": True}, {"contact": "met"}),  # not relevant
        ({"contact": "not_at_home", "needs": ["errands"]}, {"contact": "not_at_home"}),
        ({"needs": ["errands"], "visitors": 1}, {"visitors": 1}),  # contact null != 'refused'
    ],
)  # fmt: skip
def test_restore_keeps_only_values_that_fit(answers, kept):
    progress = restore(FORM, {"answers": answers, "trail": list(answers), "current": None})
    assert progress.answers == kept
    assert set(progress.trail) == set(kept)


def test_restore_recomputes_current():
    answered = {"contact": "refused", "note": None, "visit_day": "2026-03-01"}
    # the summary is kept when nothing is left to ask ...
    assert restore(FORM, {"answers": answered, "current": None}).current is None
    # ... but a question that is answered, unknown or not relevant is not current
    for current in ("contact", "nope", "needs", 5):
        assert restore(FORM, {"answers": answered, "current": current}).current is None
    # an open question may stay current; a summary with open questions moves to the first one
    partial = {"contact": "met"}
    assert restore(FORM, {"answers": partial, "current": "visitors"}).current == "visitors"
    assert restore(FORM, {"answers": partial, "current": None}).current == "needs"
    assert restore(FORM, {"answers": partial, "current": "contact"}).current == "needs"


def test_restore_repairs_the_trail():
    data = {
        "answers": {"contact": "refused", "note": "x"},
        "trail": ["note", "note", 5, "ghost"],
        "current": "visit_day",
    }
    progress = restore(FORM, data)
    assert progress.trail == ["note", "contact"]  # missing ones appended in form order


def test_restore_keeps_editing_only_when_it_makes_sense():
    answered = {"contact": "refused", "note": None, "visit_day": "2026-03-01"}
    kept = restore(FORM, {"answers": answered, "current": "note", "editing": True})
    assert (kept.current, kept.editing) == ("note", True)
    for current in (None, "needs", "nope"):
        progress = restore(FORM, {"answers": answered, "current": current, "editing": True})
        assert (progress.current, progress.editing) == (None, False)
    open_ = restore(FORM, {"answers": {"contact": "met"}, "current": "contact", "editing": True})
    assert (open_.current, open_.editing) == ("needs", False)


def test_restore_filters_ticks():
    data = {
        "answers": {"contact": "met"},
        "current": "needs",
        "ticks": ["other", 5, "x", "errands"],
    }
    assert restore(FORM, data).ticks == ["errands", "other"]
    data = {"answers": {}, "current": "contact", "ticks": ["met"]}
    assert restore(FORM, data).ticks == []  # only a multi question has ticks


# --- the random walk ----------------------------------------------------------------------------


def relevant_ids(answers):
    """The relevant questions, judged independently of the engine, straight from the contract."""
    counted, ids = {}, []
    for question in FORM.questions:
        if question.relevant_expr is None or evaluate(question.relevant_expr, counted, today=TODAY):
            ids.append(question.id)
            if question.id in answers:
                counted[question.id] = answers[question.id]
    return ids


def assert_invariants(progress):
    relevant = relevant_ids(progress.answers)
    assert set(progress.answers) <= set(relevant)
    assert len(progress.trail) == len(set(progress.trail))
    assert set(progress.trail) == set(progress.answers)
    if progress.editing:
        assert progress.current in relevant
    elif progress.current is not None:
        assert progress.current in relevant and progress.current not in progress.answers
    question = current_question(FORM, progress)
    if question is not None and question.type == "multi":
        assert progress.ticks == [v for v in question.choice_values if v in progress.ticks]
    else:
        assert progress.ticks == []
    assert [(q.id, value) for q, value in summary(FORM, progress)] == [
        (qid, progress.answers[qid]) for qid in relevant if qid in progress.answers
    ]
    if progress.current is None:
        assert not progress.editing
        result = finish(FORM, progress, today=TODAY)
        assert list(result) == relevant
        assert result == {qid: progress.answers.get(qid) for qid in relevant}
    assert restore(FORM, progress.model_dump_json()) == progress
    assert step_number(FORM, progress) >= 1


junk_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 30),
    st.text(max_size=6),
    st.lists(st.sampled_from(["errands", "food_help", "conversation_help", "other", "met", "x"]),
             max_size=4),
    st.dates(date(2025, 1, 1), date(2026, 12, 31)),
)  # fmt: skip


def good_values(question):
    kind = question.type
    if kind in ("single", "multi"):
        choice = st.sampled_from([*question.choice_values, "nope"])
        return choice if kind == "single" else st.lists(choice, max_size=4)
    if kind == "yesno":
        return st.booleans()
    if kind in ("integer", "scale"):
        return st.integers(question.min - 2, question.max + 2)
    if kind == "text":
        return st.text(max_size=24)
    return st.dates(date(2026, 2, 1), date(2026, 3, 20))


typed_texts = st.one_of(
    st.text(max_size=25),
    st.integers(-3, 25).map(str),
    st.dates(date(2026, 2, 1), date(2026, 3, 20)).map(lambda d: f"{d.day}.{d.month}."),
    st.dates(date(2025, 1, 1), date(2026, 3, 20)).map(lambda d: d.strftime("%d.%m.%Y")),
    st.dates(date(2025, 1, 1), date(2026, 3, 20)).map(date.isoformat),
    st.sampled_from(["", "  ", "5.3.26", "31.2.", "x" * 21]),
)  # fmt: skip

TICKS = ["errands", "food_help", "conversation_help", "other", "met"]
# Weighted by what the state invites, so that walks reach the summary and edit from it often.
AT_SUMMARY = ["edit", "edit", "edit", "back", "answer", "skip", "toggle"]
AT_MULTI = ["toggle", "toggle", "toggle", "done", "done", "answer", "skip", "back", "text"]
AT_OTHER = ["answer", "answer", "answer", "answer", "text", "text", "skip", "back", "edit", "done"]


def _later_answered(form, progress, question_id):
    position = form.index(question_id)
    return any(form.index(qid) > position for qid in progress.answers)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_random_walk_keeps_the_invariants(data):
    progress = start(FORM)
    assert_invariants(progress)
    for _ in range(data.draw(st.integers(5, 60), label="steps")):
        question = current_question(FORM, progress)
        if question is None:
            actions = AT_SUMMARY
        else:
            actions = AT_MULTI if question.type == "multi" else AT_OTHER
        action = data.draw(st.sampled_from(actions), label="action")
        if action == "answer":
            pool = good_values(question) if question is not None else junk_values
            value = data.draw(st.one_of(pool, pool, pool, junk_values), label="value")
            result = answer(FORM, progress, value, today=TODAY)
        elif action == "text":
            result = answer_text(FORM, progress, data.draw(typed_texts, label="text"), today=TODAY)
        elif action == "skip":
            result = skip(FORM, progress, today=TODAY)
        elif action == "back":
            result = back(FORM, progress)
        elif action == "toggle":
            value = data.draw(st.sampled_from(TICKS), label="tick")
            result = toggle(FORM, progress, value)
        elif action == "done":
            result = done(FORM, progress, today=TODAY)
        else:
            result = edit(
                FORM, progress, data.draw(st.sampled_from([*ALL_IDS, "nope"]), label="id")
            )
        if isinstance(result, Rejection):
            if question is None and action in ("answer", "text", "skip", "toggle", "done"):
                assert result.code is RejectCode.NOT_CURRENT
            continue
        assert_invariants(result)
        answered = action in ("answer", "text", "skip", "done")
        if answered and not progress.editing:
            # back after a normal-mode answer undoes it (exactly, when nothing after it was
            # answered already: an answer may prune later answers, which back cannot bring back)
            assert question is not None
            undone = back(FORM, result)
            assert undone.current == question.id
            assert question.id not in undone.answers
            if not _later_answered(FORM, progress, question.id):
                assert undone.answers == progress.answers
                assert undone.trail == progress.trail
        progress = result
