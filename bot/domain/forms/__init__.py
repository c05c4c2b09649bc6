"""Outcome forms: the questions asked when a task is closed, as data files instead of code.

`model` holds the validated form (questions, labels, choices), `expr` the small expression language
of skip logic and answer checks, `loader` reads YAML/TOML text into a form with errors that name the
file and the question, and `engine` walks a volunteer through a form one question at a time. All of
it is pure: no IO, no Telegram, no storage.
"""

from bot.domain.forms.engine import (
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
    finish,
    restore,
    skip,
    start,
    step_number,
    summary,
    toggle,
)
from bot.domain.forms.expr import RESERVED_WORDS, Expr, ExpressionError, check, evaluate, parse
from bot.domain.forms.loader import fmt_of, parse_form
from bot.domain.forms.model import (
    Answer,
    ButtonLabels,
    Choice,
    Form,
    FormError,
    Labels,
    Question,
    QuestionType,
)

__all__ = [
    "RESERVED_WORDS",
    "Answer",
    "ButtonLabels",
    "Choice",
    "Expr",
    "ExpressionError",
    "Form",
    "FormError",
    "FormIncomplete",
    "Labels",
    "Progress",
    "Question",
    "QuestionType",
    "RejectCode",
    "Rejection",
    "answer",
    "answer_text",
    "back",
    "check",
    "current_question",
    "done",
    "edit",
    "evaluate",
    "finish",
    "fmt_of",
    "parse",
    "parse_form",
    "restore",
    "skip",
    "start",
    "step_number",
    "summary",
    "toggle",
]
