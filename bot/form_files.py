"""Reading outcome forms from files: the built-in ones shipped in `bot/forms`, and a folder of
custom ones (`APURI_FORMS_DIR`), where a form with a built-in form's id replaces it.

Every problem becomes a `FormError` that names the file, the question and what is wrong, so that
`apuri run` refuses to start on a broken form and `apuri forms check FILE` says why.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bot.domain.forms import Form, FormError
from bot.domain.forms.loader import fmt_of, parse_form
from bot.services.outcomes import FormCatalog

__all__ = ["builtin_forms", "load_catalog", "load_form_file"]

_BUILTIN_PACKAGE = "bot.forms"
_SUFFIXES = (".yaml", ".yml", ".toml")


def load_form_file(path: Path) -> Form:
    """Read and validate one form file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormError(
            source=str(path), question=None, problem=f"cannot read: {type(exc).__name__}"
        ) from exc
    return parse_form(text, source=str(path), fmt=fmt_of(path.name))


def builtin_forms() -> list[Form]:
    """Return the forms shipped with Apuri."""
    forms = []
    for entry in sorted(resources.files(_BUILTIN_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(_SUFFIXES):
            text = entry.read_text(encoding="utf-8")
            forms.append(parse_form(text, source=entry.name, fmt=fmt_of(entry.name)))
    return forms


def load_catalog(forms_dir: Path | None) -> FormCatalog:
    """Return the forms in use: the built-in ones, replaced or added to by `forms_dir`."""
    forms = {form.id: form for form in builtin_forms()}
    if forms_dir is not None:
        if not forms_dir.is_dir():
            raise FormError(source=str(forms_dir), question=None, problem="not a folder")
        custom: dict[str, Path] = {}
        for path in sorted(forms_dir.iterdir()):
            if path.suffix not in _SUFFIXES:
                continue
            form = load_form_file(path)
            if form.id in custom:
                raise FormError(
                    source=str(path),
                    question=None,
                    problem=f"form id '{form.id}' is used by {custom[form.id].name} too",
                )
            custom[form.id] = path
            forms[form.id] = form
    return FormCatalog(forms.values())
