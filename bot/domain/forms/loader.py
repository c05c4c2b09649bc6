"""Reading a form from the text of a YAML or TOML file, with errors a form author can act on.

The loader is pure: it takes text and the name to blame (`source`), never a path. Every problem is
a `FormError` that names the source and, when it can, the question: `home_visit.yaml: question
'needs': choices.2.label.sv: Field required`. Locations inside a question are pydantic's (0-based
list positions).

YAML is read with a safe loader (no Python objects) that differs from `yaml.safe_load` in two
ways that protect authors: only `true`/`false` are booleans (YAML 1.2), so a label `en: No` stays
the text "No" instead of turning into false; and a key repeated in one mapping is an error instead
of the last one silently winning.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from bot.domain.forms.model import Form, FormError, QuestionProblem

__all__ = ["fmt_of", "parse_form"]

Format = Literal["yaml", "toml"]
_SUFFIXES: dict[str, Format] = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


class _Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` with YAML 1.2 booleans and no repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key that appears twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


# Drop the YAML 1.1 booleans (yes/no/on/off…) and resolve only true/false.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def fmt_of(filename: str) -> Format:
    """Return the format of a form file from its name (.yaml, .yml or .toml)."""
    dot = filename.rfind(".")
    suffix = filename[dot:].lower() if dot >= 0 else ""
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise FormError(
            filename, None, "not a form file: the name must end in .yaml, .yml or .toml"
        ) from None


def _read_yaml(text: str, source: str) -> object:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "broken"
        raise FormError(source, None, f"not valid YAML: {problem}{where}") from None
    except yaml.YAMLError as error:
        raise FormError(source, None, f"not valid YAML: {error}") from None
    finally:
        loader.dispose()


def _read_toml(text: str, source: str) -> object:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FormError(source, None, f"not valid TOML: {error}") from None


def _question_id(data: dict[str, Any], position: int) -> str | None:
    questions = data.get("questions")
    if not isinstance(questions, list) or not 0 <= position < len(questions):
        return None
    question = questions[position]
    if isinstance(question, dict) and isinstance(question.get("id"), str):
        return question["id"]
    return None


def _form_error(error: ValidationError, data: dict[str, Any], source: str) -> FormError:
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, QuestionProblem):
        return FormError(source, cause.question, cause.problem)
    if isinstance(cause, ValueError):
        problem = str(cause)
    elif first["type"] == "extra_forbidden":
        problem = "unknown key"
    else:
        problem = first["msg"]
    location = tuple(first["loc"])
    question = None
    if len(location) >= 2 and location[0] == "questions" and isinstance(location[1], int):
        question = _question_id(data, location[1])
        if question is not None:
            location = location[2:]
    where = ".".join(str(part) for part in location)
    return FormError(source, question, f"{where}: {problem}" if where else problem)


def parse_form(text: str, *, source: str, fmt: Format) -> Form:
    """Read and validate a form; raise `FormError` naming the source and the question."""
    if fmt == "yaml":
        data = _read_yaml(text, source)
    elif fmt == "toml":
        data = _read_toml(text, source)
    else:
        raise FormError(source, None, f"unknown format '{fmt}'")
    if not isinstance(data, dict):
        raise FormError(source, None, "a form is a mapping of keys (id, version, questions, …)")
    try:
        return Form.model_validate(data)
    except ValidationError as error:
        raise _form_error(error, data, source) from None
