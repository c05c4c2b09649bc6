"""The expression language of forms: skip logic (`relevant`) and answer checks (`constraint`).

Form authors write small expressions such as `contact = 'met'`, `'conversation_help' in needs`
or `. <= 20 and . >= amount`. They are read by a hand-written tokenizer and recursive-descent
parser into a small tree of frozen dataclasses, checked once against the form when it is loaded
(`check`: unknown or later questions, typos in choice values, misuse of `.` and `today()`), and
evaluated by walking the tree. Nothing is ever handed to `eval`.

Evaluation is total: whatever the answers hold, `evaluate` returns a bool and never raises. A type
mismatch gives false (or null inside arithmetic); `=` and `!=` compare values of the same kind only
(`1 = true` is false); ordering needs two numbers, two strings or two dates. `and`, `or` and `not`
count exactly `true` as true, so `not x` is true when `x` is unanswered. `x in l` tests membership
in a list or a substring of a string and is false for null; `x not in null` is true (null is empty).
Dates plus or minus a number of days are dates; the difference of two dates is a number of days.

Limits keep hostile or careless input cheap: at most `MAX_LENGTH` characters and `MAX_DEPTH` levels
of nesting; beyond them `ExpressionError` is raised, never `RecursionError`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.domain.forms.model import Answer, Question

__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RESERVED_WORDS",
    "Arith",
    "Call",
    "Compare",
    "Const",
    "Dot",
    "Expr",
    "ExpressionError",
    "Logic",
    "Name",
    "Negate",
    "Not",
    "check",
    "evaluate",
    "names",
    "parse",
]

MAX_LENGTH = 500
MAX_DEPTH = 32
KEYWORDS: frozenset[str] = frozenset({"and", "or", "not", "in", "true", "false", "null"})
FUNCTIONS: Mapping[str, int] = {"count": 1, "len": 1, "answered": 1, "today": 0}  # name: arity
RESERVED_WORDS: frozenset[str] = KEYWORDS | frozenset(FUNCTIONS)

_CHOICE_TYPES = ("single", "multi")


class ExpressionError(ValueError):
    """An expression cannot be read or does not fit its form; the message says why, briefly."""


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: an integer, a string, true, false or null."""

    value: int | str | bool | None


@dataclass(frozen=True, slots=True)
class Dot:
    """`.`: the answer being checked (constraints only)."""


@dataclass(frozen=True, slots=True)
class Name:
    """The answer of the question with this id (null when unanswered or skipped)."""

    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A call of one of `FUNCTIONS`."""

    function: str
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    """`not operand`."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Logic:
    """`a and b and …` or `a or b or …` (kept flat: a long chain is not a deep tree)."""

    op: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    """`left op right` with op one of = != < <= > >= in, not in."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Arith:
    """`first ± term ± term …` (flat, like `Logic`)."""

    first: Expr
    rest: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Negate:
    """`-operand`."""

    operand: Expr


Expr = Const | Dot | Name | Call | Not | Logic | Compare | Arith | Negate


# --- tokenizer ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "int", "str", "name", "kw", "op", "end"
    text: str
    column: int  # 1-based


_SPACE = frozenset(" \t\r\n")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_TWO_CHAR_OPS = ("!=", "<=", ">=")
_ONE_CHAR_OPS = frozenset("=<>+-(),.")
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        column = i + 1
        if char in _SPACE:
            i += 1
        elif char in _DIGITS:
            j = i
            while j < n and text[j] in _DIGITS:
                j += 1
            tokens.append(_Token("int", text[i:j], column))
            i = j
        elif char in _NAME_START:
            j = i
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            word = text[i:j]
            tokens.append(_Token("kw" if word in KEYWORDS else "name", word, column))
            i = j
        elif char in "'\"":
            end = text.find(char, i + 1)
            if end < 0:
                raise ExpressionError(f"unterminated string starting at column {column}")
            tokens.append(_Token("str", text[i + 1 : end], column))
            i = end + 1
        elif text.startswith("==", i):
            raise ExpressionError(f"use '=' instead of '==' at column {column}")
        elif text.startswith(_TWO_CHAR_OPS, i):
            tokens.append(_Token("op", text[i : i + 2], column))
            i += 2
        elif char in _ONE_CHAR_OPS:
            tokens.append(_Token("op", char, column))
            i += 1
        else:
            shown = char if char.isprintable() else repr(char)[1:-1]
            raise ExpressionError(f"unexpected character '{shown}' at column {column}")
    tokens.append(_Token("end", "", n + 1))
    return tokens


# --- parser -------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the grammar; `_depth` bounds the recursion."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._pos = 0
        self._depth = 0

    # helpers
    @property
    def _peek(self) -> _Token:
        return self._tokens[self._pos]

    def _next(self) -> _Token:
        token = self._tokens[self._pos]
        if token.kind != "end":
            self._pos += 1
        return token

    def _is(self, kind: str, text: str) -> bool:
        token = self._peek
        return token.kind == kind and token.text == text

    def _expect_op(self, text: str) -> None:
        token = self._peek
        if token.kind == "op" and token.text == text:
            self._pos += 1
            return
        raise ExpressionError(f"expected '{text}' at column {token.column}")

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ExpressionError(f"nested too deeply (more than {MAX_DEPTH} levels)")

    def _leave(self) -> None:
        self._depth -= 1

    @staticmethod
    def _unexpected(token: _Token) -> ExpressionError:
        if token.kind == "end":
            return ExpressionError("unexpected end of expression")
        shown = repr(token.text) if token.kind != "str" else "a string"
        return ExpressionError(f"unexpected {shown} at column {token.column}")

    # grammar
    def parse(self) -> Expr:
        expr = self._or()
        if self._peek.kind != "end":
            raise self._unexpected(self._peek)
        return expr

    def _or(self) -> Expr:
        operands = [self._and()]
        while self._is("kw", "or"):
            self._next()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Logic("or", tuple(operands))

    def _and(self) -> Expr:
        operands = [self._not()]
        while self._is("kw", "and"):
            self._next()
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else Logic("and", tuple(operands))

    def _not(self) -> Expr:
        if not self._is("kw", "not"):
            return self._cmp()
        self._next()
        self._enter()
        operand = self._not()
        self._leave()
        return Not(operand)

    def _cmp(self) -> Expr:
        left = self._arith()
        token = self._peek
        if token.kind == "op" and token.text in _COMPARISONS:
            op = token.text
            self._next()
        elif token.kind == "kw" and token.text == "in":
            op = "in"
            self._next()
        elif token.kind == "kw" and token.text == "not":
            self._next()
            if not self._is("kw", "in"):
                raise ExpressionError(f"expected 'in' after 'not' at column {self._peek.column}")
            self._next()
            op = "not in"
        else:
            return left
        right = self._arith()
        follow = self._peek
        if (follow.kind == "op" and follow.text in _COMPARISONS) or (
            follow.kind == "kw" and follow.text == "in"
        ):
            raise ExpressionError(f"a second comparison at column {follow.column}: join with 'and'")
        return Compare(op, left, right)

    def _arith(self) -> Expr:
        first = self._atom()
        rest: list[tuple[str, Expr]] = []
        while self._peek.kind == "op" and self._peek.text in "+-":
            op = self._next().text
            rest.append((op, self._atom()))
        return Arith(first, tuple(rest)) if rest else first

    def _atom(self) -> Expr:
        token = self._next()
        if token.kind == "int":
            return Const(int(token.text))
        if token.kind == "str":
            return Const(token.text)
        if token.kind == "kw" and token.text in ("true", "false", "null"):
            return Const({"true": True, "false": False, "null": None}[token.text])
        if token.kind == "name":
            if self._is("op", "("):
                return self._call(token)
            if token.text in FUNCTIONS:
                raise ExpressionError(f"expected '(' after '{token.text}' at column {token.column}")
            return Name(token.text)
        if token.kind == "op" and token.text == ".":
            return Dot()
        if token.kind == "op" and token.text == "(":
            self._enter()
            inner = self._or()
            self._expect_op(")")
            self._leave()
            return inner
        if token.kind == "op" and token.text == "-":
            self._enter()
            operand = self._atom()
            self._leave()
            return Negate(operand)
        raise self._unexpected(token)

    def _call(self, name: _Token) -> Expr:
        self._expect_op("(")
        self._enter()
        args: list[Expr] = []
        if not self._is("op", ")"):
            args.append(self._or())
            while self._is("op", ","):
                self._next()
                args.append(self._or())
        self._expect_op(")")
        self._leave()
        return Call(name.text, tuple(args))


def parse(text: str) -> Expr:
    """Read an expression into a tree; raise `ExpressionError` saying what is wrong and where."""
    if not isinstance(text, str):
        raise ExpressionError("an expression is text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(text).parse()


# --- static checks ------------------------------------------------------------------------------


def _children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Call(args=args):
            return args
        case Not(operand=operand) | Negate(operand=operand):
            return (operand,)
        case Logic(operands=operands):
            return operands
        case Compare(left=left, right=right):
            return (left, right)
        case Arith(first=first, rest=rest):
            return (first, *(term for _, term in rest))
    return ()


def names(expr: Expr) -> frozenset[str]:
    """Return the question ids an expression reads."""
    found: set[str] = set()
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            found.add(node.name)
        stack.extend(_children(node))
    return frozenset(found)


def check(
    expr: Expr,
    *,
    known: Mapping[str, Question],
    allow_dot: bool,
    later: Collection[str] = (),
    this: Question | None = None,
    allow_today: bool = True,
) -> None:
    """Check an expression against its form; raise `ExpressionError` naming the first problem.

    `known` are the questions it may read (the earlier ones); `later` and `this` (the question
    the expression belongs to) only sharpen the messages. `allow_dot` is true for a constraint,
    `allow_today` false for skip logic, which is judged without a date.
    """

    def question_of(node: Expr) -> Question | None:
        if isinstance(node, Name):
            return known.get(node.name)
        if isinstance(node, Dot):
            return this
        return None

    def check_choice(subject: Expr, literal: Expr, op: str) -> None:
        question = question_of(subject)
        if question is None or question.type not in _CHOICE_TYPES:
            return
        if not isinstance(literal, Const) or not isinstance(literal.value, str):
            return
        label = "this question" if isinstance(subject, Dot) else f"'{question.id}'"
        if literal.value not in {choice.value for choice in question.choices}:
            raise ExpressionError(f"'{literal.value}' is not a choice of {label}")
        if question.type == "multi" and op in ("=", "!="):
            written = "." if isinstance(subject, Dot) else question.id
            raise ExpressionError(
                f"{label} is a multi question: use \"'{literal.value}' in {written}\", not {op}"
            )

    def visit(node: Expr) -> None:
        match node:
            case Name(name=name):
                if name in known:
                    return
                if this is not None and name == this.id:
                    raise ExpressionError(
                        f"use '.' for the answer of this question, not '{name}'"
                        if allow_dot
                        else f"'{name}' is this question; only earlier questions can be used"
                    )
                if name in later:
                    raise ExpressionError(f"'{name}' comes after this question")
                raise ExpressionError(f"unknown question '{name}'")
            case Dot():
                if not allow_dot:
                    raise ExpressionError("'.' can only be used in a constraint")
            case Call(function=function, args=args):
                if function not in FUNCTIONS:
                    raise ExpressionError(f"unknown function '{function}'")
                arity = FUNCTIONS[function]
                if len(args) != arity:
                    wanted = "no arguments" if arity == 0 else f"{arity} argument"
                    raise ExpressionError(f"{function}() takes {wanted}, not {len(args)}")
                if function == "today" and not allow_today:
                    raise ExpressionError("today() can only be used in a constraint")
            case Compare(op=op, left=left, right=right):
                if op in ("=", "!="):
                    check_choice(left, right, op)
                    check_choice(right, left, op)
                elif op in ("in", "not in"):
                    check_choice(right, left, op)
        for child in _children(node):
            visit(child)

    visit(expr)


# --- evaluation ---------------------------------------------------------------------------------


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if type(value) is date:  # a datetime is no date here: they cannot be compared
        return "date"
    return "other"


def _same(left: object, right: object) -> bool:
    kind = _kind(left)
    if kind != _kind(right) or kind == "other":
        return False
    if kind == "list":
        assert isinstance(left, list | tuple) and isinstance(right, list | tuple)
        return len(left) == len(right) and all(map(_same, left, right))
    try:
        return bool(left == right)
    except Exception:  # a str or int subclass with a hostile __eq__
        return False


_ORDER: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _contains(item: object, collection: object) -> bool | None:
    """Membership; None when the question does not make sense (a type mismatch)."""
    kind = _kind(collection)
    if kind == "null":
        return False
    if kind == "list":
        assert isinstance(collection, list | tuple)
        return any(_same(item, element) for element in collection)
    if kind == "str" and _kind(item) == "str":
        assert isinstance(item, str) and isinstance(collection, str)
        return item in collection
    return None


def _compare(op: str, left: object, right: object) -> bool:
    if op == "=":
        return _same(left, right)
    if op == "!=":
        return not _same(left, right)
    if op in ("in", "not in"):
        found = _contains(left, right)
        if found is None:
            return False
        return found if op == "in" else not found
    kind = _kind(left)
    if kind != _kind(right) or kind not in ("int", "str", "date"):
        return False
    try:
        return _ORDER[op](left, right)
    except Exception:  # subclasses with odd comparisons: false, never a crash
        return False


def _plus_minus(op: str, left: object, right: object) -> object:
    kinds = (_kind(left), _kind(right))
    try:
        if kinds == ("int", "int"):
            assert isinstance(left, int) and isinstance(right, int)
            return left + right if op == "+" else left - right
        if kinds == ("date", "int"):
            assert isinstance(left, date) and isinstance(right, int)
            days = timedelta(days=right)
            return left + days if op == "+" else left - days
        if kinds == ("int", "date") and op == "+":
            assert isinstance(left, int) and isinstance(right, date)
            return right + timedelta(days=left)
        if kinds == ("date", "date") and op == "-":
            assert isinstance(left, date) and isinstance(right, date)
            return (left - right).days
    except (OverflowError, ValueError):  # beyond the calendar
        return None
    return None


class _Evaluator:
    def __init__(self, answers: Mapping[str, Answer], dot: Answer, today: date) -> None:
        self._answers = answers
        self._dot = dot
        self._today = today

    def value(self, node: Expr) -> object:
        match node:
            case Const(value=value):
                return value
            case Dot():
                return self._dot
            case Name(name=name):
                try:
                    return self._answers.get(name)
                except Exception:  # a strange mapping reads as unanswered
                    return None
            case Call(function=function, args=args):
                return self._call(function, args)
            case Not(operand=operand):
                return self.value(operand) is not True
            case Logic(op="and", operands=operands):
                return all(self.value(operand) is True for operand in operands)
            case Logic(operands=operands):
                return any(self.value(operand) is True for operand in operands)
            case Compare(op=op, left=left, right=right):
                return _compare(op, self.value(left), self.value(right))
            case Arith(first=first, rest=rest):
                result = self.value(first)
                for op, term in rest:
                    result = _plus_minus(op, result, self.value(term))
                return result
            case Negate(operand=operand):
                value = self.value(operand)
                return -value if isinstance(value, int) and _kind(value) == "int" else None
        return None

    def _call(self, function: str, args: tuple[Expr, ...]) -> object:
        if function == "today" and not args:
            return self._today
        if len(args) != 1:
            return None
        value = self.value(args[0])
        if function == "count":
            return len(value) if isinstance(value, list | tuple) else 0
        if function == "len":
            return len(value) if isinstance(value, str) else 0
        if function == "answered":
            return value is not None and not (isinstance(value, list | tuple) and not value)
        return None


def evaluate(expr: Expr, answers: Mapping[str, Answer], *, dot: Answer = None, today: date) -> bool:
    """Return whether the expression is exactly true for these answers; never raises."""
    return _Evaluator(answers, dot, today).value(expr) is True
