"""Answering a form, one question at a time: pure functions from a `Progress` to the next one.

`Progress` is the whole state of a half-answered form and is stored as JSON between messages.
Every step either returns a new `Progress` or a `Rejection` saying why the input was refused (the
old progress stays valid). Navigation:

- Normal mode: after answering question Q, the next question is the first one after Q (in form
  order) that is relevant and unanswered; when none is left after Q, the first relevant unanswered
  one anywhere (this only matters after edits); when none is left at all, the summary
  (`current` is None).
- `back` undoes the last answer in the trail and asks that question again (a multi question's
  earlier ticks are pre-set); in editing mode it returns to the summary without changes.
- `edit` from the summary asks one question again; after its answer the next question is the first
  relevant unanswered one in form order (newly relevant questions), else the summary.

After each answer, answers of questions that are no longer relevant are dropped (relevance is judged
over relevant answers only), and so are later answers that no longer pass their constraint: both are
asked again when they become relevant. Invariants: `current` is None or a relevant unanswered
question (in editing mode: the relevant question being edited); `trail` holds each answered question
once; the summary is reached only when every relevant question has an answer (None when skipped).
Skip logic never reads `today()` (the form loader refuses it), so navigation needs no date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.forms.expr import evaluate
from bot.domain.forms.model import Answer, Form, Labels, Question, QuestionType

__all__ = [
    "FormIncomplete",
    "Progress",
    "RejectCode",
    "Rejection",
    "answer",
    "answer_text",
    "back",
    "current_question",
    "done",
    "edit",
    "finish",
    "restore",
    "skip",
    "start",
    "step_number",
    "summary",
    "toggle",
]

_T = QuestionType
_CHOICE_TYPES = (_T.SINGLE, _T.MULTI, _T.YESNO)
_NUMBER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 18  # longer numbers are out of every range anyway; int() of huge text is slow
_FINNISH_DATE = re.compile(r"([0-9]{1,2})\.\s*([0-9]{1,2})(?:\.\s*([0-9]{2}|[0-9]{4})?)?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_NO_DAY = date(2000, 1, 1)  # skip logic cannot call today(); evaluate() still wants a date


class RejectCode(StrEnum):
    """Why an input was refused; the handlers say it in the user's language."""

    REQUIRED = "required"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    NOT_A_DATE = "not_a_date"
    NOT_A_CHOICE = "not_a_choice"
    USE_BUTTONS = "use_buttons"
    CONSTRAINT = "constraint"
    NOT_CURRENT = "not_current"  # no such question is being asked (a stale button, say)


class Rejection(BaseModel):
    """An input that was refused; nothing changed."""

    model_config = ConfigDict(frozen=True)

    code: RejectCode
    minimum: int | None = None  # out_of_range
    maximum: int | None = None  # out_of_range, too_long
    message: Labels | None = None  # constraint: the form's constraint_message


class Progress(BaseModel):
    """How far a form has been answered; serialise with `model_dump_json`, read with `restore`."""

    model_config = ConfigDict(frozen=True)

    answers: dict[str, Answer] = Field(default_factory=dict)
    trail: list[str] = Field(default_factory=list)  # question ids in the order answered
    current: str | None  # the question being asked; None = the summary
    ticks: list[str] = Field(default_factory=list)  # pending ticks of the current multi question
    editing: bool = False  # True after Edit from the summary


class FormIncomplete(ValueError):
    """A form cannot be finished: a relevant required question is unanswered or an answer no
    longer passes its checks."""

    def __init__(self, question: str, problem: str) -> None:
        self.question = question
        self.problem = problem
        super().__init__(f"question '{question}': {problem}")


# --- relevance ----------------------------------------------------------------------------------


def _is_relevant(question: Question, answers: Mapping[str, Answer]) -> bool:
    expr = question.relevant_expr
    return expr is None or evaluate(expr, answers, today=_NO_DAY)


def _settle(
    form: Form, answers: Mapping[str, Answer], today: date | None
) -> tuple[dict[str, Answer], list[Question]]:
    """Return the answers that count and the relevant questions, in form order.

    Relevance reads the kept answers only; with `today`, an answer whose constraint fails is
    dropped as well. Each question reads earlier ones only, so one pass in form order settles all.
    """
    kept: dict[str, Answer] = {}
    relevant: list[Question] = []
    for question in form.questions:
        if not _is_relevant(question, kept):
            continue
        relevant.append(question)
        if question.id not in answers:
            continue
        value = answers[question.id]
        expr = question.constraint_expr
        if (
            today is not None
            and value is not None
            and expr is not None
            and not evaluate(expr, kept, dot=value, today=today)
        ):
            continue
        kept[question.id] = value
    return kept, relevant


def _open(relevant: Iterable[Question], answers: Mapping[str, Answer]) -> list[Question]:
    return [question for question in relevant if question.id not in answers]


def _in_choice_order(question: Question, values: Iterable[str]) -> list[str]:
    wanted = set(values)
    return [value for value in question.choice_values if value in wanted]


def _question(form: Form, question_id: object) -> Question | None:
    if isinstance(question_id, str) and form.has(question_id):
        return form.question(question_id)
    return None


def _ids(questions: Iterable[Question]) -> set[str]:
    return {question.id for question in questions}


# --- values -------------------------------------------------------------------------------------


def _checked(
    question: Question, value: object, answers: Mapping[str, Answer], today: date | None
) -> Answer | Rejection:
    """Return the value as stored, or why it is refused; `today=None` skips the constraint."""
    kind = question.type
    if kind is _T.TEXT and isinstance(value, str):
        value = value.strip() or None
    if kind is _T.MULTI and isinstance(value, list | tuple) and not value and question.required:
        return Rejection(code=RejectCode.REQUIRED)
    if value is None:
        return Rejection(code=RejectCode.REQUIRED) if question.required else None
    typed: Answer
    if kind is _T.SINGLE:
        if not isinstance(value, str) or value not in question.choice_values:
            return Rejection(code=RejectCode.NOT_A_CHOICE)
        typed = value
    elif kind is _T.MULTI:
        if not isinstance(value, list | tuple) or not all(
            isinstance(item, str) and item in question.choice_values for item in value
        ):
            return Rejection(code=RejectCode.NOT_A_CHOICE)
        typed = _in_choice_order(question, value)
    elif kind is _T.YESNO:
        if not isinstance(value, bool):
            return Rejection(code=RejectCode.NOT_A_CHOICE)
        typed = value
    elif kind in (_T.INTEGER, _T.SCALE):
        if not isinstance(value, int) or isinstance(value, bool):
            return Rejection(code=RejectCode.NOT_A_NUMBER)
        assert question.min is not None and question.max is not None
        if not question.min <= value <= question.max:
            return Rejection(
                code=RejectCode.OUT_OF_RANGE, minimum=question.min, maximum=question.max
            )
        typed = int(value)
    elif kind is _T.TEXT:
        if not isinstance(value, str):
            return Rejection(code=RejectCode.NOT_A_CHOICE)
        assert question.max_length is not None
        if len(value) > question.max_length:
            return Rejection(code=RejectCode.TOO_LONG, maximum=question.max_length)
        typed = value
    else:  # date
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            return Rejection(code=RejectCode.NOT_A_DATE)
        typed = value
    expr = question.constraint_expr
    if today is None or expr is None:
        return typed
    if not evaluate(expr, answers, dot=typed, today=today):
        return Rejection(code=RejectCode.CONSTRAINT, message=question.constraint_message)
    return typed


def _parse_date(text: str, today: date) -> date | None:
    text = text.strip()
    if match := _FINNISH_DATE.fullmatch(text):
        day, month, year_text = match.groups()
        if year_text is None:
            year = today.year
        elif len(year_text) == 2:
            year = 2000 + int(year_text)
        else:
            year = int(year_text)
    elif match := _ISO_DATE.fullmatch(text):
        year_text, month, day = match.groups()
        year = int(year_text)
    else:
        return None
    try:
        return date(year, int(month), int(day))
    except ValueError:
        return None


# --- steps --------------------------------------------------------------------------------------


def start(form: Form) -> Progress:
    """Begin a form: ask the first relevant question."""
    _, relevant = _settle(form, {}, None)
    return Progress(current=relevant[0].id if relevant else None)


def current_question(form: Form, progress: Progress) -> Question | None:
    """Return the question being asked, or None at the summary."""
    return _question(form, progress.current)


def answer(form: Form, progress: Progress, value: Answer, *, today: date) -> Progress | Rejection:
    """Answer the current question with a typed value (see the module docstring for what next)."""
    question = current_question(form, progress)
    if question is None:
        return Rejection(code=RejectCode.NOT_CURRENT)
    checked = _checked(question, value, progress.answers, today)
    if isinstance(checked, Rejection):
        return checked
    answers, relevant = _settle(form, {**progress.answers, question.id: checked}, today)
    trail = [qid for qid in progress.trail if qid in answers]
    if question.id in answers and question.id not in trail:
        trail.append(question.id)
    waiting = _open(relevant, answers)
    if progress.editing:
        following = waiting
    else:
        position = form.index(question.id)
        following = [q for q in waiting if form.index(q.id) > position] or waiting
    return Progress(
        answers=answers,
        trail=trail,
        current=following[0].id if following else None,
    )


def answer_text(form: Form, progress: Progress, text: str, *, today: date) -> Progress | Rejection:
    """Answer the current question with typed text (numbers, text, dates)."""
    question = current_question(form, progress)
    if question is None:
        return Rejection(code=RejectCode.NOT_CURRENT)
    kind = question.type
    if kind in (_T.SINGLE, _T.MULTI, _T.YESNO):
        return Rejection(code=RejectCode.USE_BUTTONS)
    if kind in (_T.INTEGER, _T.SCALE):
        typed = text.strip()
        if not _NUMBER.fullmatch(typed):
            return Rejection(code=RejectCode.NOT_A_NUMBER)
        if len(typed.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
            return Rejection(
                code=RejectCode.OUT_OF_RANGE, minimum=question.min, maximum=question.max
            )
        return answer(form, progress, int(typed), today=today)
    if kind is _T.DATE:
        day = _parse_date(text, today)
        if day is None:
            return Rejection(code=RejectCode.NOT_A_DATE)
        return answer(form, progress, day, today=today)
    stripped = text.strip()  # text: empty means skip when optional
    if not stripped and not question.required:
        return answer(form, progress, None, today=today)
    return answer(form, progress, stripped, today=today)


def skip(form: Form, progress: Progress, *, today: date) -> Progress | Rejection:
    """Skip the current (optional) question: its answer is None."""
    question = current_question(form, progress)
    if question is None:
        return Rejection(code=RejectCode.NOT_CURRENT)
    if question.required:
        return Rejection(code=RejectCode.REQUIRED)
    return answer(form, progress, None, today=today)


def toggle(form: Form, progress: Progress, value: str) -> Progress | Rejection:
    """Tick or untick a choice of the current multi question (answered with `done`)."""
    question = current_question(form, progress)
    if question is None or question.type is not _T.MULTI:
        return Rejection(code=RejectCode.NOT_CURRENT)
    if value not in question.choice_values:
        return Rejection(code=RejectCode.NOT_A_CHOICE)
    ticks = set(progress.ticks) ^ {value}
    return progress.model_copy(update={"ticks": _in_choice_order(question, ticks)})


def done(form: Form, progress: Progress, *, today: date) -> Progress | Rejection:
    """Answer the current multi question with its ticks."""
    question = current_question(form, progress)
    if question is None or question.type is not _T.MULTI:
        return Rejection(code=RejectCode.NOT_CURRENT)
    return answer(form, progress, _in_choice_order(question, progress.ticks), today=today)


def back(form: Form, progress: Progress) -> Progress:
    """Undo the last answer (or leave editing for the summary); unchanged at the first question."""
    if progress.editing:
        return Progress(answers=progress.answers, trail=progress.trail, current=None)
    if not progress.trail:
        return progress
    last = progress.trail[-1]
    previous = progress.answers.get(last)
    remaining = {qid: value for qid, value in progress.answers.items() if qid != last}
    answers, relevant = _settle(form, remaining, None)
    trail = [qid for qid in progress.trail[:-1] if qid in answers]
    question = _question(form, last)
    if question is None or last not in _ids(relevant):  # a progress that was not settled
        waiting = _open(relevant, answers)
        return Progress(answers=answers, trail=trail, current=waiting[0].id if waiting else None)
    ticks = list(previous) if question.type is _T.MULTI and isinstance(previous, list) else []
    return Progress(answers=answers, trail=trail, current=last, ticks=ticks)


def edit(form: Form, progress: Progress, question_id: str) -> Progress | Rejection:
    """From the summary, ask a relevant question again."""
    if progress.current is not None or progress.editing:
        return Rejection(code=RejectCode.NOT_CURRENT)
    question = _question(form, question_id)
    _, relevant = _settle(form, progress.answers, None)
    if question is None or question.id not in _ids(relevant):
        return Rejection(code=RejectCode.NOT_CURRENT)
    previous = progress.answers.get(question.id)
    ticks = list(previous) if question.type is _T.MULTI and isinstance(previous, list) else []
    return progress.model_copy(update={"current": question.id, "editing": True, "ticks": ticks})


def summary(form: Form, progress: Progress) -> list[tuple[Question, Answer]]:
    """Return the relevant answered questions with their answers, in form order."""
    answers, relevant = _settle(form, progress.answers, None)
    return [(question, answers[question.id]) for question in relevant if question.id in answers]


def finish(form: Form, progress: Progress, *, today: date) -> dict[str, Answer]:
    """Return the final answers: every relevant question, in form order, skipped ones as None.

    Raise `FormIncomplete` when a relevant required question is unanswered or an answer no longer
    passes its checks (the form changed, or a constraint reads the date).
    """
    answers, relevant = _settle(form, progress.answers, None)
    result: dict[str, Answer] = {}
    for question in relevant:
        if question.id not in answers:
            if question.required:
                raise FormIncomplete(question.id, "not answered")
            result[question.id] = None
            continue
        checked = _checked(question, answers[question.id], result, today)
        if isinstance(checked, Rejection):
            raise FormIncomplete(question.id, f"the answer is refused ({checked.code})")
        result[question.id] = checked
    return result


def step_number(form: Form, progress: Progress) -> int:
    """Return the 1-based number of the current question (its place in the trail when editing)."""
    if progress.editing and progress.current in progress.trail:
        return progress.trail.index(progress.current) + 1
    return len(progress.trail) + 1


# --- restoring ----------------------------------------------------------------------------------


def _stored(question: Question, value: object) -> Answer | Rejection:
    if question.type is _T.DATE and isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return Rejection(code=RejectCode.NOT_A_DATE)
    return _checked(question, value, {}, None)


def _read(data: object) -> dict[str, Any] | None:
    if isinstance(data, Progress):
        return data.model_dump()
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None
    return data if isinstance(data, dict) else None


def restore(form: Form, data: str | dict[str, Any]) -> Progress:
    """Read a stored progress back, fitting it to the form as it is now; never raises.

    Answers of unknown questions, and values that no longer fit (wrong type, unknown choice, out of
    range), are dropped and will be asked again; `current` is recomputed when it is no longer a
    relevant unanswered question. Junk gives `start(form)`.
    """
    try:
        raw = _read(data)
        if raw is None:
            return start(form)
        return _restore(form, raw)
    except (ValidationError, ValueError, TypeError, RecursionError):
        return start(form)


def _restore(form: Form, raw: dict[str, Any]) -> Progress:
    stored = raw.get("answers")
    fitting: dict[str, Answer] = {}
    if isinstance(stored, dict):
        for question_id, value in stored.items():
            question = _question(form, question_id)
            if question is None:
                continue
            typed = _stored(question, value)
            if not isinstance(typed, Rejection):
                fitting[question_id] = typed
    answers, relevant = _settle(form, fitting, None)
    trail: list[str] = []
    stored_trail = raw.get("trail")
    for question_id in stored_trail if isinstance(stored_trail, list) else []:
        if isinstance(question_id, str) and question_id in answers and question_id not in trail:
            trail.append(question_id)
    trail += [qid for qid in answers if qid not in trail]  # answered but missing: form order
    waiting = [question.id for question in _open(relevant, answers)]
    current = raw.get("current")
    current = current if isinstance(current, str) else None
    editing = raw.get("editing") is True
    if editing and (current not in answers or waiting):
        editing = False
        current = None
    if not editing and not (current in waiting or (current is None and not waiting)):
        current = waiting[0] if waiting else None
    question = _question(form, current)
    stored_ticks = raw.get("ticks")
    ticks: list[str] = []
    if question is not None and question.type is _T.MULTI and isinstance(stored_ticks, list):
        ticks = _in_choice_order(question, (t for t in stored_ticks if isinstance(t, str)))
    return Progress(answers=answers, trail=trail, current=current, ticks=ticks, editing=editing)
