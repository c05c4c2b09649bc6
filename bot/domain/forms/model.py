"""Outcome forms: the questions a volunteer answers when closing a task, as validated data.

A form is authored by an admin as a YAML or TOML file (see `loader`) and validated here, strictly:
unknown keys are errors, and so are keys that belong to another question type (`choices` on an
integer, `max_length` on a yes/no question). Labels come in all three languages. Skip logic
(`relevant`) and answer checks (`constraint`) are parsed once, when the form is built, and checked
against the questions before them; the trees are kept on the question (`relevant_expr`,
`constraint_expr`), so answering never parses anything.

A problem found while building a form is raised as a `QuestionProblem` (naming the question), which
the loader turns into a `FormError` with the source: `home_visit.yaml: question 'needs': relevant:
unknown question 'neds'`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.domain.forms.expr import RESERVED_WORDS, Expr, ExpressionError, check, parse
from bot.domain.tasks import TaskKind

__all__ = [
    "ID_PATTERN",
    "Answer",
    "ButtonLabels",
    "Choice",
    "Form",
    "FormError",
    "Labels",
    "Question",
    "QuestionProblem",
    "QuestionType",
]

ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
MAX_CHOICES = 12
MAX_TEXT_LENGTH = 1000

# What an answer holds; see the engine. A skipped optional question is answered with None.
Answer = str | list[str] | bool | int | date | None

_Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
_ButtonText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class FormError(ValueError):
    """A form file is broken; `str()` names the file, the question and the problem."""

    def __init__(self, source: str, question: str | None, problem: str) -> None:
        self.source = source
        self.question = question
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.question is None:
            return f"{self.source}: {self.problem}"
        return f"{self.source}: question '{self.question}': {self.problem}"


class QuestionProblem(ValueError):
    """A problem of one question found while building a form (the loader adds the source)."""

    def __init__(self, question: str, problem: str) -> None:
        self.question = question
        self.problem = problem
        super().__init__(f"question '{question}': {problem}")


class QuestionType(StrEnum):
    """How a question is answered."""

    SINGLE = "single"  # one of the choices (buttons)
    MULTI = "multi"  # any of the choices, ticked, then Done
    YESNO = "yesno"
    INTEGER = "integer"  # typed, between min and max
    SCALE = "scale"  # min..max as buttons (1-5, 0-10, …)
    TEXT = "text"  # typed, at most max_length characters
    DATE = "date"  # typed the Finnish way (5.3., 5.3.2026) or ISO


class Labels(BaseModel):
    """A text in Finnish, Swedish and English."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fi: _Text
    sv: _Text
    en: _Text

    def get(self, language: str) -> str:
        """Return the text in `language`, or in English for a language the form lacks."""
        return {"fi": self.fi, "sv": self.sv}.get(language, self.en)


class ButtonLabels(Labels):
    """Labels short enough for a button."""

    fi: _ButtonText
    sv: _ButtonText
    en: _ButtonText


class Choice(BaseModel):
    """One answer of a single or multi question."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: _Id
    label: ButtonLabels


# Keys that only some question types take.
_ONLY_FOR: dict[str, frozenset[QuestionType]] = {
    "choices": frozenset({QuestionType.SINGLE, QuestionType.MULTI}),
    "min": frozenset({QuestionType.INTEGER, QuestionType.SCALE}),
    "max": frozenset({QuestionType.INTEGER, QuestionType.SCALE}),
    "max_length": frozenset({QuestionType.TEXT}),
}
_DEFAULTS: dict[QuestionType, dict[str, int]] = {
    QuestionType.SCALE: {"min": 1, "max": 5},
    QuestionType.TEXT: {"max_length": 500},
}


class Question(BaseModel):
    """One question; the type-specific fields are None (or empty) for the other types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: _Id
    type: QuestionType
    label: Labels
    hint: Labels | None = None
    required: bool = True
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Labels | None = None
    choices: list[Choice] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    max_length: int | None = None

    _relevant_expr: Expr | None = PrivateAttr(default=None)
    _constraint_expr: Expr | None = PrivateAttr(default=None)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_WORDS:
            raise ValueError(f"'{value}' is a reserved word of the expression language")
        return value

    @model_validator(mode="before")
    @classmethod
    def _keys_of_the_type(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            kind = QuestionType(data.get("type"))
        except ValueError:
            return data  # the field validation names the bad type
        for key, types in _ONLY_FOR.items():
            # an empty value (as `model_dump()` writes for every question) is no key of another type
            if data.get(key) not in (None, []) and kind not in types:
                raise ValueError(f"'{key}' is not used by {kind} questions")
        return {**_DEFAULTS.get(kind, {}), **data}

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type in (QuestionType.SINGLE, QuestionType.MULTI):
            if not 2 <= len(self.choices) <= MAX_CHOICES:
                raise ValueError(f"{self.type} questions need 2 to {MAX_CHOICES} choices")
            seen: set[str] = set()
            for choice in self.choices:
                if choice.value in seen:
                    raise ValueError(f"choice '{choice.value}' is listed twice")
                seen.add(choice.value)
        if self.type is QuestionType.INTEGER:
            if self.min is None or self.max is None:
                raise ValueError("integer questions need 'min' and 'max'")
            if self.min > self.max:
                raise ValueError("'min' is greater than 'max'")
        if self.type is QuestionType.SCALE:
            if self.min not in (0, 1):
                raise ValueError("a scale starts at 0 or 1")
            if self.max not in (5, 10):
                raise ValueError("a scale ends at 5 or 10")
        if self.type is QuestionType.TEXT and not (
            self.max_length is not None and 1 <= self.max_length <= MAX_TEXT_LENGTH
        ):
            raise ValueError(f"'max_length' must be between 1 and {MAX_TEXT_LENGTH}")
        if self.constraint is not None and self.constraint_message is None:
            raise ValueError("constraint_message is required with a constraint")
        if self.constraint is None and self.constraint_message is not None:
            raise ValueError("constraint_message is given without a constraint")
        self._relevant_expr = self._parsed("relevant", self.relevant)
        self._constraint_expr = self._parsed("constraint", self.constraint)
        return self

    @staticmethod
    def _parsed(field: str, text: str | None) -> Expr | None:
        if text is None:
            return None
        try:
            return parse(text)
        except ExpressionError as error:
            raise ValueError(f"{field}: {error}") from None

    @property
    def relevant_expr(self) -> Expr | None:
        """The parsed skip logic, or None when the question is always asked."""
        return self._relevant_expr

    @property
    def constraint_expr(self) -> Expr | None:
        """The parsed answer check, or None."""
        return self._constraint_expr

    @property
    def choice_values(self) -> list[str]:
        """The values of the choices, in form order (empty for other types)."""
        return [choice.value for choice in self.choices]


class Form(BaseModel):
    """An outcome form: which task kinds it closes and its questions, in the order asked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: _Id
    version: int = Field(ge=1)
    task_kinds: list[TaskKind] = Field(min_length=1)
    title: Labels
    questions: list[Question] = Field(min_length=1)

    _index: dict[str, int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _coherent(self) -> Form:
        kinds: set[TaskKind] = set()
        for kind in self.task_kinds:
            if kind in kinds:
                raise ValueError(f"task_kinds: '{kind}' is listed twice")
            kinds.add(kind)
        index: dict[str, int] = {}
        for position, question in enumerate(self.questions):
            if question.id in index:
                raise QuestionProblem(question.id, "another question has the same id")
            index[question.id] = position
        for position, question in enumerate(self.questions):
            earlier = {q.id: q for q in self.questions[:position]}
            later = frozenset(q.id for q in self.questions[position + 1 :])
            try:
                if question.relevant_expr is not None:
                    where = "relevant"
                    check(
                        question.relevant_expr,
                        known=earlier,
                        allow_dot=False,
                        later=later,
                        this=question,
                        allow_today=False,
                    )
                if question.constraint_expr is not None:
                    where = "constraint"
                    check(
                        question.constraint_expr,
                        known=earlier,
                        allow_dot=True,
                        later=later,
                        this=question,
                    )
            except ExpressionError as error:
                raise QuestionProblem(question.id, f"{where}: {error}") from None
        self._index = index
        return self

    def question(self, question_id: str) -> Question:
        """Return the question with this id; raise `KeyError` for an unknown one."""
        return self.questions[self._index[question_id]]

    def index(self, question_id: str) -> int:
        """Return the 0-based position of a question; raise `KeyError` for an unknown one."""
        return self._index[question_id]

    def has(self, question_id: object) -> bool:
        """Return whether the form has a question with this id."""
        return isinstance(question_id, str) and question_id in self._index
